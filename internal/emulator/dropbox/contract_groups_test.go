package dropbox

import (
	"slices"
	"testing"
)

// Contract tests for the group routes (reference §7) as raw JSON.

const created0 = "1748779200000" // t0 in milliseconds: GroupFullInfo.created is a UInt64

// withGroups adds to the standard team: "Eng" (user managed, dir-eng) with
// ann as member and uma as owner, and "Ops" (company managed, empty).
func withGroups(setup func(e *env)) func(e *env) {
	return func(e *env) {
		e.ids["eng"] = seedGroup(e, SeedGroup{Name: "Eng", ExternalID: "dir-eng", Members: []string{"ann@acme.example"}, Owners: []string{"uma@acme.example"}})
		e.ids["ops"] = seedGroup(e, SeedGroup{Name: "Ops", Management: "company_managed"})
		if setup != nil {
			setup(e)
		}
	}
}

func runGroupCases(t *testing.T, cases []apiCase) {
	t.Helper()
	for i := range cases {
		cases[i].setup = withGroups(cases[i].setup)
	}
	runCases(t, cases)
}

// memberProfile literal of ann inside a group: a MemberProfile, without
// groups or folder ids.
const annGroupProfile = `{"team_member_id":"{ann}","account_id":"*","email":"ann@acme.example","email_verified":true,"external_id":"ext-ann",
	"secondary_emails":[],"status":{".tag":"active"},"name":"*","membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z"}`

func TestContractGroupsCreate(t *testing.T) {
	const route = "groups/create"
	runGroupCases(t, []apiCase{
		{name: "create", route: route, req: `{"group_name":"Sales","group_external_id":"dir-sales","group_management_type":"company_managed"}`, status: 200,
			want: `{"group_name":"Sales","group_id":"~^g:[0-9a-f]{32}$","group_external_id":"dir-sales","member_count":0,
				"group_management_type":{".tag":"company_managed"},"members":[],"created":` + created0 + `}`},
		{name: "object form of the management type; creator as owner", route: route,
			req: `{"group_name":"Mine","add_creator_as_owner":true,"group_management_type":{".tag":"user_managed"}}`, status: 200,
			want: `{"group_name":"Mine","group_id":"*","member_count":1,"group_management_type":{".tag":"user_managed"},
				"members":[{"profile":"*","access_type":{".tag":"owner"}}],"created":` + created0 + `}`,
			check: func(t *testing.T, e *env) {
				if g := e.team.Snapshot().Groups[2]; !slices.Equal(g.Owners, []string{e.ids["admin"]}) {
					t.Errorf("%+v", g)
				}
			}},
		{name: "default management type is user_managed", route: route, req: `{"group_name":"Plain"}`, status: 200,
			want: `{"group_name":"Plain","group_id":"*","member_count":0,"group_management_type":{".tag":"user_managed"},"members":[],"created":` + created0 + `}`},
		{name: "group_name_already_used, any case", route: route, req: `{"group_name":"ENG"}`, status: 409, want: conflict("group_name_already_used")},
		{name: "group_name_invalid", route: route, req: `{"group_name":"  "}`, status: 409, want: conflict("group_name_invalid")},
		{name: "external_id_already_in_use", route: route, req: `{"group_name":"X","group_external_id":"dir-eng"}`, status: 409, want: conflict("external_id_already_in_use")},
		{name: "system_managed_group_disallowed", route: route, req: `{"group_name":"X","group_management_type":"system_managed"}`, status: 409,
			want: conflict("system_managed_group_disallowed")},
		{name: "unknown management type", route: route, req: `{"group_name":"X","group_management_type":"nobody_managed"}`, status: 400,
			want: badBody(route, "group_management_type: unknown tag 'nobody_managed'")},
		{name: "missing group_name", route: route, req: `{}`, status: 400, want: badBody(route, "missing required field 'group_name'")},
	})
}

