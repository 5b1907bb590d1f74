package dropbox

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

const adminToken = "admin-secret"

func newAdminEnv(t *testing.T) *env {
	return newStdEnv(t, func(o *Options) { o.AdminToken = adminToken })
}

// admin calls the admin endpoint with the admin token.
func (e *env) admin(method, path, body string) resp {
	e.t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	return e.do(method, "/_emulator"+path, adminToken, ctype, e.expand(body))
}

func TestAdminEndpointIsSeparate(t *testing.T) {
	e := newAdminEnv(t)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", 401}, {"a team token", testToken, 401}, {"the admin token", adminToken, 200},
	} {
		if r := e.do("GET", "/_emulator/teams", tc.token, "", ""); r.status != tc.status {
			t.Errorf("%s: %s", tc.name, r)
		}
	}
	// The admin token is not a Team API token, and the Team API has no admin routes.
	e.expectResp(t, e.do("POST", "/2/team/get_info", adminToken, "", ""), 401, `{"error_summary":"invalid_access_token/..","error":{".tag":"invalid_access_token"}}`)
	if r := e.do("POST", "/2/team/_emulator/teams", testToken, "application/json", "{}"); r.status != 404 {
		t.Errorf("admin route under /2/: %s", r)
	}
	if _, err := New(Options{AdminToken: "same", Teams: []TeamConfig{{Name: "a", Token: "same"}}}); err == nil {
		t.Error("a team token equal to the admin token was accepted")
	}
	// Without an admin token the endpoint is open (in-process tests).
	open := newEnv(t)
	if r := open.do("GET", "/_emulator/teams", "", "", ""); r.status != 200 {
		t.Errorf("open admin endpoint: %s", r)
	}
}

func TestAdminSeedAndInspect(t *testing.T) {
	e := newAdminEnv(t)
	check := func(r resp, status int, want string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
		matchJSON(t, r.body, e.expand(want))
	}
	check(e.admin("GET", "/", ""), 200, `{"routes":"*"}`)
	check(e.admin("GET", "/nope", ""), 404, `{"error":"*"}`)
	check(e.admin("POST", "/teams", `{"name":"beta","token":"beta-tok","scopes":["team_info.read"],"licenses":7,"everyone_group":true,"admin_email":"boss@beta.example"}`),
		201, `{"name":"beta","team_id":"~^dbtid:"}`)
	check(e.admin("GET", "/teams", ""), 200, `{"teams":[{"name":"acme","team_id":"*"},{"name":"beta","team_id":"*"}]}`)
	if r := e.do("POST", "/2/team/get_info", "beta-tok", "", ""); r.status != 200 || !json.Valid([]byte(r.body)) {
		t.Fatalf("new team's token: %s", r)
	}
	check(e.admin("POST", "/teams/beta/members", `{"members":[{"email":"a@beta.example","given_name":"A","status":"active","files":["f.txt"]},{"email":"i@beta.example"}]}`),
		201, `{"team_member_ids":["~^dbmid:","~^dbmid:"]}`)
	check(e.admin("POST", "/teams/beta/members", `{"members":[{"email":"a@beta.example"}]}`), 400, `{"error":"*","team_member_ids":[]}`)
	check(e.admin("POST", "/teams/beta/members", `{"members":[{"email":"x@beta.example","colour":"red"}]}`), 400, `{"error":"*"}`)
	check(e.admin("GET", "/teams/beta/members/a@beta.example", ""), 200, `{"team_member_id":"*","account_id":"*","email":"a@beta.example","email_verified":true,
		"given_name":"A","surname":"","status":"active","joined_on":"*","member_folder_id":"*","root_folder_id":"*","files":["f.txt"]}`)
	check(e.admin("POST", "/teams/beta/files", `{"email":"a@beta.example","files":["g.txt"]}`), 200, `{"files":["f.txt","g.txt"]}`)
	check(e.admin("PATCH", "/teams/beta", `{"sso":"required","verified_domains":["beta.example"],"personal_accounts":{"p@beta.example":{"plan":"basic"}},"activate":["i@beta.example"]}`),
		200, `{"name":"beta","team_id":"*","licenses":7,"seats_used":3,"sso":"required","verified_domains":["beta.example"],"persistent_ids":false,
		"directory_restrictions":false,"external_sharing":true,"personal_accounts":{"p@beta.example":{"plan":"basic","account_id":"~^dbid:"}},
		"authenticated_admin":"*","members":null,"groups":"*","welcome_emails":null,"stats":"*"}`)
	check(e.admin("PATCH", "/teams/beta", `{"sso":"maybe"}`), 400, `{"error":"*"}`)
	check(e.admin("POST", "/teams/beta/groups", `{"name":"G","members":["a@beta.example"],"owners":["i@beta.example"]}`), 201, `{"group_id":"~^g:"}`)
	if g := e.srv.Team("beta").Snapshot().Groups; len(g) != 2 || g[1].Name != "G" || len(g[1].Owners) != 1 || !g[0].System || g[0].MemberCount != 3 {
		t.Errorf("groups %+v", g)
	}
	check(e.admin("POST", "/teams/beta/sso_sign_in", `{"email":"a@beta.example"}`), 409, `{"error":"*"}`)
	check(e.admin("POST", "/teams/acme/activate", `{"emails":["bob@acme.example"]}`), 200, `{"activated":["bob@acme.example"]}`)
	if m := e.member("bob@acme.example"); m.Status != StatusActive {
		t.Errorf("bob %s", m.Status)
	}
	e.mustPost("members/add_v2", `{"new_members":[{"member_email":"w@acme.example"}]}`)
	check(e.admin("GET", "/teams/acme/welcome_emails", ""), 200, `{"welcome_emails":[{"email":"w@acme.example","team_member_id":"~^dbmid:","at":"2025-06-01T12:00:00Z"}]}`)
	check(e.admin("GET", "/teams/nope", ""), 404, `{"error":"no team nope"}`)
	check(e.admin("GET", "/teams/acme?members=false", ""), 200, `{"name":"acme","team_id":"*","licenses":1000000,"seats_used":6,"sso":"disabled","verified_domains":null,
		"persistent_ids":false,"directory_restrictions":false,"external_sharing":true,"personal_accounts":{},"authenticated_admin":"{admin}","members":null,
		"groups":null,"welcome_emails":"*","stats":{"calls":1,"writes":1,"calls_per_route":{"team/members/add_v2":1},"answered_429":0,"answered_429_write_limit":0,
		"answered_5xx":0,"answers_lost":0,"max_calls_per_second":1,"max_writes_per_second":1,"calls_in_retry_after":0}}`)
}

