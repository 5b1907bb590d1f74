package dropbox

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runOn serves an emulator built from opt until the returned stop is called;
// stop drains the HTTP server, then closes the emulator (its final save).
func runOn(t *testing.T, opt Options) (*Server, *env, func()) {
	t.Helper()
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	e := &env{t: t, srv: srv, url: hs.URL, team: srv.Team("acme"), ids: map[string]string{}}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			hs.Close()
			must(t, srv.Close())
		}
	}
	t.Cleanup(stop)
	return srv, e, stop
}

// comparable state: a snapshot without the call counters, which are not state.
func stateJSON(t *testing.T, tm *Team) string {
	sn := tm.Snapshot()
	sn.Stats = Stats{}
	b, err := json.Marshal(sn)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emu.json")
	opt := Options{Teams: []TeamConfig{{Name: "acme", Token: testToken, EveryoneGroup: true}, {Name: "other", Token: "tok2", Scopes: []string{"members.read"}}},
		Now: func() time.Time { return t0 }, StateFile: path, OAuthClients: map[string]string{"app": "secret"}, Faults: Faults{JobPolls: 3}}
	_, e, stop := runOn(t, opt)
	e.ids["admin"] = e.team.Snapshot().AdminID

	// A bit of everything.
	e.seed(SeedMember{Email: "ann@acme.example", ExternalID: "ext-ann", Status: "active", Files: []string{"a.txt"}},
		SeedMember{Email: "uma@acme.example", Status: "active", Role: "User management admin"},
		SeedMember{Email: "dan@acme.example", Status: "active", Files: []string{"d.txt"}})
	must(t, e.team.Configure(TeamSettings{Domains: []string{"acme.example"}, SSO: ptr("required"),
		Personal: map[string]Personal{"pat@acme.example": {Plan: "pro", Files: []string{"p.txt"}}}}))
	e.mustPost("members/add_v2", `{"new_members":[{"member_email":"pat@acme.example","member_given_name":"Pat"},{"member_email":"quiet@acme.example","send_welcome_email":false}]}`)
	g := e.mustPost("groups/create", `{"group_name":"Eng","group_external_id":"dir-eng"}`)
	e.ids["eng"] = g["group_id"].(string)
	e.mustPost("groups/members/add", `{"group":{".tag":"group_id","group_id":"{eng}"},"members":[{"user":`+sel("ann@acme.example")+`,"access_type":"owner"},{"user":`+sel("pat@acme.example")+`,"access_type":"member"}]}`)
	e.mustPost("members/set_profile_v2", `{"user":`+sel("ann@acme.example")+`,"new_given_name":"Ann","new_external_id":"ext-ann2"}`)
	e.mustPost("members/remove", `{"user":`+sel("dan@acme.example")+`}`) // recoverable
	e.everyKindOfState()
	launch := e.mustPost("members/remove", `{"user":`+sel("uma@acme.example")+`,"transfer_dest_id":`+sel("ann@acme.example")+`,"transfer_admin_id":`+sel("admin@acme.example")+`}`)
	job := jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})
	e.expectResp(t, e.post("members/remove/job_status/get", job), 200, `{".tag":"in_progress"}`)
	e.srv.Advance(48 * time.Hour)
	page := e.mustPost("members/list_v2", `{"limit":2}`)
	before, beforeOther := stateJSON(t, e.team), stateJSON(t, e.srv.Team("other"))
	listBefore := e.post("members/list/continue_v2", jsonOf(map[string]any{"cursor": page["cursor"]})).body
	stop()

	// Restart on the same file: same state, same answers, cursors and jobs carry on.
	srv2, e2, _ := runOn(t, opt)
	if got := stateJSON(t, e2.team); got != before {
		t.Fatalf("state changed across the restart:\n before %s\n after  %s", before, got)
	}
	if got := stateJSON(t, srv2.Team("other")); got != beforeOther {
		t.Errorf("second team changed:\n before %s\n after  %s", beforeOther, got)
	}
	if got := e2.post("members/list/continue_v2", jsonOf(map[string]any{"cursor": page["cursor"]})).body; got != listBefore {
		t.Errorf("a cursor from before the restart pages differently:\n %s\n %s", listBefore, got)
	}
	e2.expectResp(t, e2.post("members/remove/job_status/get", job), 200, `{".tag":"in_progress"}`)
	if srv2.Now() != t0.Add(48*time.Hour) {
		t.Errorf("clock %v", srv2.Now())
	}
	// Indexes are rebuilt: lookups, uniqueness and the recovery window still work.
	e2.ids = e.ids
	e2.expectResp(t, e2.post("members/get_info_v2", `{"members":[{".tag":"external_id","external_id":"ext-ann2"}]}`), 200, `{"members_info":[{".tag":"member_info","profile":"*"}]}`)
	e2.expectResp(t, e2.post("members/add_v2", `{"new_members":[{"member_email":"dan@acme.example"},{"member_email":"x@acme.example","member_external_id":"ext-ann2"}]}`), 200,
		`{".tag":"complete","complete":[{".tag":"user_already_on_team","user_already_on_team":"dan@acme.example"},{".tag":"duplicate_external_member_id","duplicate_external_member_id":"x@acme.example"}]}`)
	e2.expectResp(t, e2.post("groups/create", `{"group_name":"eng"}`), 409, conflict("group_name_already_used"))
	e2.expectResp(t, e2.post("members/recover", `{"user":`+sel("dan@acme.example")+`}`), 200, `null`)
	e2.checkEveryKindOfState(t)
	// Scoped tokens and OAuth clients survive too.
	if r := e2.do("POST", "/2/team/get_info", "tok2", "", ""); r.status != 401 {
		t.Errorf("scoped token after restart: %s", r)
	}
	if !srv2.clientOK("app", "secret", true) {
		t.Error("OAuth client lost")
	}
}

