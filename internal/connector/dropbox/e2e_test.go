package dropbox

// End-to-end tests against the in-process Dropbox emulator: the client and the
// emulator are independent readings of the reference, so each checks the other.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

const teamName = "acme"

type env struct {
	t    testing.TB
	srv  *emu.Server
	team *emu.Team
	c    *Client
	url  string
}

// start runs an emulator with one team whose token is testToken, and a client.
func start(t testing.TB, opts Options, scopes ...string) *env {
	t.Helper()
	tc := emu.TeamConfig{Name: teamName, Token: testToken}
	if len(scopes) > 0 {
		tc.Scopes = scopes
	}
	srv, url := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{tc}})
	opts.BaseURL, opts.Token = url, testToken
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Millisecond
	}
	return &env{t: t, srv: srv, team: srv.Team(teamName), c: New(opts), url: url}
}

func (e *env) seed(ms ...emu.SeedMember) []string {
	e.t.Helper()
	ids, err := e.team.Seed(ms)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func (e *env) state(email string) emu.Member {
	e.t.Helper()
	m := e.team.Snapshot().MemberByEmail(email)
	if m == nil {
		e.t.Fatalf("no member %s in the emulator", email)
	}
	return *m
}

func (e *env) get(sel connector.Selector) *connector.Member {
	e.t.Helper()
	ms, err := e.c.GetMembers(e.t.Context(), []connector.Selector{sel})
	if err != nil {
		e.t.Fatal(err)
	}
	return ms[0]
}

func (e *env) group(id string) (emu.GroupSnapshot, bool) {
	for _, g := range e.team.Snapshot().Groups {
		if g.ID == id {
			return g, true
		}
	}
	return emu.GroupSnapshot{}, false
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err error, kind connector.Kind, tag string) {
	t.Helper()
	e := asError(t, err)
	if e.Kind != kind || e.Tag != tag {
		t.Fatalf("got %v; want %v (%s)", err, kind, tag)
	}
}

func TestE2EAddMembersBatchesInOrder(t *testing.T) {
	e := start(t, Options{})
	e.srv.SetFaults(emu.Faults{Jitter: 3 * time.Millisecond}) // concurrent batches finish out of order
	var ms []connector.NewMember
	for i := range 47 {
		ms = append(ms, connector.NewMember{Email: fmt.Sprintf("u%02d@acme.example", i), GivenName: "U", Surname: fmt.Sprint(i),
			ExternalID: fmt.Sprintf("ext-%d", i), SendWelcomeEmail: i%2 == 0})
	}
	ms[5].Role = connector.RoleSupportAdmin
	res, err := e.c.AddMembers(t.Context(), ms)
	must(t, err)
	for i, r := range res {
		if r.Err != nil || r.Email != ms[i].Email || r.Member.Email != ms[i].Email || r.Member.ExternalID != ms[i].ExternalID ||
			r.Member.Status != connector.StatusInvited || r.Member.ID == "" {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if res[5].Member.Role != connector.RoleSupportAdmin || res[6].Member.Role != connector.RoleMember {
		t.Errorf("roles %q %q", res[5].Member.Role, res[6].Member.Role)
	}
	if n := e.srv.Calls()["team/members/add_v2"]; n != 3 {
		t.Errorf("%d add_v2 calls for 47 members, want 3", n)
	}
	sn := e.team.Snapshot()
	welcomed := map[string]bool{}
	for _, w := range sn.Welcome {
		welcomed[w.Email] = true
	}
	for i, m := range ms {
		if welcomed[m.Email] != m.SendWelcomeEmail {
			t.Errorf("%s: welcome email sent = %v, asked %v", m.Email, welcomed[m.Email], m.SendWelcomeEmail)
		}
		if s := sn.MemberByEmail(m.Email); s == nil || s.ID != res[i].Member.ID || s.Status != "invited" {
			t.Errorf("%s: emulator holds %+v", m.Email, s)
		}
	}
	if sn.MemberByEmail(ms[5].Email).RoleID != emu.RoleID("Support admin") {
		t.Error("support admin role not set in the emulator")
	}
}

func TestE2EAddMembersExistingAndInvalid(t *testing.T) {
	e := start(t, Options{})
	e.seed(emu.SeedMember{Email: "old@acme.example", ExternalID: "old-ext", Status: "active"})
	res, err := e.c.AddMembers(t.Context(), []connector.NewMember{
		{Email: "new@acme.example", GivenName: "N"},
		{Email: "OLD@acme.example"},
		{Email: "other@acme.example", ExternalID: "old-ext"},
		{Email: "bad@acme.example", GivenName: "slash/name"}, // 400 for the whole call
		{Email: "new2@acme.example"},
	})
	must(t, err)
	if res[0].Err != nil || res[4].Err != nil {
		t.Fatalf("valid members failed: %v / %v", res[0].Err, res[4].Err)
	}
	wantErr(t, res[1].Err, connector.Conflict, "user_already_on_team")
	wantErr(t, res[2].Err, connector.Conflict, "duplicate_external_member_id")
	wantErr(t, res[3].Err, connector.Permanent, "")
	if !strings.Contains(res[3].Err.Error(), "member_given_name") {
		t.Errorf("400 text lost: %v", res[3].Err)
	}
	sn := e.team.Snapshot()
	if sn.MemberByEmail("bad@acme.example") != nil || sn.MemberByEmail("new2@acme.example") == nil {
		t.Error("the invalid member was added or the valid ones were not")
	}
}

func TestE2EAddMembersLicenseLimit(t *testing.T) {
	e := start(t, Options{})
	lic := 2 // the seeded admin holds one
	must(t, e.team.Configure(emu.TeamSettings{Licenses: &lic}))
	res, err := e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "a@acme.example"}, {Email: "b@acme.example"}})
	must(t, err)
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	wantErr(t, res[1].Err, connector.Permanent, "team_license_limit")
}