func TestAdminTokensFaultsStatsClock(t *testing.T) {
	e := newAdminEnv(t)
	check := func(r resp, status int, want string) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
		}
		matchJSON(t, r.body, e.expand(want))
	}
	check(e.admin("POST", "/teams/acme/tokens", `{"token":"ro","scopes":["members.read"]}`), 201, `{"token":"ro","scopes":["members.read"]}`)
	check(e.admin("POST", "/teams/ghost/tokens", `{"token":"x"}`), 400, `{"error":"*"}`)
	if r := e.do("POST", "/2/team/members/suspend", "ro", "application/json", `{"user":`+sel("ann@acme.example")+`}`); r.status != 401 {
		t.Errorf("scoped token: %s", r)
	}
	check(e.admin("POST", "/tokens/expire", `{"token":"ro"}`), 200, `{"expired":"ro"}`)
	e.expectResp(t, e.do("POST", "/2/team/members/list_v2", "ro", "application/json", "{}"), 401,
		`{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`)

	check(e.admin("PUT", "/faults", `{"spec":"rate429=1,retry_after=5"}`), 200, `{"spec":"rate429=1,retry_after=5"}`)
	check(e.admin("GET", "/faults", ""), 200, `{"spec":"rate429=1,retry_after=5"}`)
	if r := e.post("get_info", ""); r.status != 429 || r.header.Get("Retry-After") != "5" {
		t.Errorf("fault not applied: %s", r)
	}
	check(e.admin("PUT", "/faults", `{"spec":"rate429=7"}`), 400, `{"error":"*"}`)
	check(e.admin("PUT", "/faults", `{"spec":""}`), 200, `{"spec":""}`)
	check(e.admin("GET", "/stats", ""), 200, `{"calls":{"team/get_info":1,"team/members/list_v2":1,"team/members/suspend":1},
		"teams":{"acme":{"calls":1,"writes":0,"calls_per_route":{"team/get_info":1},"answered_429":1,"answered_429_write_limit":0,
		"answered_5xx":0,"answers_lost":0,"max_calls_per_second":1,"max_writes_per_second":0,"calls_in_retry_after":0}}}`)
	check(e.admin("DELETE", "/stats", ""), 200, `{"reset":"ok"}`)
	check(e.admin("GET", "/stats", ""), 200, `{"calls":{},"teams":{"acme":{"calls":0,"writes":0,"calls_per_route":{},"answered_429":0,
		"answered_429_write_limit":0,"answered_5xx":0,"answers_lost":0,"max_calls_per_second":0,"max_writes_per_second":0,"calls_in_retry_after":0}}}`)

	check(e.admin("POST", "/clock", `{"advance":"168h"}`), 200, `{"now":"2025-06-08T12:00:00Z","offset":"168h0m0s"}`)
	check(e.admin("GET", "/clock", ""), 200, `{"now":"2025-06-08T12:00:00Z","offset":"168h0m0s"}`)
	check(e.admin("POST", "/clock", `{"advance":"-1h"}`), 400, `{"error":"*"}`)
	e.expectResp(t, e.post("members/recover", `{"user":{".tag":"team_member_id","team_member_id":"{dan}"}}`), 409, conflict("user_unrecoverable"))

	check(e.admin("POST", "/oauth/clients", `{"client_id":"c1","client_secret":"s1"}`), 201, `{"client_id":"c1"}`)
	check(e.admin("POST", "/oauth/clients", `{"client_id":"c1"}`), 400, `{"error":"*"}`)
	check(e.admin("POST", "/save", ""), 409, `{"error":"no state file configured"}`)
}

func TestAdminSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	e := newEnv(t, func(o *Options) { o.StateFile, o.SaveInterval = path, time.Hour })
	if r := e.do("POST", "/_emulator/save", "", "", ""); r.status != 200 {
		t.Fatal(r)
	}
	s, err := New(Options{StateFile: path})
	must(t, err)
	defer s.Close()
	if s.Team("acme") == nil {
		t.Error("saved state lacks the team")
	}
}