func TestContractGroupsGetInfo(t *testing.T) {
	const route = "groups/get_info"
	runGroupCases(t, []apiCase{
		{name: "by ids: members included, unknown id_not_found", route: route, req: `{".tag":"group_ids","group_ids":["{eng}","g:00000000000000000000000000000000"]}`,
			status: 200,
			want: `[{".tag":"group_info","group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":2,
				"group_management_type":{".tag":"user_managed"},"created":` + created0 + `,
				"members":[{"profile":` + annGroupProfile + `,"access_type":{".tag":"member"}},{"profile":"*","access_type":{".tag":"owner"}}]},
				{".tag":"id_not_found","id_not_found":"g:00000000000000000000000000000000"}]`},
		{name: "by external ids", route: route, req: `{".tag":"group_external_ids","group_external_ids":["dir-eng","nope"]}`, status: 200,
			want: `[{".tag":"group_info","group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":2,
				"group_management_type":"*","created":"*","members":"*"},{".tag":"id_not_found","id_not_found":"nope"}]`},
		{name: "a deleted group is id_not_found", route: route, req: `{".tag":"group_ids","group_ids":["{ops}"]}`,
			setup: func(e *env) { e.mustPost("groups/delete", `{".tag":"group_id","group_id":"{ops}"}`) }, status: 200,
			want: `[{".tag":"id_not_found","id_not_found":"{ops}"}]`},
		{name: "unknown selector tag", route: route, req: `{".tag":"group_names","group_names":["Eng"]}`, status: 400, want: badBody(route, "unknown tag 'group_names'")},
		{name: "wrapped body", route: route, req: `{"groups":{".tag":"group_ids","group_ids":[]}}`, status: 400, want: badBody(route, "missing required field '.tag'")},
	})
}

func TestContractGroupsOfAnotherTeam(t *testing.T) {
	e := newStdEnv(t, func(o *Options) {
		o.Teams = append(o.Teams, TeamConfig{Name: "other", Token: "tok2"})
	})
	other := e.srv.Team("other")
	gid, err := other.SeedGroup(SeedGroup{Name: "Theirs"})
	if err != nil {
		t.Fatal(err)
	}
	e.ids["theirs"] = gid
	e.expectResp(t, e.post("groups/get_info", `{".tag":"group_ids","group_ids":["{theirs}"]}`), 409, conflict("group_not_on_team"))
	e.expectResp(t, e.post("groups/members/add", `{"group":{".tag":"group_id","group_id":"{theirs}"},"members":[]}`), 409, conflict("group_not_in_team"))
	e.expectResp(t, e.post("groups/members/remove", `{"group":{".tag":"group_id","group_id":"{theirs}"},"users":[]}`), 409, conflict("group_not_in_team"))
	e.expectResp(t, e.post("groups/update", `{"group":{".tag":"group_id","group_id":"{theirs}"},"new_group_name":"Mine"}`), 409, conflict("group_not_found"))
	// The other team's job ids are not this team's to poll.
	if _, err := other.Seed([]SeedMember{{Email: "o@other.example", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/2/team/groups/members/add", "tok2", "application/json",
		`{"group":{".tag":"group_id","group_id":"`+gid+`"},"members":[{"user":{".tag":"email","email":"o@other.example"},"access_type":"member"}]}`)
	if r.status != 200 {
		t.Fatal(r)
	}
	r = e.do("POST", "/2/team/groups/delete", "tok2", "application/json", `{".tag":"group_id","group_id":"`+gid+`"}`)
	var launch map[string]string
	decode(t, r.body, &launch)
	e.expectResp(t, e.post("groups/job_status/get", jsonOf(map[string]string{"async_job_id": launch["async_job_id"]})), 409, conflict("access_denied"))
	// A member of another team is not in this one.
	e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"o@other.example"}]}`), 200,
		`{"members_info":[{".tag":"id_not_found","id_not_found":"o@other.example"}]}`)
	e.expectResp(t, e.post("members/suspend", `{"user":{".tag":"email","email":"o@other.example"}}`), 409, conflict("user_not_in_team"))
	e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"o@other.example"}]}`), 200,
		`{".tag":"complete","complete":[{".tag":"user_on_another_team","user_on_another_team":"o@other.example"}]}`)
}