func TestE2EGetMembers(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(emu.SeedMember{Email: "a@acme.example", GivenName: "Ann", Surname: "A", ExternalID: "ext-a", Status: "active"},
		emu.SeedMember{Email: "b@acme.example", Role: "User management admin", Status: "active"})
	got, err := e.c.GetMembers(t.Context(), []connector.Selector{
		{Email: "a@acme.example"}, {ExternalID: "ext-a"}, {ID: ids[1]}, {Email: "nobody@acme.example"}, {ExternalID: ""}, {ID: "dbmid:nope"},
	})
	must(t, err)
	for i := range 2 {
		if m := got[i]; m == nil || m.ID != ids[0] || m.GivenName != "Ann" || m.ExternalID != "ext-a" || m.Status != connector.StatusActive ||
			m.Role != connector.RoleMember || len(m.AccountID) != 40 {
			t.Errorf("%d: %+v", i, m)
		}
	}
	if got[2] == nil || got[2].Role != connector.RoleUserManagementAdmin {
		t.Errorf("by id: %+v", got[2])
	}
	if got[3] != nil || got[4] != nil || got[5] != nil {
		t.Errorf("not found: %v %v %v", got[3], got[4], got[5])
	}
	// More selectors than one call carries.
	sel := make([]connector.Selector, 250)
	for i := range sel {
		sel[i] = connector.Selector{Email: "a@acme.example"}
	}
	all, err := e.c.GetMembers(t.Context(), sel)
	must(t, err)
	if all[249] == nil || all[249].ID != ids[0] || e.srv.Calls()["team/members/get_info_v2"] != 4 {
		t.Errorf("chunked lookup: %+v, calls %v", all[249], e.srv.Calls())
	}
}

