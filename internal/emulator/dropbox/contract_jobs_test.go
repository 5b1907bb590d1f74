package dropbox

import "testing"

// A job that breaks on Dropbox's side polls as 409 internal_error (PollError,
// reference §4.4, §5.2, §5.11, §7.10), and the change it stood for has been
// made, which is why the reference says to re-read state before retrying.
func TestContractJobsThatFail(t *testing.T) {
	for _, tc := range []struct {
		name, launch, body, poll string
		made                     func(e *env) bool
	}{
		{"members/add_v2", "members/add_v2", `{"new_members":[{"member_email":"x@acme.example"}],"force_async":true}`,
			"members/add/job_status/get_v2", func(e *env) bool { _, ok := e.team.Member("x@acme.example"); return ok }},
		{"members/remove with a transfer", "members/remove",
			`{"user":` + sel("ann@acme.example") + `,"transfer_dest_id":` + sel("uma@acme.example") + `,"transfer_admin_id":` + sel("admin@acme.example") + `}`,
			"members/remove/job_status/get", func(e *env) bool { return e.member(e.ids["ann"]).Status == StatusRemoved }},
		{"groups/delete of a group with members", "groups/delete", `{".tag":"group_id","group_id":"{g}"}`,
			"groups/job_status/get", func(e *env) bool { return len(e.team.Snapshot().Groups) == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStdEnv(t)
			e.ids["g"] = seedGroup(e, SeedGroup{Name: "G", Members: []string{"ann@acme.example"}})
			e.srv.SetFaults(Faults{JobFail: 1, JobPolls: 1})
			launch := e.mustPost(tc.launch, tc.body)
			if launch[".tag"] != "async_job_id" {
				t.Fatalf("launch %v", launch)
			}
			job := jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})
			e.expectResp(t, e.post(tc.poll, job), 200, `{".tag":"in_progress"}`)
			e.expectResp(t, e.post(tc.poll, job), 409, conflict("internal_error"))
			e.expectResp(t, e.post(tc.poll, job), 409, conflict("internal_error")) // and stays failed
			if !tc.made(e) {
				t.Error("the failed job's change was not made")
			}
		})
	}
}
