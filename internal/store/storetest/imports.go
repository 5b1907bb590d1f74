package storetest

import (
	"errors"
	"fmt"
	"testing"

	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func importTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"ImportSaveKeepsIgnored", testImportSave},
		{"ImportConfirmLinks", testImportConfirm},
		{"ImportConfirmBatch", testImportConfirmBatch},
		{"ImportConfirmConflicts", testImportConfirmConflicts},
		{"ImportFindByRef", testImportFindByRef},
		{"ImportSaveAndConfirm", testImportSaveAndConfirm},
		{"ImportListUsersToMatch", testImportListUsersToMatch},
	}
}

func appUser(appID int64, member, email, state string) store.AppUser {
	return store.AppUser{AppID: appID, MemberID: member, Email: email, GivenName: "G", Surname: "S", Status: "active", Role: "member", State: state, Match: "none"}
}

func testImportSave(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	first := []store.AppUser{appUser(a.ID, "m1", "one@x.io", "unmatched"), appUser(a.ID, "m2", "two@x.io", "unmatched"), appUser(a.ID, "m3", "three@x.io", "unmatched")}
	if err := s.SaveImport(ctx, actor, a.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, "TWO@x.io"); err != nil {
		t.Fatal(err)
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, "nobody"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("ignore unknown: %v", err)
	}
	// Next import: m2 is still there (and stays ignored), m3 left Dropbox, m4 is new.
	second := []store.AppUser{appUser(a.ID, "m1", "one@x.io", "matched"), appUser(a.ID, "m2", "two@x.io", "unmatched"), appUser(a.ID, "m4", "four@x.io", "unmatched")}
	if err := s.SaveImport(ctx, actor, a.ID, second); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListAppUsers(ctx, a.ID, "", store.Page{})
	if err != nil || len(all) != 3 {
		t.Fatalf("app users = %+v, %v", all, err)
	}
	states := map[string]string{}
	for _, au := range all {
		states[au.MemberID] = au.State
	}
	if states["m1"] != "matched" || states["m2"] != "ignored" || states["m4"] != "unmatched" || states["m3"] != "" {
		t.Fatalf("states = %v", states)
	}
	ignored, _ := s.ListAppUsers(ctx, a.ID, store.AppUserIgnored, store.Page{})
	if len(ignored) != 1 || ignored[0].MemberID != "m2" {
		t.Fatalf("ignored = %+v", ignored)
	}
}

func testImportConfirm(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	u := mustUser(t, s, "linkme")
	other := mustUser(t, s, "other")
	au := appUser(a.ID, "dbmid:9", "linkme@example.com", "matched")
	au.Role, au.UserID = "team_admin", u.ID
	if err := s.SaveImport(ctx, actor, a.ID, []store.AppUser{au}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{au}); err != nil {
		t.Fatal(err)
	}
	accts, _ := s.Accounts(ctx, a.ID, []int64{u.ID})
	if accts[u.ID].MemberID != "dbmid:9" || accts[u.ID].Role != "team_admin" {
		t.Fatalf("account = %+v", accts)
	}
	as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx", User: "linkme"})
	if len(as) != 1 || as[0].Role != directory.RoleTeamAdmin {
		t.Fatalf("assignment = %+v", as)
	}
	got, _ := s.GetAppUser(ctx, a.ID, "dbmid:9")
	if got.State != store.AppUserConfirmed || got.UserID != u.ID {
		t.Fatalf("app user = %+v", got)
	}
	// Another directory user cannot take the same member.
	au.UserID = other.ID
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{au}); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("double link: %v", err)
	}
	if err := s.MarkVanished(ctx, actor, a.ID, []int64{u.ID}); err != nil {
		t.Fatal(err)
	}
	accts, _ = s.Accounts(ctx, a.ID, []int64{u.ID})
	if accts[u.ID].Status != "removed" {
		t.Fatalf("vanished account = %+v", accts[u.ID])
	}
	if w, _ := s.PendingWork(ctx, a.ID, 0); len(w) != 1 || w[0].Reason != "import.vanished" {
		t.Fatalf("vanished user not queued: %+v", w)
	}
}

