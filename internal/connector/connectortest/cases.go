package connectortest

import (
	"errors"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
)

func testTeamInfo(t *testing.T, a *suite) {
	_, err := a.Conn.TeamInfo(t.Context())
	a.must(err)
}

// Create: results come back in input order, with the app's id and the fields sent.
func testCreate(t *testing.T, a *suite) {
	ms := []connector.NewMember{member(1), member(2), member(3)}
	got := a.add(false, ms...)
	ids := map[string]bool{}
	for i, m := range got {
		if m.ID == "" || ids[m.ID] || !sameEmail(m.Email, ms[i].Email) || m.GivenName != ms[i].GivenName ||
			m.Surname != ms[i].Surname || m.ExternalID != ms[i].ExternalID {
			t.Errorf("result %d: %+v for %+v", i, m, ms[i])
		}
		if m.Status != connector.StatusInvited && m.Status != connector.StatusActive {
			t.Errorf("%s: new member has status %q", m.Email, m.Status)
		}
		ids[m.ID] = true
		if back := a.get(connector.Selector{ID: m.ID}); !sameEmail(back.Email, ms[i].Email) {
			t.Errorf("read back %+v", back)
		}
	}
	if roles := a.Spec.Roles; len(roles) > 0 && got[0].Role != connector.Role(roles[0]) {
		t.Errorf("a new member's role is %q, want the plain %q", got[0].Role, roles[0])
	}
}

// An existing email or external id is a Conflict with ErrAlreadyMember for
// that member alone (the others in the call are created), and a lookup
// finds the existing member so the engine can link it.
func testCreateExisting(t *testing.T, a *suite) {
	old := a.add(false, member(1))[0]
	byExt := member(2)
	byExt.ExternalID = old.ExternalID
	res, err := a.Conn.AddMembers(t.Context(), []connector.NewMember{member(3), member(1), byExt, member(4)})
	a.must(err)
	if res[0].Err != nil || res[3].Err != nil {
		t.Fatalf("new members beside existing ones failed: %v / %v", res[0].Err, res[3].Err)
	}
	a.wantKind("same email", res[1].Err, connector.Conflict, connector.ErrAlreadyMember)
	a.wantKind("same external id", res[2].Err, connector.Conflict, connector.ErrAlreadyMember)
	for _, sel := range []connector.Selector{{Email: member(1).Email}, {ExternalID: old.ExternalID}} {
		if m := a.get(sel); m.ID != old.ID {
			t.Errorf("lookup %+v found %s, want the existing %s", sel, m.ID, old.ID)
		}
	}
}

func testNoLicence(t *testing.T, a *suite) {
	if a.NoLicences == nil {
		t.Skip("no NoLicences hook")
	}
	a.must(a.NoLicences())
	res, err := a.Conn.AddMembers(t.Context(), []connector.NewMember{member(1)})
	a.must(err)
	a.wantKind("add without a licence", res[0].Err, connector.Permanent, connector.ErrLicenceLimit)
}

// Read: by id, email and external id, in order; nil where nothing matches.
func testRead(t *testing.T, a *suite) {
	m := a.add(false, member(1))[0]
	got, err := a.Conn.GetMembers(t.Context(), []connector.Selector{
		{ID: m.ID}, {Email: m.Email}, {ExternalID: m.ExternalID},
		{ID: a.MissingID}, {Email: "nobody@example.com"}, {ExternalID: "no-such-ext"}, {},
	})
	a.must(err)
	if len(got) != 7 {
		t.Fatalf("%d answers for 7 selectors", len(got))
	}
	for i, g := range got[:3] {
		if g == nil || g.ID != m.ID || !sameEmail(g.Email, m.Email) || g.ExternalID != m.ExternalID || g.GivenName != m.GivenName {
			t.Errorf("selector %d: %+v, want %+v", i, g, m)
		}
	}
	for i, g := range got[3:] {
		if g != nil {
			t.Errorf("selector %d matched nothing but answered %+v", i+3, g)
		}
	}
}

// Profile: only the fields given change; an empty external id clears it.
func testProfile(t *testing.T, a *suite) {
	m := a.add(false, member(1))[0]
	email, given, ext := "renamed@example.com", "Renamed", ""
	got, err := a.Conn.SetProfile(t.Context(), m.ID, connector.ProfileChange{Email: &email, GivenName: &given, ExternalID: &ext})
	a.must(err)
	back := a.get(connector.Selector{ID: m.ID})
	for _, x := range []connector.Member{got, back} {
		if !sameEmail(x.Email, email) || x.GivenName != given || x.Surname != m.Surname || x.ExternalID != "" {
			t.Errorf("after change: %+v", x)
		}
	}
	ext = "new-ext"
	_, err = a.Conn.SetProfile(t.Context(), m.ID, connector.ProfileChange{ExternalID: &ext})
	a.must(err)
	if back := a.get(connector.Selector{ExternalID: ext}); back.ID != m.ID {
		t.Errorf("new external id finds %+v", back)
	}
	_, err = a.Conn.SetProfile(t.Context(), a.MissingID, connector.ProfileChange{GivenName: &given})
	a.wantKind("profile of a missing member", err, connector.NotFound, nil)
}