func ptr[T any](v T) *T { return &v }

// everyKindOfState adds what the restart test's first part lacks: a
// suspended member under legal hold, an active support admin, a kept
// (disconnected) account, persistent ids and directory restrictions, changed
// licences and sharing, a company-managed group with an owner, a deleted
// group, and an expired token.
func (e *env) everyKindOfState() {
	e.t.Helper()
	must(e.t, e.team.Configure(TeamSettings{Licenses: ptr(50), PersistentIDs: ptr(true), DirRestrictions: ptr(true)}))
	e.seed(SeedMember{Email: "cat@acme.example", Status: "suspended", LegalHold: true, Files: []string{"c.txt"}},
		SeedMember{Email: "sue@acme.example", Status: "active", Role: "Support admin"},
		SeedMember{Email: "kim@acme.example", Status: "active", Files: []string{"k.txt"}})
	e.mustPost("members/add_v2", `{"new_members":[{"member_email":"pia@acme.example","member_persistent_id":"saml-pia","is_directory_restricted":true}]}`)
	e.mustPost("members/remove", `{"user":`+sel("kim@acme.example")+`,"wipe_data":false,"keep_account":true}`)
	ops := e.mustPost("groups/create", `{"group_name":"Ops","group_management_type":"company_managed"}`)
	e.ids["ops"] = ops["group_id"].(string)
	e.mustPost("groups/members/add", `{"group":{".tag":"group_id","group_id":"{ops}"},"members":[{"user":`+sel("sue@acme.example")+`,"access_type":"member"}]}`)
	old := e.mustPost("groups/create", `{"group_name":"Old","group_external_id":"dir-old"}`)
	e.mustPost("groups/delete", jsonOf(map[string]string{".tag": "group_id", "group_id": old["group_id"].(string)}))
	must(e.t, e.team.Configure(TeamSettings{ExternalSharing: ptr(false)}))
	must(e.t, e.srv.AddToken("acme", "old-token", nil))
	e.srv.ExpireToken("old-token")
}