// testImportConfirmBatch confirms more members than fit in one statement: each
// gets its account, a direct assignment (queued) or keeps the one it has, the
// confirmed state and a log entry.
func testImportConfirmBatch(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	const n = 1203
	users := make([]directory.User, n)
	for i := range users {
		users[i] = directory.User{Username: fmt.Sprintf("b%04d", i), Email: fmt.Sprintf("b%04d@x.io", i), FirstName: "B", LastName: fmt.Sprint(i)}
	}
	if err := s.CreateUsers(ctx, actor, users); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for after := int64(0); ; {
		page, _ := s.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: 1000}})
		for _, u := range page {
			ids[u.Username] = u.ID
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	// b0000 already has a direct assignment as admin: it keeps it and is not queued again.
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "b0000", Role: directory.RoleTeamAdmin}); err != nil {
		t.Fatal(err)
	}
	drainWork(t, s, a.ID)
	links := make([]store.AppUser, n)
	want := map[string]int64{}
	for i := range links {
		links[i] = appUser(a.ID, fmt.Sprintf("dbmid:%d", i), fmt.Sprintf("b%04d@x.io", i), "matched")
		links[i].UserID = ids[fmt.Sprintf("b%04d", i)]
		want[links[i].MemberID] = links[i].UserID
	}
	if err := s.SaveImport(ctx, actor, a.ID, links); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmAppUsers(ctx, actor, links); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.CountAccounts(ctx, a.ID); c != n {
		t.Fatalf("accounts = %d, want %d", c, n)
	}
	confirmed := 0
	for after := int64(0); ; {
		page, _ := s.ListAppUsers(ctx, a.ID, store.AppUserConfirmed, store.Page{After: after, Limit: 1000})
		for _, au := range page {
			if au.UserID != want[au.MemberID] {
				t.Fatalf("confirmed to the wrong user: %+v", au)
			}
		}
		confirmed += len(page)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	if confirmed != n {
		t.Fatalf("confirmed app users = %d, want %d", confirmed, n)
	}
	if w, _ := s.PendingWork(ctx, a.ID, 5000); len(w) != n-1 {
		t.Fatalf("queued = %d, want %d (all but the user already assigned)", len(w), n-1)
	}
	as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx", User: "b0000"})
	if len(as) != 1 || as[0].Role != directory.RoleTeamAdmin {
		t.Fatalf("existing assignment changed: %+v", as)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "import.confirm", Target: "b1202"}); len(logs) != 1 || logs[0].App != "dbx" || logs[0].Detail["member_id"] != "dbmid:1202" {
		t.Fatalf("log of a confirmation = %+v", logs)
	}
}

func drainWork(t *testing.T, s Store, appID int64) {
	t.Helper()
	items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "drain", Lease: time.Minute, Limit: 10000, DueBy: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]store.Outcome, len(items))
	for i, it := range items {
		outs[i] = store.Outcome{Item: it}
	}
	if err := s.FinishWork(ctx, "drain", outs); err != nil {
		t.Fatal(err)
	}
}