func TestE2EListMembersPagingAndRemoved(t *testing.T) {
	e := start(t, Options{})
	const n = 2345
	seeds := make([]emu.SeedMember, n)
	for i := range seeds {
		seeds[i] = emu.SeedMember{Email: fmt.Sprintf("m%04d@acme.example", i), GivenName: "M", Surname: fmt.Sprint(i), Status: "active"}
	}
	ids := e.seed(seeds...)
	for _, id := range ids[:3] {
		must(t, e.c.Remove(t.Context(), id, connector.RemoveOptions{}))
	}
	count := func(includeRemoved bool) (map[string]connector.Member, []int) {
		seen := map[string]connector.Member{}
		var sizes []int
		must(t, e.c.ListMembers(t.Context(), includeRemoved, func(ms []connector.Member) error {
			sizes = append(sizes, len(ms))
			for _, m := range ms {
				seen[m.ID] = m
			}
			return nil
		}))
		return seen, sizes
	}
	cur, sizes := count(false)
	if len(cur) != n-3+1 || len(sizes) != 3 || sizes[0] != 1000 { // +1: the team's own admin
		t.Fatalf("current: %d members in pages %v", len(cur), sizes)
	}
	if _, ok := cur[ids[0]]; ok {
		t.Error("a removed member listed without include_removed")
	}
	all, _ := count(true)
	if len(all) != n+1 {
		t.Fatalf("with removed: %d", len(all))
	}
	if r := all[ids[0]]; r.Status != connector.StatusRemoved || !r.Recoverable {
		t.Errorf("removed member %+v", r)
	}
	if m := all[ids[100]]; m.Email != "m0100@acme.example" || m.Surname != "100" || m.Status != connector.StatusActive {
		t.Errorf("member %+v", m)
	}
	stop := fmt.Errorf("stop")
	if err := e.c.ListMembers(t.Context(), false, func([]connector.Member) error { return stop }); err != stop {
		t.Errorf("page error not returned: %v", err)
	}
}

func TestE2ESetProfile(t *testing.T) {
	e := start(t, Options{})
	id := e.seed(emu.SeedMember{Email: "a@acme.example", GivenName: "A", Surname: "One", ExternalID: "ext-a"})[0]
	email, given, ext := "a2@acme.example", "Anna", ""
	m, err := e.c.SetProfile(t.Context(), id, connector.ProfileChange{Email: &email, GivenName: &given, ExternalID: &ext})
	must(t, err)
	if m.Email != email || m.GivenName != "Anna" || m.Surname != "One" || m.ExternalID != "" || m.Status != connector.StatusInvited {
		t.Errorf("answer %+v", m)
	}
	s := e.state(email)
	if s.ExternalID != "" || s.GivenName != "Anna" {
		t.Errorf("emulator holds %+v", s)
	}
	if e.get(connector.Selector{ExternalID: "ext-a"}) != nil {
		t.Error("the cleared external id still finds the member")
	}
	ext = "ext-new"
	m, err = e.c.SetProfile(t.Context(), id, connector.ProfileChange{ExternalID: &ext})
	must(t, err)
	if m.ExternalID != "ext-new" || m.Email != email {
		t.Errorf("answer %+v", m)
	}
	// Nothing to change: the member is read, not written.
	m, err = e.c.SetProfile(t.Context(), id, connector.ProfileChange{})
	if err != nil || m.ID != id || e.srv.Calls()["team/members/set_profile_v2"] != 2 {
		t.Errorf("empty change: %v %+v %v", err, m, e.srv.Calls())
	}
	_, err = e.c.SetProfile(t.Context(), "dbmid:nope", connector.ProfileChange{GivenName: &given})
	wantErr(t, err, connector.NotFound, "user_not_found")
	other := e.seed(emu.SeedMember{Email: "b@acme.example"})[0]
	_, err = e.c.SetProfile(t.Context(), other, connector.ProfileChange{Email: &email})
	wantErr(t, err, connector.Permanent, "email_reserved_for_other_user")
}

