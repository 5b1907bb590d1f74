package dropbox

import (
	"slices"
	"strings"
	"testing"
)

// Contract tests for the member routes, written from the reference (§5) as
// raw JSON requests and literal answers.

func TestContractMembersAddV2(t *testing.T) {
	const route = "members/add_v2"
	runCases(t, []apiCase{
		{
			name:  "success with every field and role, then minimal without welcome email",
			route: route,
			req: `{"new_members":[{"member_email":"tom.s@acme.example","member_given_name":"Tom","member_surname":"Silverstone",
				"member_external_id":"company_id:342432","send_welcome_email":true,"role_ids":["pid_dbtmr:AAAAAGDkFh1GwH0y1OjcXEoU2ZsuzEeRzGMRp3kYr7Q7"]},
				{"member_email":"quiet@acme.example","send_welcome_email":false}],"force_async":false}`,
			status: 200,
			want: `{".tag":"complete","complete":[
				{".tag":"success","profile":{"team_member_id":"~^dbmid:.{34}$","account_id":"~^dbid:.{35}$","email":"tom.s@acme.example",
					"email_verified":false,"external_id":"company_id:342432","secondary_emails":[],"status":{".tag":"invited"},
					"name":{"given_name":"Tom","surname":"Silverstone","familiar_name":"Tom","display_name":"Tom Silverstone","abbreviated_name":"TS"},
					"membership_type":{".tag":"full"},"invited_on":"2025-06-01T12:00:00Z","groups":[],
					"member_folder_id":"~^[0-9]+$","root_folder_id":"~^[0-9]+$"},"roles":[` + umaRole + `]},
				{".tag":"success","profile":{"team_member_id":"~^dbmid:","account_id":"~^dbid:","email":"quiet@acme.example",
					"email_verified":false,"secondary_emails":[],"status":{".tag":"invited"},
					"name":{"given_name":"","surname":"","familiar_name":"","display_name":"","abbreviated_name":""},
					"membership_type":{".tag":"full"},"invited_on":"2025-06-01T12:00:00Z","groups":[],
					"member_folder_id":"*","root_folder_id":"*"}}]}`,
			check: func(t *testing.T, e *env) {
				w := e.team.WelcomeEmails()
				if len(w) != 1 || w[0].Email != "tom.s@acme.example" {
					t.Errorf("welcome emails %+v, want only tom.s", w)
				}
				if m := e.member("tom.s@acme.example"); m.Status != StatusInvited || m.RoleID != RoleID("User management admin") {
					t.Errorf("stored %+v", m)
				}
			},
		},
		{
			name:  "per-member failures come back in the 200, each with the email",
			route: route,
			setup: func(e *env) {
				_ = e.team.Configure(TeamSettings{Personal: map[string]Personal{"paired@acme.example": {Plan: "pro", Paired: true}}})
			},
			req: `{"new_members":[{"member_email":"ANN@acme.example"},{"member_email":"new@acme.example","member_external_id":"ext-ann"},
				{"member_email":"dan@acme.example"},{"member_email":"p@acme.example","member_persistent_id":"pid-1"},
				{"member_email":"r@acme.example","role_ids":["pid_dbtmr:nope"]},{"member_email":"paired@acme.example"},
				{"member_email":"ok@acme.example"}]}`,
			status: 200,
			want: `{".tag":"complete","complete":[
				{".tag":"user_already_on_team","user_already_on_team":"ANN@acme.example"},
				{".tag":"duplicate_external_member_id","duplicate_external_member_id":"new@acme.example"},
				{".tag":"user_already_on_team","user_already_on_team":"dan@acme.example"},
				{".tag":"persistent_id_disabled","persistent_id_disabled":"p@acme.example"},
				{".tag":"user_creation_failed","user_creation_failed":"r@acme.example"},
				{".tag":"user_already_paired","user_already_paired":"paired@acme.example"},
				{".tag":"success","profile":"*"}]}`,
			check: func(t *testing.T, e *env) {
				if _, ok := e.team.Member("new@acme.example"); ok {
					t.Error("a refused member was added")
				}
			},
		},
		{
			name:   "licence limit: invited, active and suspended members hold seats",
			route:  route,
			setup:  func(e *env) { lic := 5; _ = e.team.Configure(TeamSettings{Licenses: &lic}) }, // admin, ann, bob, cat, uma
			req:    `{"new_members":[{"member_email":"x@acme.example"}]}`,
			status: 200,
			want:   `{".tag":"complete","complete":[{".tag":"team_license_limit","team_license_limit":"x@acme.example"}]}`,
		},
		{
			name:   "duplicate persistent id",
			route:  route,
			setup:  func(e *env) { on := true; _ = e.team.Configure(TeamSettings{PersistentIDs: &on}) },
			req:    `{"new_members":[{"member_email":"p1@acme.example","member_persistent_id":"P"},{"member_email":"p2@acme.example","member_persistent_id":"P"}]}`,
			status: 200,
			want:   `{".tag":"complete","complete":[{".tag":"success","profile":"*"},{".tag":"duplicate_member_persistent_id","duplicate_member_persistent_id":"p2@acme.example"}]}`,
		},
		{
			name:   "force_async answers a job id",
			route:  route,
			req:    `{"new_members":[{"member_email":"x@acme.example"}],"force_async":true}`,
			status: 200,
			want:   `{".tag":"async_job_id","async_job_id":"~^dbjid:.{40,}$"}`,
			check: func(t *testing.T, e *env) {
				if _, ok := e.team.Member("x@acme.example"); !ok {
					t.Error("the job's members are not on the team")
				}
			},
		},
		{name: "empty list", route: route, req: `{"new_members":[]}`, status: 200, want: `{".tag":"complete","complete":[]}`},
		{name: "more than 20", route: route, req: `{"new_members":[` + strings.Repeat(`{"member_email":"a@b.com"},`, 20) + `{"member_email":"a@b.com"}]}`,
			status: 400, want: badBody(route, "new_members: 21 items exceeds limit of 20")},
		{name: "invalid email", route: route, req: `{"new_members":[{"member_email":"not-an-email"}]}`, status: 400,
			want: badBody(route, `new_members[0]: member_email: 'not-an-email' did not match pattern '^['#&A-Za-z0-9._%+-]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$'`)},
		{name: "forbidden name character", route: route, req: `{"new_members":[{"member_email":"a@b.com","member_given_name":"a/b"}]}`, status: 400,
			want: badBody(route, `new_members[0]: member_given_name: 'a/b' did not match pattern '[^/:?*<>"|]*'`)},
		{name: "surname over 50", route: route, req: `{"new_members":[{"member_email":"a@b.com","member_surname":"` + strings.Repeat("x", 51) + `"}]}`, status: 400,
			want: badBody(route, "new_members[0]: member_surname: '"+strings.Repeat("x", 51)+"' must be at most 50 characters, got 51")},
		{name: "external id over 64", route: route, req: `{"new_members":[{"member_email":"a@b.com","member_external_id":"` + strings.Repeat("e", 65) + `"}]}`, status: 400,
			want: badBody(route, "new_members[0]: member_external_id: '"+strings.Repeat("e", 65)+"' must be at most 64 characters, got 65")},
		{name: "two role ids", route: route, req: `{"new_members":[{"member_email":"a@b.com","role_ids":["pid_dbtmr:a","pid_dbtmr:b"]}]}`, status: 400,
			want: badBody(route, "new_members[0]: role_ids: 2 items exceeds limit of 1")},
		{name: "role id pattern", route: route, req: `{"new_members":[{"member_email":"a@b.com","role_ids":["admin"]}]}`, status: 400,
			want: badBody(route, "new_members[0]: role_ids: 'admin' did not match pattern '^pid_dbtmr:.*$'")},
		{name: "missing new_members", route: route, req: `{}`, status: 400, want: badBody(route, "missing required field 'new_members'")},
		{name: "missing member_email", route: route, req: `{"new_members":[{"member_given_name":"A"}]}`, status: 400,
			want: badBody(route, "new_members[0]: missing required field 'member_email'")},
		{name: "wrong type", route: route, req: `{"new_members":[{"member_email":5}]}`, status: 400,
			want: badBody(route, "new_members.member_email: expected string, got number")},
	})
}