// Roles: every registered role can be set and reads back.
func testRoles(t *testing.T, a *suite) {
	rs := capable[connector.RoleSetter](a)
	if len(a.Spec.Roles) == 0 {
		t.Fatal("kind declares roles but registers none")
	}
	m := a.add(true, member(1))[0]
	order := append(slices.Clone(a.Spec.Roles[1:]), a.Spec.Roles[0])
	for _, r := range order {
		a.must(rs.SetRole(t.Context(), m.ID, connector.Role(r)))
		if back := a.get(connector.Selector{ID: m.ID}); back.Role != connector.Role(r) {
			t.Errorf("set %q, read back %q", r, back.Role)
		}
	}
	a.wantKind("role of a missing member", rs.SetRole(t.Context(), a.MissingID, connector.Role(a.Spec.Roles[0])), connector.NotFound, nil)
}

// Suspend and unsuspend; doing either twice is a Conflict (already so).
func testSuspend(t *testing.T, a *suite) {
	s := capable[connector.Suspender](a)
	m := a.add(true, member(1))[0]
	a.must(s.Suspend(t.Context(), m.ID, false))
	if got := a.get(connector.Selector{ID: m.ID}).Status; got != connector.StatusSuspended {
		t.Errorf("after suspend: %q", got)
	}
	a.wantKind("suspend twice", s.Suspend(t.Context(), m.ID, false), connector.Conflict, nil)
	a.must(s.Unsuspend(t.Context(), m.ID))
	if got := a.get(connector.Selector{ID: m.ID}).Status; got != connector.StatusActive {
		t.Errorf("after unsuspend: %q", got)
	}
	a.wantKind("unsuspend twice", s.Unsuspend(t.Context(), m.ID), connector.Conflict, nil)
	a.wantKind("suspend a missing member", s.Suspend(t.Context(), a.MissingID, false), connector.NotFound, nil)
}

// Remove: the member is gone from the current list; removing again is NotFound.
func testRemove(t *testing.T, a *suite) {
	ms := a.add(true, member(1), member(2))
	a.must(a.Conn.Remove(t.Context(), ms[0].ID, connector.RemoveOptions{}))
	if got := a.status(ms[0].ID); got != connector.StatusRemoved {
		t.Errorf("after remove: %q", got)
	}
	if got := a.status(ms[1].ID); got == connector.StatusRemoved {
		t.Error("removing one member removed another")
	}
	a.wantKind("remove twice", a.Conn.Remove(t.Context(), ms[0].ID, connector.RemoveOptions{}), connector.NotFound, nil)
	a.wantKind("remove a missing member", a.Conn.Remove(t.Context(), a.MissingID, connector.RemoveOptions{}), connector.NotFound, nil)
}

func testRemoveWipe(t *testing.T, a *suite) {
	m := a.add(true, member(1))[0]
	a.must(a.Conn.Remove(t.Context(), m.ID, connector.RemoveOptions{WipeData: true}))
	if got := a.status(m.ID); got != connector.StatusRemoved {
		t.Errorf("after remove with wipe: %q", got)
	}
}

// Transfer: the leaver's files reach the destination; an unknown destination
// is refused and the leaver stays.
func testRemoveTransfer(t *testing.T, a *suite) {
	ms := a.add(true, member(1), member(2))
	leaver, keeper := ms[0], ms[1]
	if a.GiveFiles != nil {
		a.must(a.GiveFiles(leaver.Email, "plan.txt"))
	}
	err := a.Conn.Remove(t.Context(), leaver.ID, connector.RemoveOptions{TransferDestEmail: "nobody@example.com"})
	a.wantKind("transfer to nobody", err, connector.Permanent, nil)
	if got := a.status(leaver.ID); got == connector.StatusRemoved {
		t.Fatal("a refused transfer removed the leaver")
	}
	a.must(a.Conn.Remove(t.Context(), leaver.ID, connector.RemoveOptions{TransferDestEmail: keeper.Email}))
	if got := a.status(leaver.ID); got != connector.StatusRemoved {
		t.Errorf("after remove with transfer: %q", got)
	}
	if a.Files != nil && len(a.Files(keeper.Email)) == 0 {
		t.Error("the leaver's files did not reach the destination")
	}
}

// Recover brings a removed member back under the same id.
func testRecover(t *testing.T, a *suite) {
	r := capable[connector.Recoverer](a)
	m := a.add(true, member(1))[0]
	a.must(a.Conn.Remove(t.Context(), m.ID, connector.RemoveOptions{}))
	a.must(r.Recover(t.Context(), m.ID))
	if got := a.get(connector.Selector{ID: m.ID}); got.Status == connector.StatusRemoved || !sameEmail(got.Email, m.Email) {
		t.Errorf("after recover: %+v", got)
	}
	a.wantKind("recover a missing member", r.Recover(t.Context(), a.MissingID), connector.NotFound, nil)
}