func TestE2ERoles(t *testing.T) {
	e := start(t, Options{})
	id := e.seed(emu.SeedMember{Email: "a@acme.example", Status: "active"})[0]
	for _, tc := range []struct {
		role connector.Role
		name string
	}{
		{connector.RoleTeamAdmin, "Team"},
		{connector.RoleUserManagementAdmin, "User management admin"},
		{connector.RoleSupportAdmin, "Support admin"},
		{connector.RoleMember, ""},
	} {
		must(t, e.c.SetRole(t.Context(), id, tc.role))
		if got := e.state("a@acme.example").RoleID; got != emu.RoleID(tc.name) {
			t.Errorf("%s: emulator role %q", tc.role, got)
		}
		if m := e.get(connector.Selector{ID: id}); m.Role != tc.role {
			t.Errorf("%s: read back %q", tc.role, m.Role)
		}
	}
	if n := e.srv.Calls()["team/members/get_available_team_member_roles"]; n != 1 {
		t.Errorf("roles resolved %d times, want once", n)
	}
	admin := e.team.Snapshot().AdminID
	wantErr(t, e.c.SetRole(t.Context(), admin, connector.RoleMember), connector.Permanent, "last_admin")
	wantErr(t, e.c.SetRole(t.Context(), "dbmid:nope", connector.RoleTeamAdmin), connector.NotFound, "user_not_found")
}

func TestE2ESuspendUnsuspend(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(emu.SeedMember{Email: "a@acme.example", Status: "active"}, emu.SeedMember{Email: "inv@acme.example"})
	must(t, e.c.Suspend(t.Context(), ids[0], true))
	if s := e.state("a@acme.example"); s.Status != "suspended" || s.DevicesWiped != 1 {
		t.Fatalf("after suspend with wipe: %+v", s)
	}
	wantErr(t, e.c.Suspend(t.Context(), ids[0], true), connector.Conflict, "suspend_inactive_user")
	must(t, e.c.Unsuspend(t.Context(), ids[0]))
	wantErr(t, e.c.Unsuspend(t.Context(), ids[0]), connector.Conflict, "unsuspend_non_suspended_member")
	must(t, e.c.Suspend(t.Context(), ids[0], false))
	if s := e.state("a@acme.example"); s.Status != "suspended" || s.DevicesWiped != 1 {
		t.Fatalf("after suspend without wipe: %+v", s)
	}
	// An invited member cannot be suspended: not a state retrying reaches.
	wantErr(t, e.c.Suspend(t.Context(), ids[1], true), connector.Permanent, "suspend_inactive_user")
	wantErr(t, e.c.Suspend(t.Context(), "dbmid:nope", true), connector.NotFound, "user_not_found")
}

func TestE2ERemoveRecoverTransfer(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(
		emu.SeedMember{Email: "leaver@acme.example", Status: "active", Files: []string{"plan.txt"}},
		emu.SeedMember{Email: "keeper@acme.example", Status: "active"},
		emu.SeedMember{Email: "boss@acme.example", Status: "active", Role: "User management admin"},
		emu.SeedMember{Email: "other@acme.example", Status: "active", Files: []string{"x.txt"}},
	)
	must(t, e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{WipeData: true}))
	if s := e.state("leaver@acme.example"); s.Status != "removed" || s.DevicesWiped != 1 {
		t.Fatalf("after remove: %+v", s)
	}
	wantErr(t, e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{}), connector.NotFound, "user_not_in_team")
	must(t, e.c.Recover(t.Context(), ids[0]))
	if s := e.state("leaver@acme.example"); s.Status != "active" {
		t.Fatalf("after recover: %+v", s)
	}

	err := e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{TransferDestEmail: "keeper@acme.example", TransferAdminEmail: "other@acme.example"})
	wantErr(t, err, connector.Permanent, "transfer_admin_is_not_admin")
	err = e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{TransferDestEmail: "ghost@acme.example", TransferAdminEmail: "boss@acme.example"})
	wantErr(t, err, connector.Permanent, "transfer_dest_user_not_found")

	must(t, e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{TransferDestEmail: "keeper@acme.example", TransferAdminEmail: "boss@acme.example"}))
	if s := e.state("keeper@acme.example"); !slices.Contains(s.Files, "leaver@acme.example/plan.txt") {
		t.Errorf("files not transferred: %+v", s.Files)
	}
	if s := e.state("leaver@acme.example"); s.Status != "removed" || s.DevicesWiped != 1 || len(s.Files) != 0 {
		t.Errorf("leaver after transfer: %+v", s)
	}
	if e.srv.Calls()["team/members/remove/job_status/get"] < 1 {
		t.Error("the remove job was not polled")
	}
	wantErr(t, e.c.Recover(t.Context(), ids[0]), connector.Permanent, "user_unrecoverable")

	// No transfer admin given: the token's admin is used.
	must(t, e.c.Remove(t.Context(), ids[3], connector.RemoveOptions{TransferDestEmail: "keeper@acme.example"}))
	if s := e.state("keeper@acme.example"); !slices.Contains(s.Files, "other@acme.example/x.txt") {
		t.Errorf("files not transferred with the default admin: %+v", s.Files)
	}
}