func TestContractMembersAddJobStatus(t *testing.T) {
	e := newStdEnv(t)
	e.srv.SetFaults(Faults{JobPolls: 1})
	launch := e.mustPost("members/add_v2", `{"new_members":[{"member_email":"x@acme.example","member_given_name":"X"}],"force_async":true}`)
	job := jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})
	e.expectResp(t, e.post("members/add/job_status/get_v2", job), 200, `{".tag":"in_progress"}`)
	e.expectResp(t, e.post("members/add/job_status/get_v2", job), 200,
		`{".tag":"complete","complete":[{".tag":"success","profile":"*"}]}`)
	// A finished job keeps answering complete.
	e.expectResp(t, e.post("members/add/job_status/get_v2", job), 200, `{".tag":"complete","complete":[{".tag":"success","profile":"*"}]}`)
	// A job of another kind is not an add job.
	rm := e.mustPost("members/remove", `{"user":{".tag":"email","email":"ann@acme.example"},"transfer_dest_id":{".tag":"email","email":"uma@acme.example"},
		"transfer_admin_id":{".tag":"email","email":"uma@acme.example"},"wipe_data":false}`)
	e.expectResp(t, e.post("members/add/job_status/get_v2", jsonOf(map[string]any{"async_job_id": rm["async_job_id"]})), 409, conflict("invalid_async_job_id"))
	e.expectResp(t, e.post("members/add/job_status/get_v2", `{"async_job_id":"dbjid:nope"}`), 409, conflict("invalid_async_job_id"))
	e.expectResp(t, e.post("members/add/job_status/get_v2", `{"async_job_id":""}`), 400,
		badBody("members/add/job_status/get_v2", "async_job_id: '' must be at least 1 characters, got 0"))
	e.expectResp(t, e.post("members/add/job_status/get_v2", `{}`), 400, badBody("members/add/job_status/get_v2", "missing required field 'async_job_id'"))
}