// checkEveryKindOfState checks, through the API, that what everyKindOfState
// made still behaves after the restart.
func (e *env) checkEveryKindOfState(t *testing.T) {
	e.expectResp(t, e.post("members/get_info_v2", `{"members":[`+sel("sue@acme.example")+`,`+sel("pia@acme.example")+`]}`), 200,
		`{"members_info":[{".tag":"member_info","profile":"*","roles":[{"role_id":"`+RoleID("Support admin")+`","name":"Support admin","description":"*"}]},
		{".tag":"member_info","profile":{"team_member_id":"*","account_id":"*","email":"pia@acme.example","email_verified":false,"secondary_emails":[],
		"status":{".tag":"invited"},"name":"*","membership_type":"*","invited_on":"*","persistent_id":"saml-pia","is_directory_restricted":true,
		"groups":"*","member_folder_id":"*","root_folder_id":"*"}}]}`)
	e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"pia2@acme.example","member_persistent_id":"saml-pia"}]}`), 200,
		`{".tag":"complete","complete":[{".tag":"duplicate_member_persistent_id","duplicate_member_persistent_id":"pia2@acme.example"}]}`)
	e.expectResp(t, e.post("members/remove", `{"user":`+sel("cat@acme.example")+`,"wipe_data":false,"keep_account":true}`), 409,
		conflict("cannot_keep_account_under_legal_hold"))
	e.expectResp(t, e.post("members/remove", `{"user":`+sel("sue@acme.example")+`,"wipe_data":false,"keep_account":true,"retain_team_shares":true}`), 409,
		conflict("cannot_retain_shares_when_team_external_sharing_off"))
	e.expectResp(t, e.post("members/unsuspend", `{"user":`+sel("cat@acme.example")+`}`), 200, `null`)
	e.expectResp(t, e.post("groups/members/set_access_type", `{"group":{".tag":"group_id","group_id":"{ops}"},"user":`+sel("sue@acme.example")+`,"access_type":"owner"}`), 409,
		conflict("user_cannot_be_manager_of_company_managed_group"))
	e.expectResp(t, e.post("groups/create", `{"group_name":"Old","group_external_id":"dir-old"}`), 200, `"*"`)
	if m := e.member(e.ids["kim"]); !m.Disconnected || m.Status != StatusRemoved {
		t.Errorf("kept account %+v", m)
	}
	if sn := e.team.Snapshot(); sn.Licenses != 50 || sn.ExternalSharing || !sn.PersistentIDs || !sn.DirRestrictions {
		t.Errorf("settings %+v", sn)
	}
	e.expectResp(t, e.do("POST", "/2/team/get_info", "old-token", "", ""), 401, `{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`)
}

func TestStateSavedSoonAfterAChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emu.json")
	_, e, _ := runOn(t, Options{Teams: []TeamConfig{{Name: "acme", Token: testToken}}, StateFile: path, SaveInterval: 10 * time.Millisecond})
	e.mustPost("members/add_v2", `{"new_members":[{"member_email":"early@acme.example"}]}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), "early@acme.example") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change never reached the state file without Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A clean stop drains the HTTP server first, so every answered write is in
// the file, however long the save interval.
func TestCleanStopKeepsAnsweredWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emu.json")
	opt := Options{Teams: []TeamConfig{{Name: "acme", Token: testToken}}, StateFile: path, SaveInterval: time.Hour}
	srv, err := New(opt)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	e := &env{t: t, srv: srv, url: "http://" + ln.Addr().String(), team: srv.Team("acme"), ids: map[string]string{}}
	for i := range 20 {
		e.mustPost("members/add_v2", jsonOf(map[string]any{"new_members": []map[string]string{{"member_email": "m" + string(rune('a'+i)) + "@acme.example"}}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, hs.Shutdown(ctx))
	must(t, srv.Close())
	again, err := New(opt)
	must(t, err)
	defer again.Close()
	if n := len(again.Team("acme").Snapshot().Members); n != 21 {
		t.Errorf("%d members after the restart, want 21", n)
	}
}

func TestStateFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"garbage": "{not json", "version": `{"version":99}`} {
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(content), 0o600))
		if _, err := New(Options{StateFile: path}); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	// No file yet is a fresh start.
	s, err := New(Options{StateFile: filepath.Join(dir, "fresh.json"), Teams: []TeamConfig{{Name: "a", Token: "t"}}})
	must(t, err)
	must(t, s.Close())
	if _, err := os.Stat(filepath.Join(dir, "fresh.json")); err != nil {
		t.Errorf("Close did not save: %v", err)
	}
}