// testImportConfirmConflicts: one bad link refuses the whole set and changes
// nothing; a removed account of another user does not block its member.
func testImportConfirmConflicts(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	ann, bob, cy := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")
	link := func(member string, u directory.User) store.AppUser {
		au := appUser(a.ID, member, u.Email, "matched")
		au.UserID = u.ID
		return au
	}
	rows := []store.AppUser{link("m-ann", ann), link("m-bob", bob), link("m-cy", cy), link("m-ann2", ann)}
	if err := s.SaveImport(ctx, actor, a.ID, rows); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmAppUsers(ctx, actor, rows[:1]); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		links []store.AppUser
		want  error
	}{
		{"user already linked to a member in the app", []store.AppUser{rows[1], rows[3]}, directory.ErrConflict},
		{"member already linked to another user", []store.AppUser{rows[1], link("m-ann", cy)}, directory.ErrConflict},
		{"same user twice", []store.AppUser{rows[1], link("m-cy", bob)}, directory.ErrConflict},
		{"no such user", []store.AppUser{rows[1], link("m-cy", directory.User{ID: 999999, Email: "ghost@x.io"})}, directory.ErrNotFound},
	}
	for _, c := range cases {
		if err := s.ConfirmAppUsers(ctx, actor, c.links); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if got, _ := s.GetAppUser(ctx, a.ID, "m-bob"); got.State != "matched" {
			t.Fatalf("%s: a refused set changed bob: %+v", c.name, got)
		}
		if accts, _ := s.Accounts(ctx, a.ID, []int64{bob.ID}); len(accts) != 0 {
			t.Fatalf("%s: a refused set linked bob: %+v", c.name, accts)
		}
	}
	// ann's member leaves the app; the member ID returns and goes to cy.
	if err := s.MarkVanished(ctx, actor, a.ID, []int64{ann.ID}); err != nil {
		t.Fatal(err)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "import.vanished"}); len(logs) != 1 || logs[0].Target != "ann" {
		t.Fatalf("vanished log = %+v", logs)
	}
	manual := link("m-ann", cy)
	manual.Match = "manual"
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{manual}); err != nil {
		t.Fatalf("relink a removed member: %v", err)
	}
	accts, _ := s.Accounts(ctx, a.ID, []int64{ann.ID, cy.ID})
	if _, ok := accts[ann.ID]; ok || accts[cy.ID].MemberID != "m-ann" {
		t.Fatalf("accounts after relink = %+v", accts)
	}
	if got, _ := s.GetAppUser(ctx, a.ID, "m-ann"); got.UserID != cy.ID || got.Match != "manual" || got.State != store.AppUserConfirmed {
		t.Fatalf("relinked app user = %+v", got)
	}
}

func testImportFindByRef(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	if err := s.SaveImport(ctx, actor, a.ID, []store.AppUser{appUser(a.ID, "dbmid:Q", "Quinn@x.io", "unmatched")}); err != nil {
		t.Fatal(err)
	}
	byMember, err := s.GetAppUser(ctx, a.ID, "dbmid:Q")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"quinn@X.io", fmt.Sprint(byMember.ID)} {
		if got, err := s.GetAppUser(ctx, a.ID, ref); err != nil || got.MemberID != "dbmid:Q" {
			t.Errorf("by %q: %+v, %v", ref, got, err)
		}
	}
	for _, ref := range []string{"0", "-1", "dbmid:nope", fmt.Sprint(byMember.ID + 1)} {
		if _, err := s.GetAppUser(ctx, a.ID, ref); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("by %q: %v, want not found", ref, err)
		}
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, fmt.Sprint(byMember.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAppUser(ctx, a.ID, "dbmid:Q"); got.State != store.AppUserIgnored {
		t.Fatalf("ignored by ID: %+v", got)
	}
}