func TestContractGroupsListAndContinue(t *testing.T) {
	e := newStdEnv(t)
	withGroups(nil)(e)
	seedGroup(e, SeedGroup{Name: "Third"})
	first := e.post("groups/list", `{"limit":2}`)
	e.expectResp(t, first, 200, `{"groups":[
		{"group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":2,"group_management_type":{".tag":"user_managed"}},
		{"group_name":"Ops","group_id":"{ops}","member_count":0,"group_management_type":{".tag":"company_managed"}}],"cursor":"~.+","has_more":true}`)
	var page struct{ Cursor string }
	decode(t, first.body, &page)
	// Deleting an already listed group shifts nothing: the next page is still "Third".
	e.mustPost("groups/delete", `{".tag":"group_id","group_id":"{ops}"}`)
	e.expectResp(t, e.post("groups/list/continue", jsonOf(map[string]string{"cursor": page.Cursor})), 200,
		`{"groups":[{"group_name":"Third","group_id":"*","member_count":0,"group_management_type":{".tag":"user_managed"}}],"cursor":"~.+","has_more":false}`)
	e.expectResp(t, e.post("groups/list/continue", `{"cursor":"nope"}`), 409, conflict("invalid_cursor"))
	e.expectResp(t, e.post("groups/list", `{"limit":1001}`), 400, badBody("groups/list", "limit: 1001 is not within range [1, 1000]"))
}

func TestContractGroupsUpdate(t *testing.T) {
	const route = "groups/update"
	eng := `"group":{".tag":"group_id","group_id":"{eng}"}`
	runGroupCases(t, []apiCase{
		{name: "rename, new external id, type; members by default", route: route,
			req: `{` + eng + `,"new_group_name":"Engineering","new_group_external_id":"dir-eng2","new_group_management_type":"company_managed"}`, status: 200,
			want: `{"group_name":"Engineering","group_id":"{eng}","group_external_id":"dir-eng2","member_count":2,
				"group_management_type":{".tag":"company_managed"},"created":` + created0 + `,"members":[{"profile":"*","access_type":"*"},{"profile":"*","access_type":"*"}]}`},
		{name: "clear the external id; no members", route: route, req: `{"group":{".tag":"group_external_id","group_external_id":"dir-eng"},"new_group_external_id":"","return_members":false}`,
			status: 200, want: `{"group_name":"Eng","group_id":"{eng}","member_count":2,"group_management_type":{".tag":"user_managed"},"created":` + created0 + `}`,
			check: func(t *testing.T, e *env) {
				e.expectResp(t, e.post("groups/get_info", `{".tag":"group_external_ids","group_external_ids":["dir-eng"]}`), 200,
					`[{".tag":"id_not_found","id_not_found":"dir-eng"}]`)
			}},
		{name: "renaming to its own name in another case is fine", route: route, req: `{` + eng + `,"new_group_name":"ENG","return_members":false}`, status: 200,
			want: `{"group_name":"ENG","group_id":"*","group_external_id":"dir-eng","member_count":2,"group_management_type":"*","created":"*"}`},
		{name: "group_not_found", route: route, req: `{"group":{".tag":"group_id","group_id":"g:nope"},"new_group_name":"X"}`, status: 409, want: conflict("group_not_found")},
		{name: "group_name_already_used", route: route, req: `{` + eng + `,"new_group_name":"ops"}`, status: 409, want: conflict("group_name_already_used")},
		{name: "group_name_invalid", route: route, req: `{` + eng + `,"new_group_name":""}`, status: 409, want: conflict("group_name_invalid")},
		{name: "external_id_already_in_use", route: route, req: `{"group":{".tag":"group_id","group_id":"{ops}"},"new_group_external_id":"dir-eng"}`, status: 409,
			want: conflict("external_id_already_in_use")},
		{name: "system_managed_group_disallowed as the new type", route: route, req: `{` + eng + `,"new_group_management_type":"system_managed"}`, status: 409,
			want: conflict("system_managed_group_disallowed")},
		{name: "missing group", route: route, req: `{"new_group_name":"X"}`, status: 400, want: badBody(route, "missing required field 'group'")},
	})
}

