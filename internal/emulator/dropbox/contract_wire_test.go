package dropbox

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Wire conventions (reference §1, §2) and the team routes (§8, §2.1).

func TestContractTeamGetInfo(t *testing.T) {
	e := newStdEnv(t)
	// admin, ann, uma active; bob invited; cat suspended; dan removed.
	e.expectResp(t, e.post("get_info", ""), 200, `{"name":"acme","team_id":"~^dbtid:","num_licensed_users":1000000,
		"num_provisioned_users":4,"num_used_licenses":4,
		"policies":{"sharing":{"shared_folder_member_policy":{".tag":"team"},"shared_folder_join_policy":{".tag":"from_anyone"},
		"shared_link_create_policy":{".tag":"team_only"},"group_creation_policy":{".tag":"admins_only"},"shared_folder_link_restriction_policy":{".tag":"anyone"},
		"enforce_link_password_policy":{".tag":"optional"},"default_link_expiration_days_policy":{".tag":"none"},
		"shared_link_default_permissions_policy":{".tag":"default"}},
		"emm_state":{".tag":"disabled"},"office_addin":{".tag":"disabled"},"suggest_members_policy":{".tag":"enabled"},"top_level_content_policy":{".tag":"admin_only"}}}`)
	e.expectResp(t, e.post("get_info", "{}"), 400, `Error in call to API function "team/get_info": request body: expected null, got value`)
}

func TestContractTeamFeatures(t *testing.T) {
	const route = "features/get_values"
	runCases(t, []apiCase{
		{name: "every feature, shorthand and object form", route: route,
			req:    `{"features":["upload_api_rate_limit",{".tag":"has_team_shared_dropbox"},"has_team_file_events","has_team_selective_sync","has_distinct_member_homes","future_feature"]}`,
			status: 200, want: `{"values":[
				{".tag":"upload_api_rate_limit","upload_api_rate_limit":{".tag":"limit","limit":25000}},
				{".tag":"has_team_shared_dropbox","has_team_shared_dropbox":{".tag":"has_team_shared_dropbox","has_team_shared_dropbox":false}},
				{".tag":"has_team_file_events","has_team_file_events":{".tag":"enabled","enabled":false}},
				{".tag":"has_team_selective_sync","has_team_selective_sync":{".tag":"has_team_selective_sync","has_team_selective_sync":false}},
				{".tag":"has_distinct_member_homes","has_distinct_member_homes":{".tag":"has_distinct_member_homes","has_distinct_member_homes":false}},
				{".tag":"other"}]}`},
		{name: "empty_features_list", route: route, req: `{"features":[]}`, status: 409, want: conflict("empty_features_list")},
		{name: "missing features", route: route, req: `{}`, status: 400, want: badBody(route, "missing required field 'features'")},
	})
}

func TestContractAuthenticatedAdmin(t *testing.T) {
	const route = "token/get_authenticated_admin"
	runCases(t, []apiCase{
		{name: "the admin the token acts for", route: route, status: 200,
			want: `{"admin_profile":{"team_member_id":"{admin}","account_id":"~^dbid:.{35}$","email":"admin@acme.example","email_verified":true,
				"secondary_emails":[],"status":{".tag":"active"},
				"name":{"given_name":"Team","surname":"Admin","familiar_name":"Team","display_name":"Team Admin","abbreviated_name":"TA"},
				"membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z","groups":[],"member_folder_id":"*","root_folder_id":"*"}}`},
		{name: "mapping_not_found", route: route, setup: func(e *env) { none := ""; _ = e.team.Configure(TeamSettings{AdminEmail: &none}) },
			status: 409, want: conflict("mapping_not_found")},
		{name: "admin_not_active", route: route, setup: func(e *env) { cat := "cat@acme.example"; _ = e.team.Configure(TeamSettings{AdminEmail: &cat}) },
			status: 409, want: conflict("admin_not_active")},
	})
}

// scopeOf is the reference's scope table (§2.2), written out independently
// of the emulator's route table.
var scopeOf = map[string]string{
	"members/add_v2": "members.write", "members/add/job_status/get_v2": "members.write", "members/list_v2": "members.read",
	"members/list/continue_v2": "members.read", "members/get_info_v2": "members.read", "members/get_available_team_member_roles": "members.read",
	"members/set_profile_v2": "members.write", "members/set_admin_permissions_v2": "members.write", "members/suspend": "members.write",
	"members/unsuspend": "members.write", "members/send_welcome_email": "members.write", "members/remove": "members.delete",
	"members/remove/job_status/get": "members.delete", "members/recover": "members.delete",
	"groups/create": "groups.write", "groups/get_info": "groups.read", "groups/list": "groups.read", "groups/list/continue": "groups.read",
	"groups/update": "groups.write", "groups/delete": "groups.write", "groups/job_status/get": "groups.write",
	"groups/members/add": "groups.write", "groups/members/remove": "groups.write", "groups/members/set_access_type": "groups.write",
	"groups/members/list": "groups.read", "groups/members/list/continue": "groups.read",
	"get_info": "team_info.read", "features/get_values": "team_info.read", "token/get_authenticated_admin": "team_info.read",
}