func TestContractMembersListV2(t *testing.T) {
	e := newStdEnv(t)
	// admin, ann, bob, cat, uma are current; dan is removed.
	first := e.post("members/list_v2", `{"limit":2}`)
	e.expectResp(t, first, 200, `{"members":[{"profile":{"team_member_id":"{admin}","account_id":"*","email":"admin@acme.example","email_verified":true,
		"secondary_emails":[],"status":{".tag":"active"},
		"name":{"given_name":"Team","surname":"Admin","familiar_name":"Team","display_name":"Team Admin","abbreviated_name":"TA"},
		"membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z","groups":[],"member_folder_id":"*","root_folder_id":"*"},
		"roles":[`+teamRole+`]},{"profile":`+annProfile+`}],"cursor":"~.+","has_more":true}`)
	var emails []string
	cur := first
	for {
		var page struct {
			Members []struct {
				Profile struct{ Email string }
			}
			Cursor  string
			HasMore bool `json:"has_more"`
		}
		decode(t, cur.body, &page)
		for _, m := range page.Members {
			emails = append(emails, m.Profile.Email)
		}
		if !page.HasMore {
			break
		}
		cur = e.post("members/list/continue_v2", jsonOf(map[string]string{"cursor": page.Cursor}))
		if cur.status != 200 {
			t.Fatal(cur)
		}
	}
	want := []string{"admin@acme.example", "ann@acme.example", "bob@acme.example", "cat@acme.example", "uma@acme.example"}
	if !slices.Equal(emails, want) {
		t.Errorf("listed %v, want %v", emails, want)
	}

	// include_removed shows dan as removed and recoverable; the cursor still comes back.
	e.expectResp(t, e.post("members/list_v2", `{"limit":1000,"include_removed":true}`), 200,
		`{"members":["*","*","*","*","*",{"profile":{"team_member_id":"{dan}","account_id":"*","email":"dan@acme.example","email_verified":true,
		"external_id":"ext-dan","secondary_emails":[],"status":{".tag":"removed","is_recoverable":true,"is_disconnected":false},
		"name":"*","membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z","groups":[],"member_folder_id":"*","root_folder_id":"*"}}],
		"cursor":"~.+","has_more":false}`)
	// Roles are omitted for plain members, present for admins.
	e.expectResp(t, e.post("members/list_v2", `{}`), 200, `{"members":[{"profile":"*","roles":[`+teamRole+`]},{"profile":"*"},{"profile":"*"},{"profile":"*"},
		{"profile":"*","roles":[`+umaRole+`]}],"cursor":"*","has_more":false}`)

	for _, tc := range []struct{ name, route, req, want string }{
		{"limit 0", "members/list_v2", `{"limit":0}`, badBody("members/list_v2", "limit: 0 is not within range [1, 1000]")},
		{"limit 1001", "members/list_v2", `{"limit":1001}`, badBody("members/list_v2", "limit: 1001 is not within range [1, 1000]")},
		{"limit not a number", "members/list_v2", `{"limit":"10"}`, badBody("members/list_v2", "limit: expected integer, got string")},
		{"missing cursor", "members/list/continue_v2", `{}`, badBody("members/list/continue_v2", "missing required field 'cursor'")},
	} {
		t.Run(tc.name, func(t *testing.T) { e.expectResp(t, e.post(tc.route, tc.req), 400, tc.want) })
	}
	groups := e.mustPost("groups/list", `{}`)
	for _, c := range []string{"garbage", "", groups["cursor"].(string)} {
		e.expectResp(t, e.post("members/list/continue_v2", jsonOf(map[string]string{"cursor": c})), 409, conflict("invalid_cursor"))
	}
}