// testImportSaveAndConfirm: an import saves its app users and confirms its
// matches in one transaction. Confirmed rows are written confirmed (an ignore
// gives way to a confirmation), the others as they are; a conflict anywhere in
// a set larger than one statement leaves everything as it was.
func testImportSaveAndConfirm(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	ann, bob, cy := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")
	old := appUser(a.ID, "m-old", cy.Email, "matched")
	old.UserID = cy.ID
	if err := s.SaveImport(ctx, actor, a.ID, []store.AppUser{old, appUser(a.ID, "m-bob", bob.Email, "unmatched")}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{old}); err != nil {
		t.Fatal(err)
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, "m-bob"); err != nil {
		t.Fatal(err)
	}
	annRow := appUser(a.ID, "m-ann", ann.Email, "matched")
	annRow.Match, annRow.UserID, annRow.Reason = "exact", ann.ID, "stale reason"
	bobRow := appUser(a.ID, "m-bob", bob.Email, "matched")
	bobRow.Match, bobRow.UserID = "exact", bob.ID
	oldRow := old
	oldRow.State, oldRow.Match = store.AppUserConfirmed, "linked"
	rows := store.AppUsersOf([]store.AppUser{annRow, appUser(a.ID, "m-new", "new@x.io", "unmatched"), bobRow, oldRow})
	if err := s.SaveAndConfirmImport(ctx, actor, a.ID, rows, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	for member, want := range map[string]struct {
		state string
		user  int64
	}{"m-ann": {store.AppUserConfirmed, ann.ID}, "m-bob": {store.AppUserConfirmed, bob.ID}, "m-new": {store.AppUserUnmatched, 0}, "m-old": {store.AppUserConfirmed, cy.ID}} {
		got, err := s.GetAppUser(ctx, a.ID, member)
		if err != nil || got.State != want.state || got.UserID != want.user {
			t.Fatalf("%s = %+v, %v; want %s to %d", member, got, err, want.state, want.user)
		}
		if member == "m-ann" && (got.Reason != "" || got.Match != "exact") {
			t.Fatalf("confirmed app user keeps a reason or lost its match: %+v", got)
		}
	}
	accts, _ := s.Accounts(ctx, a.ID, []int64{ann.ID, bob.ID, cy.ID})
	if len(accts) != 3 || accts[ann.ID].MemberID != "m-ann" || accts[bob.ID].MemberID != "m-bob" {
		t.Fatalf("accounts = %+v", accts)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "import.confirm", Target: "ann"}); len(logs) != 1 {
		t.Fatalf("confirm log of ann = %+v", logs)
	}
	if as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx", User: "bob"}); len(as) != 1 {
		t.Fatalf("bob's assignments = %+v", as)
	}

	// A set of many links whose last one takes cy, linked to m-old: nothing is written.
	const n = 700
	users := make([]directory.User, n)
	for i := range users {
		users[i] = directory.User{Username: fmt.Sprintf("c%04d", i), Email: fmt.Sprintf("c%04d@x.io", i), FirstName: "C", LastName: fmt.Sprint(i)}
	}
	if err := s.CreateUsers(ctx, actor, users); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int64{}
	for after := int64(0); ; {
		page, _ := s.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: 1000}})
		for _, u := range page {
			byName[u.Username] = u.ID
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	var big []store.AppUser
	var confirm []int
	for i := range n {
		au := appUser(a.ID, fmt.Sprintf("m-c%d", i), fmt.Sprintf("c%04d@x.io", i), "matched")
		au.UserID = byName[fmt.Sprintf("c%04d", i)]
		big, confirm = append(big, au), append(confirm, i)
	}
	thief := appUser(a.ID, "m-thief", "thief@x.io", "matched")
	thief.UserID = cy.ID
	big, confirm = append(big, thief, oldRow), append(confirm, n)
	err := s.SaveAndConfirmImport(ctx, actor, a.ID, store.AppUsersOf(big), confirm)
	if !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("conflicting set: %v, want a conflict", err)
	}
	if c, _ := s.CountAccounts(ctx, a.ID); c != 3 {
		t.Fatalf("accounts after a refused set = %d, want 3", c)
	}
	if _, err := s.GetAppUser(ctx, a.ID, "m-c0"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("a refused import saved its app users: %v", err)
	}
	if got, _ := s.GetAppUser(ctx, a.ID, "m-ann"); got.State != store.AppUserConfirmed {
		t.Fatalf("a refused import dropped m-ann: %+v", got)
	}
}

func testImportListUsersToMatch(t *testing.T, s Store) {
	want := []directory.User{mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")}
	var got []directory.User
	for after := int64(0); ; {
		page, err := s.ListUsersToMatch(ctx, store.Page{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("users to match = %+v", got)
	}
	for i, u := range got {
		w := want[i]
		if u.ID != w.ID || u.Username != w.Username || u.Email != w.Email || u.FirstName != w.FirstName || u.LastName != w.LastName || u.Status != w.Status {
			t.Errorf("user %d = %+v, want %+v", i, u, w)
		}
	}
}