func TestE2ESendWelcomeEmail(t *testing.T) {
	e := start(t, Options{})
	res, err := e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "quiet@acme.example", SendWelcomeEmail: false}})
	must(t, err)
	if len(e.team.Snapshot().Welcome) != 0 {
		t.Fatal("a welcome email went out with SendWelcomeEmail=false")
	}
	must(t, e.c.SendWelcomeEmail(t.Context(), res[0].Member.ID))
	if w := e.team.Snapshot().Welcome; len(w) != 1 || w[0].Email != "quiet@acme.example" {
		t.Fatalf("welcome emails %+v", w)
	}
	wantErr(t, e.c.SendWelcomeEmail(t.Context(), "dbmid:nope"), connector.NotFound, "user_not_found")
}

func TestE2EGroups(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(emu.SeedMember{Email: "a@acme.example", Status: "active"}, emu.SeedMember{Email: "b@acme.example"},
		emu.SeedMember{Email: "c@acme.example", Status: "active"})
	g, err := e.c.CreateGroup(t.Context(), "Sales", "dir-sales")
	must(t, err)
	if g.ID == "" || g.Name != "Sales" || g.ExternalID != "dir-sales" || g.ManagementType != "company_managed" || g.MemberCount != 0 {
		t.Fatalf("created %+v", g)
	}
	_, err = e.c.CreateGroup(t.Context(), "sales", "")
	wantErr(t, err, connector.Conflict, "group_name_already_used")
	g, err = e.c.RenameGroup(t.Context(), g.ID, "Sales EMEA")
	must(t, err)
	if g.Name != "Sales EMEA" || g.ExternalID != "dir-sales" {
		t.Fatalf("renamed %+v", g)
	}

	members := func() []string {
		var out []string
		must(t, e.c.ListGroupMembers(t.Context(), g.ID, func(ids []string) error { out = append(out, ids...); return nil }))
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { return slices.Sorted(slices.Values(s)) }
	must(t, e.c.AddGroupMembers(t.Context(), g.ID, ids[:2]))
	if got := members(); !slices.Equal(got, sorted(ids[:2]...)) {
		t.Fatalf("members %v", got)
	}
	// One already in: Dropbox refuses the call; the client resends the rest.
	must(t, e.c.AddGroupMembers(t.Context(), g.ID, []string{ids[0], ids[2]}))
	if got := members(); !slices.Equal(got, sorted(ids...)) {
		t.Fatalf("members after overlapping add %v", got)
	}
	wantErr(t, e.c.AddGroupMembers(t.Context(), g.ID, ids[:1]), connector.Conflict, "duplicate_user")
	wantErr(t, e.c.AddGroupMembers(t.Context(), g.ID, []string{"dbmid:nope"}), connector.NotFound, "users_not_found")
	if m := e.get(connector.Selector{ID: ids[0]}); !slices.Contains(m.Groups, g.ID) {
		t.Errorf("member groups %v", m.Groups)
	}

	must(t, e.c.RemoveGroupMembers(t.Context(), g.ID, []string{ids[1]}))
	if got := members(); !slices.Equal(got, sorted(ids[0], ids[2])) {
		t.Fatalf("members after remove %v", got)
	}
	must(t, e.c.RemoveGroupMembers(t.Context(), g.ID, []string{ids[1], ids[2]})) // ids[1] already out
	wantErr(t, e.c.RemoveGroupMembers(t.Context(), g.ID, []string{ids[2]}), connector.Conflict, "member_not_in_group")
	if gs, ok := e.group(g.ID); !ok || !slices.Equal(gs.Members, ids[:1]) {
		t.Fatalf("emulator group %+v", gs)
	}

	must(t, e.c.DeleteGroup(t.Context(), g.ID))
	if _, ok := e.group(g.ID); ok {
		t.Fatal("group not deleted")
	}
	wantErr(t, e.c.DeleteGroup(t.Context(), g.ID), connector.NotFound, "group_not_found")
	wantErr(t, e.c.ListGroupMembers(t.Context(), g.ID, func([]string) error { return nil }), connector.NotFound, "group_not_found")
}

func TestE2EListGroupsAndGroupMembersPaging(t *testing.T) {
	e := start(t, Options{})
	const n = 1003
	var first connector.Group
	for i := range n {
		g, err := e.c.CreateGroup(t.Context(), fmt.Sprintf("g%04d", i), "")
		must(t, err)
		if i == 0 {
			first = g
		}
	}
	var names []string
	pages := 0
	must(t, e.c.ListGroups(t.Context(), func(gs []connector.Group) error {
		pages++
		for _, g := range gs {
			names = append(names, g.Name)
		}
		return nil
	}))
	if len(names) != n || pages != 2 || !slices.Contains(names, "g1002") {
		t.Fatalf("%d groups in %d pages", len(names), pages)
	}

	seeds := make([]emu.SeedMember, 1001)
	for i := range seeds {
		seeds[i] = emu.SeedMember{Email: fmt.Sprintf("m%04d@acme.example", i)}
	}
	ids := e.seed(seeds...)
	must(t, e.c.AddGroupMembers(t.Context(), first.ID, ids))
	if got := e.srv.Calls()["team/groups/members/add"]; got != 11 {
		t.Errorf("%d groups/members/add calls for 1001 members, want 11", got)
	}
	var got []string
	pages = 0
	must(t, e.c.ListGroupMembers(t.Context(), first.ID, func(ids []string) error { pages++; got = append(got, ids...); return nil }))
	if len(got) != len(ids) || pages != 2 {
		t.Fatalf("%d group members in %d pages", len(got), pages)
	}
}

func TestE2ETeamInfoAndAdmin(t *testing.T) {
	e := start(t, Options{})
	e.seed(emu.SeedMember{Email: "a@acme.example"}, emu.SeedMember{Email: "b@acme.example", Status: "active"})
	ti, err := e.c.TeamInfo(t.Context())
	must(t, err)
	sn := e.team.Snapshot()
	if ti.Name != teamName || ti.TeamID != sn.ID || ti.LicensedUsers != sn.Licenses || ti.ProvisionedUsers != 3 || ti.UsedLicenses != 2 {
		t.Errorf("team info %+v", ti)
	}
	a, err := e.c.AuthenticatedAdmin(t.Context())
	must(t, err)
	if a.ID != sn.AdminID || a.Role != connector.RoleTeamAdmin || a.Status != connector.StatusActive || a.Email == "" {
		t.Errorf("admin %+v", a)
	}
}

func TestE2ERateLimitRetryAfterAndPacer(t *testing.T) {
	p := &recPacer{}
	e := start(t, Options{Pacer: p})
	ids := e.seed(emu.SeedMember{Email: "a@acme.example", Status: "active"})
	e.srv.SetFaults(emu.Faults{WritesPerSec: 1}) // the second write within a second gets 429
	must(t, e.c.Suspend(t.Context(), ids[0], false))
	t0 := time.Now()
	must(t, e.c.Unsuspend(t.Context(), ids[0]))
	if d := time.Since(t0); d < 900*time.Millisecond {
		t.Errorf("resent after %v, before Retry-After", d)
	}
	if len(p.pauses) != 1 || p.pauses[0] != time.Second || e.team.Snapshot().Stats.Got429 != 1 {
		t.Errorf("pauses %v, 429s %d", p.pauses, e.team.Snapshot().Stats.Got429)
	}
	if s := e.state("a@acme.example"); s.Status != "active" {
		t.Errorf("status %s", s.Status)
	}
}

func TestE2ERateLimitPlainTextExhausted(t *testing.T) {
	e := start(t, Options{MaxRateLimitRetries: 1})
	e.srv.SetFaults(emu.Faults{Rate429: 1, Plain429: 1, RetryAfter: 1})
	t0 := time.Now()
	_, err := e.c.TeamInfo(t.Context())
	ce := asError(t, err)
	if ce.Kind != connector.RateLimited || ce.RetryAfter != time.Second || time.Since(t0) < 900*time.Millisecond {
		t.Fatalf("got %+v after %v", ce, time.Since(t0))
	}
	if n := e.srv.Calls()["team/get_info"]; n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestE2EServerErrors(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(emu.SeedMember{Email: "a@acme.example", Status: "active"})
	e.srv.SetFaults(emu.Faults{Rate5xx: 1})
	wantErr(t, e.c.Suspend(t.Context(), ids[0], true), connector.Retryable, "")
	if n := e.srv.Calls()["team/members/suspend"]; n != 1 {
		t.Errorf("a write was resent after 5xx: %d calls", n)
	}
	_, err := e.c.GetMembers(t.Context(), []connector.Selector{{ID: ids[0]}})
	wantErr(t, err, connector.Retryable, "")
	if n := e.srv.Calls()["team/members/get_info_v2"]; n != 3 {
		t.Errorf("a read was sent %d times after 5xx, want 3", n)
	}
}

func TestE2ELostAnswer(t *testing.T) {
	e := start(t, Options{})
	e.srv.SetFaults(emu.Faults{Lost: 1})
	res, err := e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "a@acme.example"}})
	must(t, err)
	wantErr(t, res[0].Err, connector.Retryable, "")
	if n := e.srv.Calls()["team/members/add_v2"]; n != 1 {
		t.Errorf("a write with a lost answer was resent: %d calls", n)
	}
	e.srv.SetFaults(emu.Faults{})
	if e.team.Snapshot().MemberByEmail("a@acme.example") == nil {
		t.Fatal("the emulator did not make the change")
	}
	res, err = e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "a@acme.example"}})
	must(t, err)
	wantErr(t, res[0].Err, connector.Conflict, "user_already_on_team") // the engine links it
}