func TestContractMembersGetInfoV2(t *testing.T) {
	const route = "members/get_info_v2"
	runCases(t, []apiCase{
		{
			name:  "by id, email (any case), external id; unknown and removed are id_not_found",
			route: route,
			req: `{"members":[{".tag":"team_member_id","team_member_id":"{ann}"},{".tag":"email","email":"BOB@acme.example"},
				{".tag":"external_id","external_id":"ext-ann"},{".tag":"email","email":"nobody@acme.example"},
				{".tag":"team_member_id","team_member_id":"{dan}"},{".tag":"external_id","external_id":"ext-dan"}]}`,
			status: 200,
			want: `{"members_info":[{".tag":"member_info","profile":` + annProfile + `},{".tag":"member_info","profile":` + bobProfile + `},
				{".tag":"member_info","profile":` + annProfile + `},{".tag":"id_not_found","id_not_found":"nobody@acme.example"},
				{".tag":"id_not_found","id_not_found":"{dan}"},{".tag":"id_not_found","id_not_found":"ext-dan"}]}`,
		},
		{name: "admin carries roles", route: route, req: `{"members":[{".tag":"email","email":"uma@acme.example"}]}`, status: 200,
			want: `{"members_info":[{".tag":"member_info","profile":"*","roles":[` + umaRole + `]}]}`},
		{name: "empty list", route: route, req: `{"members":[]}`, status: 200, want: `{"members_info":[]}`},
		{name: "unknown selector tag", route: route, req: `{"members":[{".tag":"name","name":"Ann"}]}`, status: 400,
			want: badBody(route, "members[0]: unknown tag 'name'")},
		{name: "selector without value", route: route, req: `{"members":[{".tag":"email"}]}`, status: 400,
			want: badBody(route, "members[0]: missing required field 'email'")},
		{name: "selector email pattern", route: route, req: `{"members":[{".tag":"email","email":"x"}]}`, status: 400,
			want: badBody(route, `members[0]: email: 'x' did not match pattern '^['#&A-Za-z0-9._%+-]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$'`)},
		{name: "missing members", route: route, req: `{}`, status: 400, want: badBody(route, "missing required field 'members'")},
		{name: "not JSON", route: route, req: `{"members":`, status: 400, want: badBody(route, "could not decode input as JSON")},
	})
}

func TestContractMembersRoles(t *testing.T) {
	e := newStdEnv(t)
	want := `{"roles":[` + teamRole + `,` + umaRole + `,
		{"role_id":"pid_dbtmr:AAAAAKx2JaVdX9yTPhPfn4uPHSRU0bXm7eNk06GuHSn1","name":"Support admin","description":"Help team members with general tasks"},
		{"role_id":"pid_dbtmr:AAAAAOp1BnK8F2g5Zt4mYcQvL3xW6eRuJa9HdS0iTb4C","name":"Billing admin","description":"Make payments and renew contracts"}]}`
	e.expectResp(t, e.post("members/get_available_team_member_roles", ""), 200, want)
	e.expectResp(t, e.post("members/get_available_team_member_roles", "null"), 200, want)
	e.expectResp(t, e.post("members/get_available_team_member_roles", "{}"), 400,
		`Error in call to API function "team/members/get_available_team_member_roles": request body: expected null, got value`)
}