func TestContractGroupsDeleteAndJobStatus(t *testing.T) {
	const route = "groups/delete"
	runGroupCases(t, []apiCase{
		{name: "an empty group goes at once", route: route, req: `{".tag":"group_id","group_id":"{ops}"}`, status: 200, want: `{".tag":"complete"}`,
			check: func(t *testing.T, e *env) {
				e.expectResp(t, e.post(route, `{".tag":"group_id","group_id":"{ops}"}`), 409, conflict("group_not_found"))
			}},
		{name: "a group with members revokes access in a job", route: route, req: `{".tag":"group_external_id","group_external_id":"dir-eng"}`,
			setup: func(e *env) { e.srv.SetFaults(Faults{JobPolls: 1}) }, status: 200, want: `{".tag":"async_job_id","async_job_id":"~^dbjid:"}`,
			check: func(t *testing.T, e *env) {
				if m := e.member("ann@acme.example"); len(e.team.Snapshot().Groups) != 1 || len(m.FormerGroups) != 0 {
					t.Errorf("group not gone at once: %+v", e.team.Snapshot().Groups)
				}
				e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"ann@acme.example"}]}`), 200,
					`{"members_info":[{".tag":"member_info","profile":{"team_member_id":"*","account_id":"*","email":"*","email_verified":true,"external_id":"*",
					"secondary_emails":[],"status":"*","name":"*","membership_type":"*","joined_on":"*","groups":[],"member_folder_id":"*","root_folder_id":"*"}}]}`)
				e.expectResp(t, e.post(route, `{".tag":"group_id","group_id":"{eng}"}`), 409, conflict("group_already_deleted"))
				var jobs []string
				e.team.mu.Lock()
				for id := range e.team.jobs {
					jobs = append(jobs, id)
				}
				e.team.mu.Unlock()
				job := jsonOf(map[string]string{"async_job_id": jobs[0]})
				e.expectResp(t, e.post("groups/job_status/get", job), 200, `{".tag":"in_progress"}`)
				e.expectResp(t, e.post("groups/job_status/get", job), 200, `{".tag":"complete"}`)
				e.expectResp(t, e.post(route, `{".tag":"group_id","group_id":"{eng}"}`), 409, conflict("group_not_found"))
				e.expectResp(t, e.post("groups/job_status/get", `{"async_job_id":"dbjid:zz"}`), 409, conflict("invalid_async_job_id"))
			}},
		{name: "group_not_found", route: route, req: `{".tag":"group_id","group_id":"g:nope"}`, status: 409, want: conflict("group_not_found")},
		{name: "bare selector only", route: route, req: `{"group":{".tag":"group_id","group_id":"{ops}"}}`, status: 400, want: badBody(route, "missing required field '.tag'")},
	})
}

func TestContractGroupMembersAdd(t *testing.T) {
	const route = "groups/members/add"
	eng := `"group":{".tag":"group_id","group_id":"{eng}"}`
	add := func(email, access string) string {
		return `{"user":{".tag":"email","email":"` + email + `"},"access_type":"` + access + `"}`
	}
	runGroupCases(t, []apiCase{
		{name: "add a member and an invitee", route: route, req: `{` + eng + `,"members":[` + add("bob@acme.example", "member") + `,` +
			`{"user":{".tag":"team_member_id","team_member_id":"{cat}"},"access_type":{".tag":"member"}}],"return_members":false}`,
			status: 200, want: `{"group_info":{"group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":4,
				"group_management_type":{".tag":"user_managed"},"created":` + created0 + `},"async_job_id":" "}`,
			check: func(t *testing.T, e *env) {
				g := e.team.Snapshot().Groups[0]
				if !slices.Equal(g.Members, []string{e.ids["ann"], e.ids["uma"], e.ids["bob"], e.ids["cat"]}) {
					t.Errorf("members %v", g.Members)
				}
				e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"bob@acme.example"}]}`), 200,
					`{"members_info":[{".tag":"member_info","profile":{"team_member_id":"*","account_id":"*","email":"*","email_verified":false,
					"secondary_emails":[],"status":"*","name":"*","membership_type":"*","invited_on":"*","groups":["{eng}"],"member_folder_id":"*","root_folder_id":"*"}}]}`)
			}},
		{name: "members are returned by default", route: route, req: `{` + eng + `,"members":[` + add("bob@acme.example", "owner") + `]}`,
			setup: func(e *env) { e.team.Activate("bob@acme.example") }, status: 200,
			want: `{"group_info":{"group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":3,"group_management_type":"*","created":"*",
				"members":[{"profile":"*","access_type":{".tag":"member"}},{"profile":"*","access_type":{".tag":"owner"}},{"profile":"*","access_type":{".tag":"owner"}}]},"async_job_id":" "}`},
		{name: "duplicate_user fails the whole call", route: route, req: `{` + eng + `,"members":[` + add("bob@acme.example", "member") + `,` + add("ann@acme.example", "member") + `]}`,
			status: 409, want: conflict("duplicate_user"),
			check: func(t *testing.T, e *env) {
				if g := e.team.Snapshot().Groups[0]; len(g.Members) != 2 {
					t.Errorf("partly applied: %v", g.Members)
				}
			}},
		{name: "users_not_found lists them", route: route, req: `{` + eng + `,"members":[` + add("x@acme.example", "member") + `,` + add("bob@acme.example", "member") + `,` +
			`{"user":{".tag":"external_id","external_id":"nope"},"access_type":"member"}]}`,
			status: 409, want: `{"error_summary":"users_not_found/...","error":{".tag":"users_not_found","users_not_found":["x@acme.example","nope"]}}`},
		{name: "members_not_in_team lists them", route: route, req: `{` + eng + `,"members":[{"user":{".tag":"team_member_id","team_member_id":"{dan}"},"access_type":"member"}]}`,
			status: 409, want: `{"error_summary":"members_not_in_team/...","error":{".tag":"members_not_in_team","members_not_in_team":["{dan}"]}}`},
		{name: "user_must_be_active_to_be_owner", route: route, req: `{` + eng + `,"members":[` + add("bob@acme.example", "owner") + `]}`, status: 409,
			want: conflict("user_must_be_active_to_be_owner")},
		{name: "user_cannot_be_manager_of_company_managed_group", route: route,
			req: `{"group":{".tag":"group_id","group_id":"{ops}"},"members":[` + add("ann@acme.example", "owner") + `]}`, status: 409,
			want: `{"error_summary":"user_cannot_be_manager_of_company_managed_group/...","error":{".tag":"user_cannot_be_manager_of_company_managed_group",
				"user_cannot_be_manager_of_company_managed_group":["ann@acme.example"]}}`},
		{name: "group_not_found", route: route, req: `{"group":{".tag":"group_id","group_id":"g:nope"},"members":[]}`, status: 409, want: conflict("group_not_found")},
		{name: "system_managed_group_disallowed", route: route, req: `{"group":{".tag":"group_id","group_id":"{everyone}"},"members":[]}`,
			setup: func(e *env) { e.ids["everyone"] = addEveryone(e) }, status: 409, want: conflict("system_managed_group_disallowed")},
		{name: "access_type is required", route: route, req: `{` + eng + `,"members":[{"user":{".tag":"email","email":"bob@acme.example"}}]}`, status: 400,
			want: badBody(route, "members[0]: missing required field 'access_type'")},
		{name: "unknown access_type", route: route, req: `{` + eng + `,"members":[` + add("bob@acme.example", "boss") + `]}`, status: 400,
			want: badBody(route, "members[0]: access_type: unknown tag 'boss'")},
	})
}

