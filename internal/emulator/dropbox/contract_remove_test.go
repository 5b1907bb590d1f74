package dropbox

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Contract tests for members/remove (every §9.2 tag the state can produce),
// its job status, and members/recover with its 7-day window.

func sel(email string) string { return `{".tag":"email","email":"` + email + `"}` }

func TestContractMembersRemove(t *testing.T) {
	const route = "members/remove"
	ann := `"user":` + sel("ann@acme.example")
	transfer := func(dest, admin string) string {
		return `"transfer_dest_id":` + sel(dest) + `,"transfer_admin_id":` + sel(admin)
	}
	runCases(t, []apiCase{
		{name: "remove wipes by default, keeps files for recovery, leaves groups", route: route, req: `{` + ann + `}`,
			setup:  func(e *env) { seedGroup(e, SeedGroup{Name: "G", Members: []string{"ann@acme.example"}}) },
			status: 200, want: `{".tag":"complete"}`,
			check: func(t *testing.T, e *env) {
				m := e.member(e.ids["ann"])
				if m.Status != StatusRemoved || m.DevicesWiped != 1 || !slices.Equal(m.Files, []string{"a.txt"}) || len(m.FormerGroups) != 1 {
					t.Errorf("%+v", m)
				}
				if sn := e.team.Snapshot(); len(sn.Groups[0].Members) != 0 || sn.Seats != 4 {
					t.Errorf("groups %+v, seats %d", sn.Groups, sn.Seats)
				}
			}},
		{name: "remove without wipe", route: route, req: `{` + ann + `,"wipe_data":false}`, status: 200, want: `{".tag":"complete"}`,
			check: func(t *testing.T, e *env) {
				if m := e.member(e.ids["ann"]); m.DevicesWiped != 0 {
					t.Errorf("%+v", m)
				}
			}},
		{name: "an invited member can be removed", route: route, req: `{"user":` + sel("bob@acme.example") + `}`, status: 200, want: `{".tag":"complete"}`},
		{name: "transfer runs as a job and moves the files", route: route, req: `{` + ann + `,"wipe_data":false,` + transfer("uma@acme.example", "uma@acme.example") + `}`,
			status: 200, want: `{".tag":"async_job_id","async_job_id":"~^dbjid:"}`,
			check: func(t *testing.T, e *env) {
				if m := e.member(e.ids["ann"]); !m.Transferred || m.TransferredTo != e.ids["uma"] || len(m.Files) != 0 {
					t.Errorf("removed %+v", m)
				}
				if m := e.member("uma@acme.example"); !slices.Equal(m.Files, []string{"ann@acme.example/a.txt"}) {
					t.Errorf("destination files %v", m.Files)
				}
			}},
		{name: "keep_account turns the account personal", route: route, req: `{` + ann + `,"wipe_data":false,"keep_account":true,"retain_team_shares":true}`,
			status: 200, want: `{".tag":"complete"}`,
			check: func(t *testing.T, e *env) {
				m := e.member(e.ids["ann"])
				p, ok := e.team.Snapshot().PersonalAccount("ann@acme.example")
				if !m.Disconnected || !m.RetainedShares || !ok || p.Plan != "basic" || !slices.Equal(p.Files, []string{"a.txt"}) || p.AccountID != m.AccountID {
					t.Errorf("member %+v, personal %+v", m, p)
				}
				e.expectResp(t, e.post("members/list_v2", `{"include_removed":true}`), 200, `{"members":["*",
					{"profile":{"team_member_id":"{ann}","account_id":"*","email":"ann@acme.example","email_verified":true,"external_id":"ext-ann",
					"secondary_emails":[],"status":{".tag":"removed","is_recoverable":false,"is_disconnected":true},"name":"*","membership_type":"*",
					"joined_on":"*","groups":[],"member_folder_id":"*","root_folder_id":"*"}},"*","*","*","*"],"cursor":"*","has_more":false}`)
			}},
		{name: "permanently_delete_files (2026 spec)", route: route, req: `{` + ann + `,"permanently_delete_files":true}`, status: 200, want: `{".tag":"complete"}`,
			check: func(t *testing.T, e *env) {
				if m := e.member(e.ids["ann"]); !m.PermanentlyDeleted || len(m.Files) != 0 {
					t.Errorf("%+v", m)
				}
			}},

		// A. Selector.
		{name: "user_not_found", route: route, req: `{"user":` + sel("zz@acme.example") + `}`, status: 409, want: conflict("user_not_found")},
		{name: "user_not_in_team", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{dan}"}}`, status: 409, want: conflict("user_not_in_team")},
		// Option conflicts.
		{name: "cannot_keep_account_and_transfer", route: route, req: `{` + ann + `,"wipe_data":false,"keep_account":true,` + transfer("uma@acme.example", "uma@acme.example") + `}`,
			status: 409, want: conflict("cannot_keep_account_and_transfer")},
		{name: "cannot_keep_account_and_delete_data (wipe defaults to true)", route: route, req: `{` + ann + `,"keep_account":true}`, status: 409,
			want: conflict("cannot_keep_account_and_delete_data")},
		{name: "cannot_keep_account_and_permanently_delete", route: route, req: `{` + ann + `,"wipe_data":false,"keep_account":true,"permanently_delete_files":true}`,
			status: 409, want: conflict("cannot_keep_account_and_permanently_delete")},
		{name: "cannot_permanently_delete_and_transfer", route: route, req: `{` + ann + `,"permanently_delete_files":true,` + transfer("uma@acme.example", "uma@acme.example") + `}`,
			status: 409, want: conflict("cannot_permanently_delete_and_transfer")},
		{name: "cannot_retain_shares_when_data_wiped", route: route, req: `{` + ann + `,"retain_team_shares":true}`, status: 409,
			want: conflict("cannot_retain_shares_when_data_wiped")},
		{name: "cannot_retain_shares_when_no_account_kept", route: route, req: `{` + ann + `,"wipe_data":false,"retain_team_shares":true}`, status: 409,
			want: conflict("cannot_retain_shares_when_no_account_kept")},
		{name: "unspecified_transfer_admin_id", route: route, req: `{` + ann + `,"transfer_dest_id":` + sel("uma@acme.example") + `}`, status: 409,
			want: conflict("unspecified_transfer_admin_id")},
		// B. Transfer.
		{name: "transfer_dest_user_not_found", route: route, req: `{` + ann + `,` + transfer("ghost@acme.example", "uma@acme.example") + `}`, status: 409,
			want: conflict("transfer_dest_user_not_found")},
		{name: "transfer_dest_user_not_in_team", route: route, req: `{` + ann + `,` + transfer("dan@acme.example", "uma@acme.example") + `}`, status: 409,
			want: conflict("transfer_dest_user_not_in_team")},
		{name: "removed_and_transfer_dest_should_differ", route: route, req: `{` + ann + `,` + transfer("ann@acme.example", "uma@acme.example") + `}`, status: 409,
			want: conflict("removed_and_transfer_dest_should_differ")},
		{name: "transfer_admin_user_not_found", route: route, req: `{` + ann + `,` + transfer("uma@acme.example", "ghost@acme.example") + `}`, status: 409,
			want: conflict("transfer_admin_user_not_found")},
		{name: "transfer_admin_user_not_in_team", route: route, req: `{` + ann + `,` + transfer("uma@acme.example", "dan@acme.example") + `}`, status: 409,
			want: conflict("transfer_admin_user_not_in_team")},
		{name: "removed_and_transfer_admin_should_differ", route: route, req: `{"user":` + sel("uma@acme.example") + `,` + transfer("ann@acme.example", "uma@acme.example") + `}`,
			status: 409, want: conflict("removed_and_transfer_admin_should_differ")},
		{name: "transfer_admin_is_not_admin", route: route, req: `{` + ann + `,` + transfer("uma@acme.example", "cat@acme.example") + `}`, status: 409,
			want: conflict("transfer_admin_is_not_admin")},
		{name: "recipient_not_verified", route: route, req: `{` + ann + `,` + transfer("bob@acme.example", "uma@acme.example") + `}`, status: 409,
			want: conflict("recipient_not_verified")},
		// C. State.
		{name: "remove_last_admin", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{admin}"}}`, status: 409, want: conflict("remove_last_admin")},
		{name: "member_is_transfer_destination", route: route, req: `{` + ann + `}`,
			setup: func(e *env) {
				e.srv.SetFaults(Faults{JobPolls: 2})
				e.mustPost(route, `{"user":`+sel("cat@acme.example")+`,`+transfer("ann@acme.example", "uma@acme.example")+`}`)
			},
			status: 409, want: conflict("member_is_transfer_destination")},
		{name: "cannot_keep_invited_user_account", route: route, req: `{"user":` + sel("bob@acme.example") + `,"wipe_data":false,"keep_account":true}`, status: 409,
			want: conflict("cannot_keep_invited_user_account")},
		{name: "cannot_keep_account unless the acting admin is a team admin", route: route, req: `{` + ann + `,"wipe_data":false,"keep_account":true}`,
			setup: func(e *env) { uma := "uma@acme.example"; _ = e.team.Configure(TeamSettings{AdminEmail: &uma}) }, status: 409, want: conflict("cannot_keep_account")},
		{name: "cannot_keep_account_under_legal_hold", route: route, req: `{"user":` + sel("lh@acme.example") + `,"wipe_data":false,"keep_account":true}`,
			setup: func(e *env) { e.seed(SeedMember{Email: "lh@acme.example", Status: "active", LegalHold: true}) }, status: 409,
			want: conflict("cannot_keep_account_under_legal_hold")},
		{name: "cannot_keep_account_required_to_sign_tos", route: route, req: `{"user":` + sel("tos@acme.example") + `,"wipe_data":false,"keep_account":true}`,
			setup: func(e *env) { e.seed(SeedMember{Email: "tos@acme.example", Status: "active", MustSignTOS: true}) }, status: 409,
			want: conflict("cannot_keep_account_required_to_sign_tos")},
		{name: "cannot_retain_shares_when_team_external_sharing_off", route: route, req: `{` + ann + `,"wipe_data":false,"keep_account":true,"retain_team_shares":true}`,
			setup: func(e *env) { off := false; _ = e.team.Configure(TeamSettings{ExternalSharing: &off}) }, status: 409,
			want: conflict("cannot_retain_shares_when_team_external_sharing_off")},
		{name: "email_address_too_long_to_be_disabled", route: route, req: `{"user":` + sel(strings.Repeat("l", 230)+"@acme.example") + `}`,
			setup: func(e *env) { e.seed(SeedMember{Email: strings.Repeat("l", 230) + "@acme.example", Status: "active"}) }, status: 409,
			want: conflict("email_address_too_long_to_be_disabled")},
		{name: "bad transfer selector", route: route, req: `{` + ann + `,"transfer_dest_id":{".tag":"name","name":"x"}}`, status: 400,
			want: badBody(route, "transfer_dest_id: unknown tag 'name'")},
	})
}

func seedGroup(e *env, sg SeedGroup) string {
	e.t.Helper()
	id, err := e.team.SeedGroup(sg)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestContractMembersRemoveJobStatus(t *testing.T) {
	e := newStdEnv(t)
	e.srv.SetFaults(Faults{JobPolls: 2})
	launch := e.mustPost("members/remove", `{"user":`+sel("ann@acme.example")+`,"transfer_dest_id":`+sel("uma@acme.example")+`,"transfer_admin_id":`+sel("admin@acme.example")+`}`)
	job := jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})
	for range 2 {
		e.expectResp(t, e.post("members/remove/job_status/get", job), 200, `{".tag":"in_progress"}`)
	}
	// While the transfer runs, the removed member is not recoverable either.
	e.expectResp(t, e.post("members/remove/job_status/get", job), 200, `{".tag":"complete"}`)
	e.expectResp(t, e.post("members/remove/job_status/get", `{"async_job_id":"dbjid:unknown"}`), 409, conflict("invalid_async_job_id"))

	e.srv.SetFaults(Faults{JobFail: 1})
	launch = e.mustPost("members/remove", `{"user":`+sel("cat@acme.example")+`,"transfer_dest_id":`+sel("uma@acme.example")+`,"transfer_admin_id":`+sel("admin@acme.example")+`}`)
	e.expectResp(t, e.post("members/remove/job_status/get", jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})), 409, conflict("internal_error"))
	if m := e.member(e.ids["cat"]); m.Status != StatusRemoved {
		t.Errorf("a failed job's change must still be made (re-read state, then retry): %+v", m)
	}
}