func TestContractScopesPerRoute(t *testing.T) {
	e := newEnv(t)
	if len(scopeOf) != len(routeTable()) {
		t.Fatalf("%d routes served, %d in the reference table", len(routeTable()), len(scopeOf))
	}
	for route, scope := range scopeOf {
		others := slices.DeleteFunc(AllScopes(), func(s string) bool { return s == scope })
		if err := e.srv.AddToken("acme", "without-"+scope, others); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.AddToken("acme", "only-"+scope, []string{scope}); err != nil {
			t.Fatal(err)
		}
		t.Run(route, func(t *testing.T) {
			r := e.do("POST", "/2/team/"+route, "without-"+scope, "application/json", "null")
			e.expectResp(t, r, 401, `{"error_summary":"missing_scope/..","error":{".tag":"missing_scope","required_scope":"`+scope+`"}}`)
			if r := e.do("POST", "/2/team/"+route, "only-"+scope, "application/json", "null"); r.status == 401 {
				t.Errorf("refused with its own scope: %s", r)
			}
		})
	}
}

func TestContractAuthErrors(t *testing.T) {
	e := newStdEnv(t)
	invalid := `{"error_summary":"invalid_access_token/..","error":{".tag":"invalid_access_token"}}`
	for _, tc := range []struct{ name, auth string }{
		{"no header", ""}, {"unknown token", "Bearer nope"}, {"not bearer", "Basic dG9rOg=="}, {"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.url+"/2/team/get_info", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			e.expectResp(t, resp{res.StatusCode, res.Header, string(b)}, 401, invalid)
		})
	}
	// The scheme is case-insensitive, as HTTP auth schemes are.
	if r := e.do("POST", "/2/team/get_info", "", "", ""); r.status != 401 {
		t.Fatal(r)
	}
	e.srv.ExpireToken(testToken)
	e.expectResp(t, e.post("get_info", ""), 401, `{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`)
}

func TestContractContentTypes(t *testing.T) {
	e := newStdEnv(t)
	body := `{"limit":1}`
	for _, tc := range []struct {
		ctype string
		ok    bool
	}{
		{"application/json", true}, {"application/json; charset=utf-8", true}, {"text/plain; charset=dropbox-cors-hack", true},
		{"text/plain", false}, {"application/x-www-form-urlencoded", false}, {"", false}, {"application/json; charset=latin1", false},
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			r := e.do("POST", "/2/team/members/list_v2", testToken, tc.ctype, body)
			if tc.ok {
				e.expectResp(t, r, 200, `{"members":"*","cursor":"*","has_more":true}`)
				return
			}
			e.expectResp(t, r, 400, `Error in call to API function "team/members/list_v2": Bad HTTP "Content-Type" header: "`+tc.ctype+`".  `+
				`Expecting one of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".`)
		})
	}
	// Void routes take no body and no content type (the Go SDK sends neither), or null.
	e.expectResp(t, e.do("POST", "/2/team/get_info", testToken, "", ""), 200, `{"name":"acme","team_id":"*","num_licensed_users":"*",
		"num_provisioned_users":"*","num_used_licenses":"*","policies":"*"}`)
	e.expectResp(t, e.do("POST", "/2/team/get_info", testToken, "application/json", "null"), 200, `{"name":"acme","team_id":"*","num_licensed_users":"*",
		"num_provisioned_users":"*","num_used_licenses":"*","policies":"*"}`)
}

func TestContractMalformedCalls(t *testing.T) {
	e := newStdEnv(t)
	for _, tc := range []struct{ name, route, body, want string }{
		{"not JSON", "members/list_v2", `{"limit":`, badBody("members/list_v2", "could not decode input as JSON")},
		{"empty body", "members/list_v2", ``, ""},
		{"a list, not an object", "members/list_v2", `[]`, badBody("members/list_v2", "expected object, got array")},
		{"wrong field type", "members/list_v2", `{"include_removed":"yes"}`, badBody("members/list_v2", "include_removed: expected bool, got string")},
		{"union tag of the wrong type", "members/suspend", `{"user":{".tag":5}}`, badBody("members/suspend", "user: missing required field '.tag'")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/2/team/"+tc.route, testToken, "application/json", tc.body)
			e.expectResp(t, r, 400, tc.want)
			if !strings.HasPrefix(r.body, `Error in call to API function "team/`+tc.route+`": `) {
				t.Errorf("body %q", r.body)
			}
		})
	}
	r := e.do("GET", "/2/team/members/list_v2", testToken, "", "")
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET: %s", r)
	}
	r = e.do("POST", "/2/team/members/list_v3", testToken, "application/json", "{}")
	if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(r.body, "team/members/list_v3") {
		t.Errorf("unknown route: %s", r)
	}
	// Unknown fields are ignored: newer clients send fields this spec may lack.
	e.expectResp(t, e.post("members/list_v2", `{"limit":1,"some_future_field":true}`), 200, `{"members":"*","cursor":"*","has_more":true}`)
}

func TestContractCallCounters(t *testing.T) {
	e := newStdEnv(t)
	e.post("members/list_v2", `{}`)
	e.post("members/list_v2", `{"limit":0}`) // answered 400: still a call
	e.do("POST", "/2/team/members/list_v2", "wrong", "application/json", "{}")
	if n := e.srv.Calls()["team/members/list_v2"]; n != 3 {
		t.Errorf("calls %d, want 3", n)
	}
	if st := e.team.Stats(); st.Calls != 2 || st.Writes != 0 || st.MaxRate != 2 {
		t.Errorf("team stats %+v: the unauthenticated call has no team", st)
	}
	e.srv.ResetCalls()
	if len(e.srv.Calls()) != 0 || e.team.Stats().Calls != 0 {
		t.Error("not reset")
	}
}