// addEveryone gives the team the system-managed group a team created with
// EveryoneGroup has, and returns its id.
func addEveryone(e *env) string {
	e.team.mu.Lock()
	defer e.team.mu.Unlock()
	g := e.team.newGroup("Everyone at acme", "", "system_managed")
	g.System = true
	e.team.everyone = g
	return g.ID
}

func TestContractGroupMembersRemoveAndSetAccess(t *testing.T) {
	eng := `"group":{".tag":"group_id","group_id":"{eng}"}`
	runGroupCases(t, []apiCase{
		{name: "remove", route: "groups/members/remove", req: `{` + eng + `,"users":[{".tag":"email","email":"ann@acme.example"}],"return_members":true}`, status: 200,
			want: `{"group_info":{"group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":1,"group_management_type":"*","created":"*",
				"members":[{"profile":"*","access_type":{".tag":"owner"}}]},"async_job_id":" "}`},
		{name: "removing the last owner is allowed", route: "groups/members/remove", req: `{` + eng + `,"users":[{".tag":"email","email":"uma@acme.example"}]}`,
			status: 200, want: `{"group_info":"*","async_job_id":" "}`},
		{name: "member_not_in_group", route: "groups/members/remove", req: `{` + eng + `,"users":[{".tag":"email","email":"ann@acme.example"},{".tag":"email","email":"bob@acme.example"}]}`,
			status: 409, want: conflict("member_not_in_group"),
			check: func(t *testing.T, e *env) {
				if g := e.team.Snapshot().Groups[0]; len(g.Members) != 2 {
					t.Errorf("partly applied: %v", g.Members)
				}
			}},
		{name: "users_not_found", route: "groups/members/remove", req: `{` + eng + `,"users":[{".tag":"email","email":"zz@acme.example"}]}`, status: 409,
			want: `{"error_summary":"users_not_found/...","error":{".tag":"users_not_found","users_not_found":["zz@acme.example"]}}`},
		{name: "members_not_in_team", route: "groups/members/remove", req: `{` + eng + `,"users":[{".tag":"team_member_id","team_member_id":"{dan}"}]}`, status: 409,
			want: `{"error_summary":"members_not_in_team/...","error":{".tag":"members_not_in_team","members_not_in_team":["{dan}"]}}`},
		{name: "set_access_type answers a bare list", route: "groups/members/set_access_type",
			req: `{` + eng + `,"user":{".tag":"email","email":"ann@acme.example"},"access_type":"owner","return_members":false}`, status: 200,
			want: `[{".tag":"group_info","group_name":"Eng","group_id":"{eng}","group_external_id":"dir-eng","member_count":2,"group_management_type":"*","created":"*"}]`,
			check: func(t *testing.T, e *env) {
				if g := e.team.Snapshot().Groups[0]; len(g.Owners) != 2 {
					t.Errorf("owners %v", g.Owners)
				}
			}},
		{name: "set_access_type member_not_in_group", route: "groups/members/set_access_type",
			req: `{` + eng + `,"user":{".tag":"email","email":"bob@acme.example"},"access_type":"owner"}`, status: 409, want: conflict("member_not_in_group")},
	})
}