func TestContractMembersSetProfileV2(t *testing.T) {
	const route = "members/set_profile_v2"
	sel := `"user":{".tag":"team_member_id","team_member_id":"{ann}"}`
	runCases(t, []apiCase{
		{
			name:   "change email and names, clear the external id",
			route:  route,
			req:    `{` + sel + `,"new_email":"ann.a@acme.example","new_given_name":"Anna","new_surname":"","new_external_id":""}`,
			status: 200,
			want: `{"member_info":{"profile":{"team_member_id":"{ann}","account_id":"*","email":"ann.a@acme.example","email_verified":true,
				"secondary_emails":[],"status":{".tag":"active"},
				"name":{"given_name":"Anna","surname":"","familiar_name":"Anna","display_name":"Anna","abbreviated_name":"A"},
				"membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z","groups":[],"member_folder_id":"*","root_folder_id":"*"}}}`,
			check: func(t *testing.T, e *env) {
				e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"ann@acme.example"},{".tag":"external_id","external_id":"ext-ann"}]}`),
					200, `{"members_info":[{".tag":"id_not_found","id_not_found":"ann@acme.example"},{".tag":"id_not_found","id_not_found":"ext-ann"}]}`)
				// The old email is free again.
				e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"ann@acme.example"}]}`), 200,
					`{".tag":"complete","complete":[{".tag":"success","profile":"*"}]}`)
			},
		},
		{name: "invited members can be updated", route: route, req: `{"user":{".tag":"email","email":"bob@acme.example"},"new_external_id":"ext-bob"}`,
			status: 200, want: `{"member_info":{"profile":"*"}}`,
			check: func(t *testing.T, e *env) {
				if m := e.member("bob@acme.example"); m.ExternalID != "ext-bob" || m.Status != StatusInvited {
					t.Errorf("%+v", m)
				}
			}},
		{name: "user_not_found", route: route, req: `{"user":{".tag":"email","email":"no@acme.example"},"new_given_name":"X"}`, status: 409, want: conflict("user_not_found")},
		{name: "set_profile_disallowed for a removed member", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{dan}"},"new_given_name":"X"}`,
			status: 409, want: conflict("set_profile_disallowed")},
		{name: "external_id_and_new_external_id_unsafe", route: route, req: `{"user":{".tag":"external_id","external_id":"ext-ann"},"new_external_id":"x"}`,
			status: 409, want: conflict("external_id_and_new_external_id_unsafe")},
		{name: "no_new_data_specified", route: route, req: `{` + sel + `}`, status: 409, want: conflict("no_new_data_specified")},
		{name: "param_cannot_be_empty", route: route, req: `{` + sel + `,"new_email":""}`, status: 409, want: conflict("param_cannot_be_empty")},
		{name: "email_reserved_for_other_user", route: route, req: `{` + sel + `,"new_email":"Bob@acme.example"}`, status: 409, want: conflict("email_reserved_for_other_user")},
		{name: "email of a recoverable removed member is reserved", route: route, req: `{` + sel + `,"new_email":"dan@acme.example"}`, status: 409,
			want: conflict("email_reserved_for_other_user")},
		{name: "external_id_used_by_other_user", route: route, req: `{"user":{".tag":"email","email":"bob@acme.example"},"new_external_id":"ext-ann"}`,
			status: 409, want: conflict("external_id_used_by_other_user")},
		{name: "persistent_id_disabled", route: route, req: `{` + sel + `,"new_persistent_id":"p"}`, status: 409, want: conflict("persistent_id_disabled")},
		{name: "persistent_id_used_by_other_user", route: route, req: `{` + sel + `,"new_persistent_id":"p"}`, status: 409,
			setup: func(e *env) {
				on := true
				_ = e.team.Configure(TeamSettings{PersistentIDs: &on})
				e.mustPost(route, `{"user":{".tag":"email","email":"bob@acme.example"},"new_persistent_id":"p"}`)
			},
			want: conflict("persistent_id_used_by_other_user")},
		{name: "directory_restricted_off", route: route, req: `{` + sel + `,"new_is_directory_restricted":true}`, status: 409, want: conflict("directory_restricted_off")},
		{name: "bad name", route: route, req: `{` + sel + `,"new_surname":"a*b"}`, status: 400,
			want: badBody(route, `new_surname: 'a*b' did not match pattern '[^/:?*<>"|]*'`)},
		{name: "missing user", route: route, req: `{"new_surname":"B"}`, status: 400, want: badBody(route, "missing required field 'user'")},
	})
}