func TestE2EAuth(t *testing.T) {
	e := start(t, Options{}, "members.read")
	_, err := e.c.GetMembers(t.Context(), []connector.Selector{{Email: "x@acme.example"}})
	must(t, err)
	err = e.c.Suspend(t.Context(), "dbmid:x", true)
	wantErr(t, err, connector.Auth, "missing_scope")
	if !strings.Contains(err.Error(), "members.write") {
		t.Errorf("required scope not named: %v", err)
	}

	bad := New(Options{BaseURL: e.url, Token: "sl.u.WRONG-token"})
	_, err = bad.TeamInfo(t.Context())
	wantErr(t, err, connector.Auth, "invalid_access_token")
	if strings.Contains(err.Error(), "WRONG") {
		t.Errorf("token in error: %v", err)
	}

	e.srv.ExpireToken(testToken)
	_, err = e.c.TeamInfo(t.Context())
	wantErr(t, err, connector.Auth, "expired_access_token")
}

func TestE2ETokenSourceRefresh(t *testing.T) {
	e := start(t, Options{})
	_, err := e.srv.AddTeam(emu.TeamConfig{Name: teamName, Token: "fresh-token"})
	must(t, err)
	e.srv.ExpireToken(testToken)
	var mu sync.Mutex
	calls := 0
	src := func(context.Context) (string, error) { // hands out the old token first, as a cache would
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return testToken, nil
		}
		return "fresh-token", nil
	}
	c := New(Options{BaseURL: e.url, TokenSource: src})
	ti, err := c.TeamInfo(t.Context())
	if err != nil || ti.Name != teamName || calls != 2 {
		t.Fatalf("%v %+v after %d token calls", err, ti, calls)
	}
}

