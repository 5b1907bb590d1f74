package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

const actor store.Actor = "test"

// Store is a store under test: every role of the store, as its consumers
// see them, and a clock the tests can set.
type Store interface {
	store.Store
	store.Engine
	store.GroupPush
	store.Offboardings
	store.Admins
	store.Imports
	store.Fleet
	SetClock(now func() time.Time)
}

// Run runs every conformance test against stores opened by open, each on a
// fresh store of its own, side by side.
func Run(t *testing.T, open func(testing.TB) Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"UserCreateGet", testUserCreateGet},
		{"UserUniqueCaseInsensitive", testUserUnique},
		{"UserConcurrentCreate", testUserConcurrentCreate},
		{"UserValidation", testUserValidation},
		{"UserTransitions", testUserTransitions},
		{"UserListPaging", testUserList},
		{"UserDelete", testUserDelete},
		{"BulkCreateAllOrNothing", testBulkCreate},
		{"BulkCreateSeqAllOrNothing", testBulkCreateSeq},
		{"Groups", testGroups},
		{"GroupMembersInBulk", testGroupMembersInBulk},
		{"Apps", testApps},
		{"Assignments", testAssignments},
		{"OutboxFollowsChanges", testOutboxFollowsChanges},
		{"OutboxAtomic", testOutboxAtomic},
		{"OutboxCoalesces", testOutboxCoalesces},
		{"SystemLog", testSystemLog},
		{"Tokens", testTokens},
	}
	tests = append(tests, engineTests()...)
	tests = append(tests, importTests()...)
	tests = append(tests, adminTests()...)
	tests = append(tests, groupPushTests()...)
	tests = append(tests, laneTests()...)
	tests = append(tests, offboardingTests()...)
	tests = append(tests, identityTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func mustUser(t *testing.T, s store.Store, username string) directory.User {
	t.Helper()
	u := directory.User{Username: username, Email: username + "@example.com", FirstName: "F" + username, LastName: "L" + username}
	if err := s.CreateUser(ctx, actor, &u); err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

func mustApp(t *testing.T, s store.Store, name string) app.Instance {
	t.Helper()
	a := app.Instance{Name: name, Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	if err := s.CreateApp(ctx, actor, &a); err != nil {
		t.Fatalf("create app: %v", err)
	}
	return a
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func testUserCreateGet(t *testing.T, s Store) {
	u := directory.User{Username: " Alice@Example.com ", Email: "Alice@Example.com", FirstName: "Alice", LastName: "Liddell",
		Attributes: map[string]string{"department": "Wonderland"}}
	if err := s.CreateUser(ctx, actor, &u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Status != directory.StatusActive || u.Username != "Alice@Example.com" {
		t.Fatalf("created user = %+v", u)
	}
	got, err := s.GetUser(ctx, "alice@example.COM")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.Email != "Alice@Example.com" || got.Attributes["department"] != "Wonderland" || got.LastName != "Liddell" {
		t.Fatalf("got %+v", got)
	}
	byID, err := s.GetUserByID(ctx, u.ID)
	if err != nil || byID.Username != u.Username {
		t.Fatalf("by id: %+v %v", byID, err)
	}
	_, err = s.GetUser(ctx, "nobody")
	wantErr(t, err, directory.ErrNotFound)
}

func testUserUnique(t *testing.T, s Store) {
	mustUser(t, s, "bob")
	for _, u := range []directory.User{
		{Username: "BOB", Email: "other@example.com"},
		{Username: "robert", Email: "Bob@Example.com"},
	} {
		err := s.CreateUser(ctx, actor, &u)
		wantErr(t, err, directory.ErrConflict)
	}
	mustUser(t, s, "carol")
	_, err := s.UpdateUser(ctx, actor, "carol", "user.update", func(u *directory.User) error {
		u.Email = "BOB@example.com"
		return nil
	})
	wantErr(t, err, directory.ErrConflict)
}

func testUserConcurrentCreate(t *testing.T, s Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := directory.User{Username: "dana", Email: fmt.Sprintf("dana%d@example.com", i)}
			if i%2 == 1 { // half race on the email instead of the username
				u = directory.User{Username: fmt.Sprintf("dana%d", i), Email: "dana@example.com"}
			}
			errs[i] = s.CreateUser(ctx, actor, &u)
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, directory.ErrConflict):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	users, err := s.ListUsers(ctx, store.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if wins != len(users) || wins < 1 || wins > 2 {
		t.Fatalf("%d creates won, %d users stored", wins, len(users))
	}
}

func testUserValidation(t *testing.T, s Store) {
	for _, u := range []directory.User{
		{Username: "", Email: "a@example.com"},
		{Username: "has space", Email: "a@example.com"},
		{Username: "x", Email: "not-an-email"},
		{Username: "x", Email: "Name <x@example.com>"},
		{Username: "x", Email: "x@example.com", Status: "gone"},
		{Username: "x", Email: "x@example.com", Attributes: map[string]string{"9bad": "v"}},
		{Username: "x", Email: "x@example.com", FirstName: "bell\a"},
	} {
		err := s.CreateUser(ctx, actor, &u)
		wantErr(t, err, directory.ErrInvalid)
	}
	if users, _ := s.ListUsers(ctx, store.UserFilter{}); len(users) != 0 {
		t.Fatalf("invalid users stored: %v", users)
	}
}

func testUserTransitions(t *testing.T, s Store) {
	u := directory.User{Username: "erin", Email: "erin@example.com", Status: directory.StatusStaged}
	if err := s.CreateUser(ctx, actor, &u); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		tr   directory.Transition
		want directory.Status
		ok   bool
	}{
		{directory.Suspend, directory.StatusStaged, false},
		{directory.Unsuspend, directory.StatusStaged, false},
		{directory.Reactivate, directory.StatusStaged, false},
		{directory.Activate, directory.StatusActive, true},
		{directory.Activate, directory.StatusActive, false},
		{directory.Unsuspend, directory.StatusActive, false},
		{directory.Suspend, directory.StatusSuspended, true},
		{directory.Suspend, directory.StatusSuspended, false},
		{directory.Reactivate, directory.StatusSuspended, false},
		{directory.Unsuspend, directory.StatusActive, true},
		{directory.Deactivate, directory.StatusDeprovisioned, true},
		{directory.Suspend, directory.StatusDeprovisioned, false},
		{directory.Unsuspend, directory.StatusDeprovisioned, false},
		{directory.Deactivate, directory.StatusDeprovisioned, false},
		{directory.Reactivate, directory.StatusActive, true},
	}
	for i, st := range steps {
		got, err := s.UpdateUser(ctx, actor, "erin", "user."+string(st.tr), func(u *directory.User) error {
			next, err := st.tr.Apply(u.Status)
			u.Status = next
			return err
		})
		if st.ok != (err == nil) {
			t.Fatalf("step %d %s: err = %v", i, st.tr, err)
		}
		if !st.ok {
			wantErr(t, err, directory.ErrInvalidTransition)
			got, _ = s.GetUser(ctx, "erin")
		}
		if got.Status != st.want {
			t.Fatalf("step %d %s: status %s, want %s", i, st.tr, got.Status, st.want)
		}
	}
}

func testUserList(t *testing.T, s Store) {
	for i := range 25 {
		u := directory.User{Username: fmt.Sprintf("user%02d", i), Email: fmt.Sprintf("u%02d@example.com", i), FirstName: "Pat", LastName: fmt.Sprint("Num", i)}
		if i%5 == 0 {
			u.Status = directory.StatusStaged
		}
		if err := s.CreateUser(ctx, actor, &u); err != nil {
			t.Fatal(err)
		}
	}
	var all []directory.User
	after := int64(0)
	for {
		page, err := s.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if len(all) != 25 || all[0].Username != "user00" || all[24].Username != "user24" {
		t.Fatalf("paged %d users", len(all))
	}
	staged, _ := s.ListUsers(ctx, store.UserFilter{Status: directory.StatusStaged})
	if len(staged) != 5 {
		t.Fatalf("staged = %d", len(staged))
	}
	found, _ := s.ListUsers(ctx, store.UserFilter{Search: "pat num1"})
	if len(found) != 11 { // Num1, Num10..Num19
		t.Fatalf("search found %d", len(found))
	}
	literal, _ := s.ListUsers(ctx, store.UserFilter{Search: "%"})
	if len(literal) != 0 {
		t.Fatalf("%% must match literally, found %d", len(literal))
	}
}

func testUserDelete(t *testing.T, s Store) {
	mustUser(t, s, "fay")
	wantErr(t, s.DeleteUser(ctx, actor, "fay"), directory.ErrInvalidTransition)
	if _, err := s.UpdateUser(ctx, actor, "fay", "user.deactivate", func(u *directory.User) error {
		u.Status = directory.StatusDeprovisioned
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, actor, "FAY"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetUser(ctx, "fay")
	wantErr(t, err, directory.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, actor, "fay"), directory.ErrNotFound)
}

func testBulkCreate(t *testing.T, s Store) {
	mustUser(t, s, "taken")
	batch := make([]directory.User, 1200) // spans several multi-row inserts
	for i := range batch {
		batch[i] = directory.User{Username: fmt.Sprintf("bulk%d", i), Email: fmt.Sprintf("bulk%d@example.com", i)}
	}
	batch[1100].Email = "TAKEN@example.com"
	err := s.CreateUsers(ctx, actor, batch)
	wantErr(t, err, directory.ErrConflict)
	if users, _ := s.ListUsers(ctx, store.UserFilter{}); len(users) != 1 {
		t.Fatalf("a failed bulk load left %d users", len(users))
	}
	taken, err := s.ExistingUsers(ctx, []string{"bulk1", "TAKEN"}, []string{"taken@EXAMPLE.com", "x@example.com"})
	if err != nil || len(taken) != 2 || !taken["taken"] || !taken["taken@example.com"] {
		t.Fatalf("existing = %v, %v", taken, err)
	}
	batch[1100].Email = "bulk1100@example.com"
	if err := s.CreateUsers(ctx, actor, batch); err != nil {
		t.Fatal(err)
	}
	u, err := s.GetUser(ctx, "bulk1199")
	if err != nil || u.Email != "bulk1199@example.com" || u.Status != directory.StatusActive {
		t.Fatalf("bulk user = %+v, %v", u, err)
	}
}

// CreateUsersSeq stores a stream of users in one transaction: a conflict
// or an error from the stream after several statements leaves nothing.
func testBulkCreateSeq(t *testing.T, s Store) {
	mustUser(t, s, "taken")
	boom := errors.New("the stream broke")
	stream := func(n int, at int, bad func(*directory.User) error) iter.Seq2[directory.User, error] {
		return func(yield func(directory.User, error) bool) {
			for i := range n {
				u := directory.User{Username: fmt.Sprintf("seq%d", i), Email: fmt.Sprintf("seq%d@example.com", i)}
				var err error
				if i == at {
					err = bad(&u)
				}
				if !yield(u, err) {
					return
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		bad  func(*directory.User) error
		want error
	}{
		{"conflict", func(u *directory.User) error { u.Email = "TAKEN@example.com"; return nil }, directory.ErrConflict},
		{"invalid", func(u *directory.User) error { u.Email = "nope"; return nil }, directory.ErrInvalid},
		{"stream error", func(*directory.User) error { return boom }, boom},
	} {
		n, err := s.CreateUsersSeq(ctx, actor, stream(1200, 1100, c.bad)) // past two statements
		if !errors.Is(err, c.want) || n != 0 {
			t.Fatalf("%s: %d, %v; want %v", c.name, n, err, c.want)
		}
		if users, _ := s.ListUsers(ctx, store.UserFilter{}); len(users) != 1 {
			t.Fatalf("%s: a failed load left %d users", c.name, len(users)-1)
		}
	}
	n, err := s.CreateUsersSeq(ctx, actor, stream(1200, -1, nil))
	if err != nil || n != 1200 {
		t.Fatalf("load = %d, %v", n, err)
	}
	if u, err := s.GetUser(ctx, "seq1199"); err != nil || u.Status != directory.StatusActive || u.CreatedAt.IsZero() {
		t.Fatalf("last user = %+v, %v", u, err)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "user.create", Target: "seq1199"}); len(logs) != 1 {
		t.Fatalf("log of the last user: %+v", logs)
	}
}

func testGroups(t *testing.T, s Store) {
	g := directory.Group{Name: "Engineering", Description: "builders"}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	dup := directory.Group{Name: "engineering"}
	wantErr(t, s.CreateGroup(ctx, actor, &dup), directory.ErrConflict)
	mustUser(t, s, "gus")
	mustUser(t, s, "hal")
	if err := s.AddGroupMembers(ctx, actor, "ENGINEERING", []string{"gus", "hal", "gus"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.AddGroupMembers(ctx, actor, "Engineering", []string{"nobody"}), directory.ErrNotFound)
	got, err := s.GetGroup(ctx, "engineering")
	if err != nil || got.Members != 2 || got.Description != "builders" {
		t.Fatalf("group = %+v, %v", got, err)
	}
	members, _ := s.ListUsers(ctx, store.UserFilter{Group: "Engineering"})
	if len(members) != 2 {
		t.Fatalf("members = %d", len(members))
	}
	if err := s.RemoveGroupMembers(ctx, actor, "Engineering", []string{"gus"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetGroup(ctx, "Engineering"); got.Members != 1 {
		t.Fatalf("members after remove = %d", got.Members)
	}
	if err := s.DeleteGroup(ctx, actor, "Engineering"); err != nil {
		t.Fatal(err)
	}
	groups, _ := s.ListGroups(ctx, store.Page{})
	if len(groups) != 0 {
		t.Fatalf("groups left: %v", groups)
	}
	if _, err := s.GetUser(ctx, "hal"); err != nil {
		t.Fatalf("deleting a group must keep its users: %v", err)
	}
}

func testApps(t *testing.T, s Store) {
	a := mustApp(t, s, "dropbox-main")
	dup := app.Instance{Name: "Dropbox-Main", Kind: app.KindDropbox, BaseURL: "https://x.example", Settings: app.DefaultSettings()}
	wantErr(t, s.CreateApp(ctx, actor, &dup), directory.ErrConflict)
	bad := app.Instance{Name: "bad", Kind: "slack", BaseURL: "ftp://x", Settings: app.DefaultSettings()}
	wantErr(t, s.CreateApp(ctx, actor, &bad), directory.ErrInvalid)

	_, err := s.UpdateApp(ctx, actor, "dropbox-main", func(a *app.Instance) error {
		a.Settings.Deactivation.FileManagement = app.FilesTransfer // no accounts named
		return nil
	})
	wantErr(t, err, directory.ErrInvalid)
	got, err := s.UpdateApp(ctx, actor, "dropbox-main", func(a *app.Instance) error {
		a.Settings.Provisioning = true
		a.Settings.Deactivation = app.Deactivation{Type: app.DeactivateRemove, FileManagement: app.FilesTransfer,
			TransferDest: "keeper@example.com", TransferAdmin: "admin@example.com"}
		return nil
	})
	if err != nil || !got.Settings.Provisioning {
		t.Fatalf("update = %+v, %v", got, err)
	}
	stored, _ := s.GetApp(ctx, "DROPBOX-MAIN")
	if stored.Settings.Deactivation.TransferDest != "keeper@example.com" || stored.HasToken {
		t.Fatalf("stored = %+v", stored)
	}
	if _, err := s.AppCredential(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("credential before set: %v", err)
	}
	if err := s.SetAppCredential(ctx, actor, "dropbox-main", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAppCredential(ctx, actor, "dropbox-main", []byte{4, 5}); err != nil {
		t.Fatal(err)
	}
	sealed, err := s.AppCredential(ctx, a.ID)
	if err != nil || string(sealed) != "\x04\x05" {
		t.Fatalf("credential = %v, %v", sealed, err)
	}
	if stored, _ := s.GetApp(ctx, "dropbox-main"); !stored.HasToken {
		t.Fatal("HasToken false after setting a credential")
	}
	apps, _ := s.ListApps(ctx)
	if len(apps) != 1 {
		t.Fatalf("apps = %d", len(apps))
	}
}

func testAssignments(t *testing.T, s Store) {
	mustApp(t, s, "dbx")
	mustUser(t, s, "ivy")
	g := directory.Group{Name: "sales"}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "ivy", Role: directory.RoleTeamAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", GroupName: "sales"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "ivy", Role: "owner"}), directory.ErrInvalid)
	wantErr(t, s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "ghost"}), directory.ErrNotFound)
	wantErr(t, s.Assign(ctx, actor, &directory.Assignment{AppName: "nope", Username: "ivy"}), directory.ErrNotFound)
	// Re-assigning changes the role instead of adding a second assignment.
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "ivy", Role: directory.RoleSupportAdmin}); err != nil {
		t.Fatal(err)
	}
	as, err := s.ListAssignments(ctx, store.AssignmentFilter{App: "DBX"})
	if err != nil || len(as) != 2 {
		t.Fatalf("assignments = %v, %v", as, err)
	}
	if as[0].Username != "ivy" || as[0].Role != directory.RoleSupportAdmin || as[1].GroupName != "sales" || as[1].Role != directory.RoleMember {
		t.Fatalf("assignments = %+v", as)
	}
	if err := s.Unassign(ctx, actor, "dbx", "ivy", ""); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Unassign(ctx, actor, "dbx", "ivy", ""), directory.ErrNotFound)
	if as, _ := s.ListAssignments(ctx, store.AssignmentFilter{User: "ivy"}); len(as) != 0 {
		t.Fatalf("left %v", as)
	}
}

// pending returns the queued user IDs of an app with their generations.
func pending(t *testing.T, s store.Store, appID int64) map[int64]int64 {
	t.Helper()
	items, err := s.PendingWork(ctx, appID, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int64{}
	for _, w := range items {
		if w.Kind != store.WorkUser || w.AppID != appID {
			t.Fatalf("unexpected item %+v", w)
		}
		out[w.RefID] = w.Generation
	}
	return out
}

func testOutboxFollowsChanges(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	other := mustApp(t, s, "other")
	jo, kim, lee := mustUser(t, s, "jo"), mustUser(t, s, "kim"), mustUser(t, s, "lee")
	if got := pending(t, s, 0); len(got) != 0 {
		t.Fatalf("unassigned users queued: %v", got)
	}
	g := directory.Group{Name: "ops"}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMembers(ctx, actor, "ops", []string{"jo", "kim"}); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, 0); len(got) != 0 {
		t.Fatalf("membership of an unassigned group queued: %v", got)
	}
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", GroupName: "ops"}); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, a.ID); len(got) != 2 || got[jo.ID] == 0 || got[kim.ID] == 0 {
		t.Fatalf("after group assign: %v", got)
	}
	if err := s.AddGroupMembers(ctx, actor, "ops", []string{"lee"}); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, a.ID); got[lee.ID] == 0 {
		t.Fatalf("new member of an assigned group not queued: %v", got)
	}
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "other", Username: "lee"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, actor, "lee", "user.update", func(u *directory.User) error { u.LastName = "Changed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, other.ID); got[lee.ID] != 2 {
		t.Fatalf("update of a directly assigned user: %v", got)
	}
	before := pending(t, s, a.ID)
	if err := s.Unassign(ctx, actor, "dbx", "", "ops"); err != nil {
		t.Fatal(err)
	}
	after := pending(t, s, a.ID)
	for id, gen := range before {
		if after[id] != gen+1 {
			t.Fatalf("unassigning the group must queue member %d again: %v -> %v", id, before, after)
		}
	}
	// A change with no effect queues nothing.
	if _, err := s.UpdateUser(ctx, actor, "lee", "user.update", func(u *directory.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, other.ID); got[lee.ID] != 2 {
		t.Fatalf("a no-op update queued work: %v", got)
	}
}

func testOutboxAtomic(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	u := mustUser(t, s, "max")
	mustUser(t, s, "ned")
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "max"}); err != nil {
		t.Fatal(err)
	}
	gen := pending(t, s, a.ID)[u.ID]

	// No item without the change: a change that fails leaves no item behind.
	_, err := s.UpdateUser(ctx, actor, "max", "user.update", func(u *directory.User) error { u.Email = "ned@example.com"; return nil })
	wantErr(t, err, directory.ErrConflict)
	if got := pending(t, s, a.ID)[u.ID]; got != gen {
		t.Fatalf("failed change queued work: generation %d -> %d", gen, got)
	}

	// No change without the item: when the outbox cannot be written, the change is undone.
	raw, ok := s.(interface{ SQL() *sql.DB })
	if !ok {
		t.Skip("the store gives no SQL access to break its outbox with")
	}
	if _, err := raw.SQL().Exec(`ALTER TABLE work_items RENAME TO work_items_off`); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateUser(ctx, actor, "max", "user.update", func(u *directory.User) error { u.FirstName = "Maxine"; return nil })
	if _, err2 := raw.SQL().Exec(`ALTER TABLE work_items_off RENAME TO work_items`); err2 != nil {
		t.Fatal(err2)
	}
	if err == nil {
		t.Fatal("update succeeded without an outbox")
	}
	if got, _ := s.GetUser(ctx, "max"); got.FirstName != u.FirstName {
		t.Fatalf("change kept without its work item: %q", got.FirstName)
	}
	logs, _ := s.ListLog(ctx, audit.Filter{Target: "max", Action: "user.update"})
	if len(logs) != 0 {
		t.Fatalf("failed change logged as done: %+v", logs)
	}
	if _, err := s.UpdateUser(ctx, actor, "max", "user.update", func(u *directory.User) error { u.FirstName = "Maxine"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := pending(t, s, a.ID)[u.ID]; got != gen+1 {
		t.Fatalf("generation %d, want %d", got, gen+1)
	}
}

func testOutboxCoalesces(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	u := mustUser(t, s, "olga")
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: "olga"}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.UpdateUser(ctx, actor, "olga", "user.update", func(u *directory.User) error { u.LastName = fmt.Sprint("v", i); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	items, _ := s.PendingWork(ctx, a.ID, 0)
	if len(items) != 1 || items[0].RefID != u.ID || items[0].Generation != 11 || items[0].Reason != "user.update" {
		t.Fatalf("items = %+v", items)
	}
}

func testSystemLog(t *testing.T, s Store) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(sec int) { s.SetClock(func() time.Time { return base.Add(time.Duration(sec) * time.Second) }) }
	defer s.SetClock(time.Now)
	at(1)
	mustUser(t, s, "pia")
	at(2)
	if _, err := s.UpdateUser(ctx, "alice-admin", "pia", "user.suspend", func(u *directory.User) error { u.Status = directory.StatusSuspended; return nil }); err != nil {
		t.Fatal(err)
	}
	at(3)
	if err := s.AppendLog(ctx, audit.Entry{Actor: "engine", Action: "account.add", TargetKind: "user", Target: "pia", App: "dbx", Outcome: audit.Failure, Message: "429"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListLog(ctx, audit.Filter{Target: "pia"})
	if err != nil || len(all) != 3 {
		t.Fatalf("log = %+v, %v", all, err)
	}
	if all[0].Action != "account.add" || all[2].Action != "user.create" {
		t.Fatalf("log must be newest first: %+v", all)
	}
	susp := all[1]
	if susp.Actor != "alice-admin" || susp.Outcome != audit.Success || !susp.At.Equal(base.Add(2*time.Second)) {
		t.Fatalf("suspend entry = %+v", susp)
	}
	if st, ok := susp.Detail["status"].([]any); !ok || st[0] != "active" || st[1] != "suspended" {
		t.Fatalf("suspend detail = %#v", susp.Detail)
	}
	cases := []struct {
		f    audit.Filter
		want int
	}{
		{audit.Filter{Actor: "alice-admin"}, 1},
		{audit.Filter{Outcome: audit.Failure}, 1},
		{audit.Filter{App: "dbx"}, 1},
		{audit.Filter{Since: base.Add(2 * time.Second)}, 2},
		{audit.Filter{Until: base.Add(2 * time.Second)}, 1},
		{audit.Filter{Before: all[0].ID}, 2},
		{audit.Filter{Limit: 1}, 1},
	}
	for _, c := range cases {
		got, err := s.ListLog(ctx, c.f)
		if err != nil || len(got) != c.want {
			t.Errorf("filter %+v: %d entries, want %d (%v)", c.f, len(got), c.want, err)
		}
	}
}

func testTokens(t *testing.T, s Store) {
	tok, err := s.CreateToken(ctx, actor, "ci", []byte("hash-1"))
	if err != nil || tok.ID == 0 {
		t.Fatal(tok, err)
	}
	_, err = s.CreateToken(ctx, actor, " ", []byte("hash-2"))
	wantErr(t, err, directory.ErrInvalid)
	got, err := s.TokenByHash(ctx, []byte("hash-1"))
	if err != nil || got.Name != "ci" || got.LastUsed == nil {
		t.Fatalf("token = %+v, %v", got, err)
	}
	_, err = s.TokenByHash(ctx, []byte("hash-x"))
	wantErr(t, err, directory.ErrNotFound)
	if err := s.DeleteToken(ctx, actor, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.TokenByHash(ctx, []byte("hash-1"))
	wantErr(t, err, directory.ErrNotFound)
}

// A membership change of many users queues and logs exactly the users whose
// membership changed, in every app the group is assigned to.
func testGroupMembersInBulk(t *testing.T, s Store) {
	names := make([]string, 1200) // more than one statement's worth
	batch := make([]directory.User, len(names))
	for i := range names {
		names[i] = fmt.Sprintf("m%04d", i)
		batch[i] = directory.User{Username: names[i], Email: names[i] + "@example.com"}
	}
	if err := s.CreateUsers(ctx, actor, batch); err != nil {
		t.Fatal(err)
	}
	g := directory.Group{Name: "Many"}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	a1, a2 := mustApp(t, s, "one"), mustApp(t, s, "two")
	for _, a := range []string{"one", "two"} {
		if err := s.Assign(ctx, actor, &directory.Assignment{AppName: a, GroupName: "Many"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddGroupMembers(ctx, actor, "many", names[:700]); err != nil {
		t.Fatal(err)
	}
	drain := func(appID int64) {
		t.Helper()
		for {
			items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 2000})
			if err != nil || len(items) == 0 {
				return
			}
			outs := make([]store.Outcome, len(items))
			for i, it := range items {
				outs[i] = store.Outcome{Item: it}
			}
			if err := s.FinishWork(ctx, "w", outs); err != nil {
				t.Fatal(err)
			}
		}
	}
	drain(a1.ID)
	drain(a2.ID)
	// 600 already in, 500 new, one of them named twice in another case.
	again := append(append([]string{}, names[100:]...), strings.ToUpper(names[1100]))
	if err := s.AddGroupMembers(ctx, "second", "Many", again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetGroup(ctx, "Many"); got.Members != 1200 {
		t.Fatalf("members = %d, want 1200", got.Members)
	}
	for _, a := range []app.Instance{a1, a2} {
		if q := queued(t, s, a.ID, store.WorkUser); len(q) != 500 {
			t.Fatalf("app %s: %d users queued, want the 500 added", a.Name, len(q))
		}
	}
	if logged, _ := s.ListLog(ctx, audit.Filter{Actor: "second", Action: "group.member.add", Limit: 1000}); len(logged) != 500 {
		t.Fatalf("%d entries logged for 500 added members", len(logged))
	}
	wantErr(t, s.RemoveGroupMembers(ctx, actor, "Many", []string{names[0], "nobody"}), directory.ErrNotFound)
	if got, _ := s.GetGroup(ctx, "Many"); got.Members != 1200 {
		t.Fatalf("a failed removal removed members: %d left", got.Members)
	}
	if err := s.RemoveGroupMembers(ctx, "third", "Many", names[:600]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetGroup(ctx, "Many"); got.Members != 600 {
		t.Fatalf("members after removal = %d, want 600", got.Members)
	}
	removed, _ := s.ListLog(ctx, audit.Filter{Actor: "third", Action: "group.member.remove", Limit: 1000})
	if len(removed) != 600 {
		t.Fatalf("%d removals logged, want 600", len(removed))
	}
}