func TestContractGroupMembersList(t *testing.T) {
	e := newStdEnv(t)
	withGroups(nil)(e)
	first := e.post("groups/members/list", `{"group":{".tag":"group_id","group_id":"{eng}"},"limit":1}`)
	e.expectResp(t, first, 200, `{"members":[{"profile":`+annGroupProfile+`,"access_type":{".tag":"member"}}],"cursor":"~.+","has_more":true}`)
	var page struct{ Cursor string }
	decode(t, first.body, &page)
	// Someone joining and ann (already listed) leaving shift nothing.
	e.mustPost("groups/members/add", `{"group":{".tag":"group_id","group_id":"{eng}"},"members":[{"user":{".tag":"email","email":"bob@acme.example"},"access_type":"member"}]}`)
	e.mustPost("groups/members/remove", `{"group":{".tag":"group_id","group_id":"{eng}"},"users":[{".tag":"email","email":"ann@acme.example"}]}`)
	next := e.post("groups/members/list/continue", jsonOf(map[string]string{"cursor": page.Cursor}))
	e.expectResp(t, next, 200, `{"members":[{"profile":{"team_member_id":"{uma}","account_id":"*","email":"uma@acme.example","email_verified":true,"secondary_emails":[],
		"status":"*","name":"*","membership_type":"*","joined_on":"*"},"access_type":{".tag":"owner"}}],"cursor":"~.+","has_more":true}`)
	decode(t, next.body, &page)
	e.expectResp(t, e.post("groups/members/list/continue", jsonOf(map[string]string{"cursor": page.Cursor})), 200,
		`{"members":[{"profile":{"team_member_id":"{bob}","account_id":"*","email":"bob@acme.example","email_verified":false,"secondary_emails":[],
		"status":{".tag":"invited"},"name":"*","membership_type":"*","invited_on":"2025-06-01T12:00:00Z"},"access_type":{".tag":"member"}}],"cursor":"~.+","has_more":false}`)

	e.expectResp(t, e.post("groups/members/list", `{"group":{".tag":"group_id","group_id":"g:nope"}}`), 409, conflict("group_not_found"))
	e.expectResp(t, e.post("groups/members/list/continue", `{"cursor":"zz"}`), 409, conflict("invalid_cursor"))
	e.expectResp(t, e.post("groups/members/list", `{"group":{".tag":"group_id","group_id":"{eng}"},"limit":0}`), 400,
		badBody("groups/members/list", "limit: 0 is not within range [1, 1000]"))
	// A deleted group's cursor is no longer valid.
	e.mustPost("groups/delete", `{".tag":"group_id","group_id":"{eng}"}`)
	e.expectResp(t, e.post("groups/members/list/continue", jsonOf(map[string]string{"cursor": page.Cursor})), 409, conflict("invalid_cursor"))
}