func TestE2EAsyncJobs(t *testing.T) {
	e := start(t, Options{})
	ids := e.seed(emu.SeedMember{Email: "leaver@acme.example", Status: "active", Files: []string{"f"}},
		emu.SeedMember{Email: "keeper@acme.example", Status: "active"})
	e.srv.SetFaults(emu.Faults{AsyncAdd: 1, JobPolls: 2})
	var ms []connector.NewMember
	for i := range 25 {
		ms = append(ms, connector.NewMember{Email: fmt.Sprintf("a%02d@acme.example", i)})
	}
	res, err := e.c.AddMembers(t.Context(), ms)
	must(t, err)
	for i, r := range res {
		if r.Err != nil || r.Member.Email != ms[i].Email {
			t.Fatalf("%d: %+v", i, r)
		}
	}
	if n := e.srv.Calls()["team/members/add/job_status/get_v2"]; n != 6 { // 2 batches × (2 in_progress + complete)
		t.Errorf("%d add polls, want 6", n)
	}

	e.srv.SetFaults(emu.Faults{JobPolls: 1, JobFail: 1})
	res, err = e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "late@acme.example"}})
	must(t, err)
	if res[0].Err != nil { // add_v2 answers at once unless async_add applies
		t.Fatal(res[0].Err)
	}
	err = e.c.Remove(t.Context(), ids[0], connector.RemoveOptions{TransferDestEmail: "keeper@acme.example"})
	wantErr(t, err, connector.Retryable, "internal_error")
	if s := e.state("leaver@acme.example"); s.Status != "removed" {
		t.Errorf("the failed job's change is not there: %+v", s)
	}
	e.srv.SetFaults(emu.Faults{AsyncAdd: 1, JobFail: 1})
	res, err = e.c.AddMembers(t.Context(), []connector.NewMember{{Email: "lost@acme.example"}})
	must(t, err)
	wantErr(t, res[0].Err, connector.Retryable, "internal_error")
}