func TestContractMembersSetAdminPermissionsV2(t *testing.T) {
	const route = "members/set_admin_permissions_v2"
	runCases(t, []apiCase{
		{name: "promote", route: route, req: `{"user":{".tag":"email","email":"ann@acme.example"},"new_roles":["pid_dbtmr:AAAAAGDkFh1GwH0y1OjcXEoU2ZsuzEeRzGMRp3kYr7Q7"]}`,
			status: 200, want: `{"team_member_id":"{ann}","roles":[` + umaRole + `]}`,
			check: func(t *testing.T, e *env) {
				if e.member("ann@acme.example").RoleID != RoleID("User management admin") {
					t.Error("role not stored")
				}
			}},
		{name: "demote with [] omits roles", route: route, req: `{"user":{".tag":"email","email":"uma@acme.example"},"new_roles":[]}`,
			status: 200, want: `{"team_member_id":"{uma}"}`},
		{name: "absent new_roles demotes too", route: route, req: `{"user":{".tag":"email","email":"uma@acme.example"}}`,
			status: 200, want: `{"team_member_id":"{uma}"}`},
		{name: "invited members can get a role", route: route, req: `{"user":{".tag":"email","email":"bob@acme.example"},"new_roles":["pid_dbtmr:AAAAAFMcx6E0tax39Kb0H671TzWLeE07dwaqFQ5fDRy2"]}`,
			status: 200, want: `{"team_member_id":"{bob}","roles":[` + teamRole + `]}`},
		{name: "last_admin", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{admin}"},"new_roles":[]}`, status: 409, want: conflict("last_admin")},
		{name: "not the last admin once another is active", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{admin}"},"new_roles":[]}`,
			setup: func(e *env) {
				e.mustPost(route, `{"user":{".tag":"email","email":"ann@acme.example"},"new_roles":["pid_dbtmr:AAAAAFMcx6E0tax39Kb0H671TzWLeE07dwaqFQ5fDRy2"]}`)
			},
			status: 200, want: `{"team_member_id":"{admin}"}`},
		{name: "role_not_found", route: route, req: `{"user":{".tag":"email","email":"ann@acme.example"},"new_roles":["pid_dbtmr:nope"]}`, status: 409, want: conflict("role_not_found")},
		{name: "cannot_set_permissions on a suspended member", route: route, req: `{"user":{".tag":"email","email":"cat@acme.example"},"new_roles":[]}`,
			status: 409, want: conflict("cannot_set_permissions")},
		{name: "user_not_found", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"dbmid:nope"},"new_roles":[]}`, status: 409, want: conflict("user_not_found")},
		{name: "user_not_in_team", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{dan}"},"new_roles":[]}`, status: 409, want: conflict("user_not_in_team")},
		{name: "two roles", route: route, req: `{"user":{".tag":"email","email":"ann@acme.example"},"new_roles":["pid_dbtmr:a","pid_dbtmr:b"]}`, status: 400,
			want: badBody(route, "new_roles: 2 items exceeds limit of 1")},
	})
}