func testWelcome(t *testing.T, a *suite) {
	w := capable[connector.WelcomeSender](a)
	m := a.add(false, member(1))[0]
	a.must(w.SendWelcomeEmail(t.Context(), m.ID))
	a.wantKind("welcome a missing member", w.SendWelcomeEmail(t.Context(), a.MissingID), connector.NotFound, nil)
}

// ListPaging: every member once, across pages; removed ones only when asked;
// an error from the page function ends the listing and is returned as is.
func testList(t *testing.T, a *suite) {
	n := max(5, a.PageSize+1)
	ms := make([]connector.NewMember, n)
	for i := range ms {
		ms[i] = member(i)
	}
	if a.Seed != nil {
		a.must(a.Seed(ms))
	} else {
		a.add(false, ms...)
	}
	gone := a.get(connector.Selector{Email: ms[0].Email})
	a.must(a.Conn.Remove(t.Context(), gone.ID, connector.RemoveOptions{}))
	list := func(includeRemoved bool) (map[string]int, int) {
		seen, pages := map[string]int{}, 0
		a.must(a.Conn.ListMembers(t.Context(), includeRemoved, func(page []connector.Member) error {
			pages++
			if a.PageSize > 0 && len(page) > a.PageSize {
				t.Errorf("a page of %d members, more than %d", len(page), a.PageSize)
			}
			for _, m := range page {
				seen[m.ID]++
				if m.ID == gone.ID && m.Status != connector.StatusRemoved {
					t.Errorf("removed member listed as %q", m.Status)
				}
			}
			return nil
		}))
		return seen, pages
	}
	cur, pages := list(false)
	if a.PageSize > 0 && pages < 2 {
		t.Errorf("%d members in %d page(s) of at most %d", n, pages, a.PageSize)
	}
	if cur[gone.ID] != 0 {
		t.Error("a removed member is listed without includeRemoved")
	}
	all, _ := list(true)
	if all[gone.ID] != 1 || len(all) != len(cur)+1 {
		t.Errorf("with removed: %d members, want %d", len(all), len(cur)+1)
	}
	for id, k := range all {
		if k != 1 {
			t.Errorf("member %s listed %d times", id, k)
		}
	}
	if len(cur) < n-1 {
		t.Errorf("%d current members listed, want at least %d", len(cur), n-1)
	}
	stop := errors.New("stop")
	if err := a.Conn.ListMembers(t.Context(), false, func([]connector.Member) error { return stop }); err != stop {
		t.Errorf("page error came back as %v", err)
	}
}

// GroupPush: create, rename, members in and out, list, delete; a taken name
// and a gone group answer with their reasons.
func testGroups(t *testing.T, a *suite) {
	gp := capable[connector.GroupPusher](a)
	ctx := t.Context()
	ms := a.add(true, member(1), member(2))
	g, err := gp.CreateGroup(ctx, "Sales", "dir-sales")
	a.must(err)
	if g.ID == "" || g.Name != "Sales" || g.ExternalID != "dir-sales" || g.AppManaged {
		t.Fatalf("created %+v", g)
	}
	_, err = gp.CreateGroup(ctx, "Sales", "")
	a.wantKind("a taken group name", err, connector.Conflict, connector.ErrGroupNameTaken)
	g, err = gp.RenameGroup(ctx, g.ID, "Sales EMEA")
	a.must(err)
	if g.Name != "Sales EMEA" {
		t.Errorf("renamed %+v", g)
	}
	a.must(gp.AddGroupMembers(ctx, g.ID, []string{ms[0].ID, ms[1].ID}))
	a.must(gp.RemoveGroupMembers(ctx, g.ID, []string{ms[1].ID}))
	var in []string
	a.must(gp.ListGroupMembers(ctx, g.ID, func(ids []string) error { in = append(in, ids...); return nil }))
	if !slices.Equal(in, []string{ms[0].ID}) {
		t.Errorf("group members %v, want [%s]", in, ms[0].ID)
	}
	var listed *connector.Group
	a.must(gp.ListGroups(ctx, func(gs []connector.Group) error {
		for i := range gs {
			if gs[i].ID == g.ID {
				listed = &gs[i]
			}
		}
		return nil
	}))
	if listed == nil || listed.Name != "Sales EMEA" || listed.ExternalID != "dir-sales" {
		t.Errorf("listed %+v", listed)
	}
	a.must(gp.DeleteGroup(ctx, g.ID))
	a.wantKind("delete a gone group", gp.DeleteGroup(ctx, g.ID), connector.NotFound, connector.ErrGroupGone)
	err = gp.ListGroupMembers(ctx, g.ID, func([]string) error { return nil })
	a.wantKind("members of a gone group", err, connector.NotFound, connector.ErrGroupGone)
}

// RateLimited: a 429 comes back classified, with the wait the app asked for.
func testRateLimited(t *testing.T, a *suite) {
	if a.Throttle == nil {
		t.Skip("no Throttle hook")
	}
	a.Throttle()
	_, err := a.Conn.GetMembers(t.Context(), []connector.Selector{{Email: "x@example.com"}})
	a.wantKind("a throttled call", err, connector.RateLimited, nil)
	if d, ok := connector.RetryAfterOf(err); !ok || d <= 0 {
		t.Errorf("no Retry-After in %v", err)
	}
}