func TestE2ESystemGroup(t *testing.T) {
	srv, url := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: teamName, Token: testToken, EveryoneGroup: true}}})
	c := New(Options{BaseURL: url, Token: testToken})
	var sys connector.Group
	must(t, c.ListGroups(t.Context(), func(gs []connector.Group) error {
		for _, g := range gs {
			if g.ManagementType == "system_managed" {
				sys = g
			}
		}
		return nil
	}))
	if sys.ID == "" || sys.MemberCount != 1 {
		t.Fatalf("system group %+v", sys)
	}
	_, err := c.RenameGroup(t.Context(), sys.ID, "Everyone else")
	wantErr(t, err, connector.Permanent, "system_managed_group_disallowed")
	wantErr(t, c.DeleteGroup(t.Context(), sys.ID), connector.Permanent, "system_managed_group_disallowed")
	var members []string
	must(t, c.ListGroupMembers(t.Context(), sys.ID, func(ids []string) error { members = append(members, ids...); return nil }))
	if len(members) != 1 || members[0] != srv.Team(teamName).Snapshot().AdminID {
		t.Errorf("everyone members %v", members)
	}
}

// CheckTransfer names each account Dropbox would refuse at the first removal.
func TestE2ECheckTransfer(t *testing.T) {
	e := start(t, Options{})
	e.seed(emu.SeedMember{Email: "keeper@acme.example", Status: "active"}, emu.SeedMember{Email: "new@acme.example"},
		emu.SeedMember{Email: "boss@acme.example", Status: "active", Role: "User management admin"})
	admin, _ := e.team.Member(e.team.Snapshot().AdminID)
	for _, c := range []struct {
		dest, admin string
		want        []string
	}{
		{"keeper@acme.example", admin.Email, nil},
		{"new@acme.example", admin.Email, []string{"destination new@acme.example is not an active member"}},
		{"keeper@acme.example", "boss@acme.example", []string{"boss@acme.example is not a team admin (role user_management_admin)"}},
		{"ghost@acme.example", "nobody@acme.example", []string{"ghost@acme.example is not an active member", "nobody@acme.example is not an active member"}},
	} {
		got, err := e.c.CheckTransfer(t.Context(), c.dest, c.admin)
		must(t, err)
		if len(got) != len(c.want) {
			t.Fatalf("%s/%s: %q, want %q", c.dest, c.admin, got, c.want)
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%s/%s: %q, want %q", c.dest, c.admin, got[i], c.want[i])
			}
		}
	}
}