func TestContractEveryoneGroup(t *testing.T) {
	e := newStdEnv(t, func(o *Options) { o.Teams[0].EveryoneGroup = true })
	sn := e.team.Snapshot()
	if len(sn.Groups) != 1 || !sn.Groups[0].System || sn.Groups[0].MemberCount != 5 {
		t.Fatalf("groups %+v", sn.Groups)
	}
	e.ids["everyone"] = sn.Groups[0].ID
	e.expectResp(t, e.post("groups/list", `{}`), 200, `{"groups":[{"group_name":"Everyone at acme","group_id":"{everyone}","member_count":5,
		"group_management_type":{".tag":"system_managed"}}],"cursor":"*","has_more":false}`)
	// Members are never returned for system-managed groups.
	e.expectResp(t, e.post("groups/get_info", `{".tag":"group_ids","group_ids":["{everyone}"]}`), 200,
		`[{".tag":"group_info","group_name":"Everyone at acme","group_id":"{everyone}","member_count":5,"group_management_type":{".tag":"system_managed"},"created":`+created0+`}]`)
	e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"email","email":"bob@acme.example"}]}`), 200,
		`{"members_info":[{".tag":"member_info","profile":{"team_member_id":"*","account_id":"*","email":"*","email_verified":false,"secondary_emails":[],
		"status":"*","name":"*","membership_type":"*","invited_on":"*","groups":["{everyone}"],"member_folder_id":"*","root_folder_id":"*"}}]}`)
	e.expectResp(t, e.post("groups/members/list", `{"group":{".tag":"group_id","group_id":"{everyone}"},"limit":4}`), 200,
		`{"members":[{"profile":"*","access_type":{".tag":"member"}},"*","*","*"],"cursor":"*","has_more":true}`)
	for _, tc := range []struct{ route, req string }{
		{"groups/update", `{"group":{".tag":"group_id","group_id":"{everyone}"},"new_group_name":"All"}`},
		{"groups/delete", `{".tag":"group_id","group_id":"{everyone}"}`},
		{"groups/members/remove", `{"group":{".tag":"group_id","group_id":"{everyone}"},"users":[]}`},
		{"groups/members/set_access_type", `{"group":{".tag":"group_id","group_id":"{everyone}"},"user":{".tag":"email","email":"ann@acme.example"},"access_type":"owner"}`},
	} {
		e.expectResp(t, e.post(tc.route, tc.req), 409, conflict("system_managed_group_disallowed"))
	}
}