func TestContractMembersSuspendUnsuspend(t *testing.T) {
	runCases(t, []apiCase{
		{name: "suspend wipes by default", route: "members/suspend", req: `{"user":{".tag":"email","email":"ann@acme.example"}}`, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if m := e.member("ann@acme.example"); m.Status != StatusSuspended || m.DevicesWiped != 1 || m.SuspendedOn != t0 {
					t.Errorf("%+v", m)
				}
				e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"ann@acme.example"}]}`), 200,
					`{"members_info":[{".tag":"member_info","profile":{"team_member_id":"*","account_id":"*","email":"*","email_verified":true,"external_id":"*",
					"secondary_emails":[],"status":{".tag":"suspended"},"name":"*","membership_type":"*","joined_on":"2025-06-01T12:00:00Z",
					"suspended_on":"2025-06-01T12:00:00Z","groups":[],"member_folder_id":"*","root_folder_id":"*"}}]}`)
			}},
		{name: "suspend without wipe", route: "members/suspend", req: `{"user":{".tag":"email","email":"ann@acme.example"},"wipe_data":false}`, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if m := e.member("ann@acme.example"); m.Status != StatusSuspended || m.DevicesWiped != 0 {
					t.Errorf("%+v", m)
				}
			}},
		{name: "suspend_inactive_user (invited)", route: "members/suspend", req: `{"user":{".tag":"email","email":"bob@acme.example"}}`, status: 409, want: conflict("suspend_inactive_user")},
		{name: "suspend_inactive_user (suspended)", route: "members/suspend", req: `{"user":{".tag":"email","email":"cat@acme.example"}}`, status: 409, want: conflict("suspend_inactive_user")},
		{name: "suspend_last_admin", route: "members/suspend", req: `{"user":{".tag":"team_member_id","team_member_id":"{admin}"}}`, status: 409, want: conflict("suspend_last_admin")},
		{name: "suspend user_not_found", route: "members/suspend", req: `{"user":{".tag":"external_id","external_id":"nope"}}`, status: 409, want: conflict("user_not_found")},
		{name: "suspend user_not_in_team", route: "members/suspend", req: `{"user":{".tag":"email","email":"dan@acme.example"}}`, status: 409, want: conflict("user_not_in_team")},
		{name: "suspend missing user", route: "members/suspend", req: `{"wipe_data":true}`, status: 400, want: badBody("members/suspend", "missing required field 'user'")},
		{name: "suspend bare string selector", route: "members/suspend", req: `{"user":"email"}`, status: 400, want: badBody("members/suspend", "user: missing required field 'email'")},
		{name: "unsuspend", route: "members/unsuspend", req: `{"user":{".tag":"email","email":"cat@acme.example"}}`, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if m := e.member("cat@acme.example"); m.Status != StatusActive || !m.SuspendedOn.IsZero() {
					t.Errorf("%+v", m)
				}
			}},
		{name: "unsuspend_non_suspended_member", route: "members/unsuspend", req: `{"user":{".tag":"email","email":"ann@acme.example"}}`, status: 409,
			want: conflict("unsuspend_non_suspended_member")},
		{name: "unsuspend team_license_limit on an over-full team", route: "members/unsuspend", req: `{"user":{".tag":"email","email":"cat@acme.example"}}`,
			setup: func(e *env) { lic := 3; _ = e.team.Configure(TeamSettings{Licenses: &lic}) }, status: 409, want: conflict("team_license_limit")},
		{name: "unsuspend user_not_found", route: "members/unsuspend", req: `{"user":{".tag":"email","email":"zz@acme.example"}}`, status: 409, want: conflict("user_not_found")},
	})
}

func TestContractMembersSendWelcomeEmail(t *testing.T) {
	const route = "members/send_welcome_email"
	runCases(t, []apiCase{
		{name: "an invited member gets the email again", route: route, req: `{".tag":"email","email":"bob@acme.example"}`, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if w := e.team.WelcomeEmails(); len(w) != 1 || w[0].Email != "bob@acme.example" || w[0].TeamMemberID != e.ids["bob"] {
					t.Errorf("%+v", w)
				}
			}},
		{name: "a no-op for an active member", route: route, req: `{".tag":"team_member_id","team_member_id":"{ann}"}`, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if w := e.team.WelcomeEmails(); len(w) != 0 {
					t.Errorf("%+v", w)
				}
			}},
		{name: "user_not_found", route: route, req: `{".tag":"email","email":"zz@acme.example"}`, status: 409, want: conflict("user_not_found")},
		{name: "user_not_in_team", route: route, req: `{".tag":"team_member_id","team_member_id":"{dan}"}`, status: 409, want: conflict("user_not_in_team")},
		{name: "the body is a bare selector, not wrapped", route: route, req: `{"user":{".tag":"email","email":"bob@acme.example"}}`, status: 400,
			want: badBody(route, "missing required field '.tag'")},
	})
}