func TestContractMembersRecover(t *testing.T) {
	const route = "members/recover"
	dan := `{"user":{".tag":"team_member_id","team_member_id":"{dan}"}}`
	runCases(t, []apiCase{
		{name: "recover restores status, files and keys", route: route, req: dan, status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if m := e.member(e.ids["dan"]); m.Status != StatusActive || !slices.Equal(m.Files, []string{"d.txt"}) || !m.RemovedAt.IsZero() {
					t.Errorf("%+v", m)
				}
				e.expectResp(t, e.post("members/get_info_v2", `{"members":[{".tag":"external_id","external_id":"ext-dan"}]}`), 200,
					`{"members_info":[{".tag":"member_info","profile":"*"}]}`)
			}},
		{name: "by email within the window", route: route, req: `{"user":` + sel("dan@acme.example") + `}`, status: 200, want: `null`},
		{name: "just inside 7 days", route: route, req: dan, setup: func(e *env) { e.srv.Advance(7*24*time.Hour - time.Second) }, status: 200, want: `null`},
		{name: "rejoins the groups it left", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{ann}"}}`,
			setup: func(e *env) {
				seedGroup(e, SeedGroup{Name: "G", Members: []string{"ann@acme.example"}})
				e.mustPost("members/remove", `{"user":`+sel("ann@acme.example")+`}`)
			},
			status: 200, want: `null`,
			check: func(t *testing.T, e *env) {
				if g := e.team.Snapshot().Groups[0]; !slices.Equal(g.Members, []string{e.ids["ann"]}) {
					t.Errorf("group %+v", g)
				}
			}},
		{name: "user_unrecoverable after 7 days", route: route, req: dan, setup: func(e *env) { e.srv.Advance(7 * 24 * time.Hour) }, status: 409,
			want: conflict("user_unrecoverable"),
			check: func(t *testing.T, e *env) {
				// The window closed, so the email and external id are free again.
				e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"dan@acme.example","member_external_id":"ext-dan"}]}`), 200,
					`{".tag":"complete","complete":[{".tag":"success","profile":"*"}]}`)
				e.expectResp(t, e.post("members/list_v2", `{"include_removed":true}`), 200, `{"members":["*","*","*","*","*",
					{"profile":{"team_member_id":"{dan}","account_id":"*","email":"dan@acme.example","email_verified":true,"external_id":"ext-dan",
					"secondary_emails":[],"status":{".tag":"removed","is_recoverable":false,"is_disconnected":false},"name":"*","membership_type":"*",
					"joined_on":"*","groups":[],"member_folder_id":"*","root_folder_id":"*"}},{"profile":"*"}],"cursor":"*","has_more":false}`)
			}},
		{name: "by email after 7 days the email names nobody", route: route, req: `{"user":` + sel("dan@acme.example") + `}`,
			setup: func(e *env) { e.srv.Advance(8 * 24 * time.Hour) }, status: 409, want: conflict("user_not_found")},
		{name: "user_unrecoverable after a transfer", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"{ann}"}}`,
			setup: func(e *env) {
				e.mustPost("members/remove", `{"user":`+sel("ann@acme.example")+`,"transfer_dest_id":`+sel("uma@acme.example")+`,"transfer_admin_id":`+sel("uma@acme.example")+`}`)
			},
			status: 409, want: conflict("user_unrecoverable")},
		{name: "user_unrecoverable for a current member", route: route, req: `{"user":` + sel("ann@acme.example") + `}`, status: 409, want: conflict("user_unrecoverable")},
		{name: "user_not_found", route: route, req: `{"user":{".tag":"team_member_id","team_member_id":"dbmid:nope"}}`, status: 409, want: conflict("user_not_found")},
		{name: "team_license_limit", route: route, req: dan, setup: func(e *env) { lic := 5; _ = e.team.Configure(TeamSettings{Licenses: &lic}) }, status: 409,
			want: conflict("team_license_limit")},
	})
}
