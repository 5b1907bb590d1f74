package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func engineTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"ClaimLeaseFinish", testClaimLeaseFinish},
		{"ClaimBoundedByDueBy", testClaimDueBy},
		{"CorrectAccountsAndEnqueue", testCorrectAccounts},
		{"FinishAfterChangeReleases", testFinishAfterChange},
		{"FailuresBecomeTasks", testTasks},
		{"WaitingOnAnErrorCountsNoAttempt", testWaitOnError},
		{"AccountsAndRoles", testAccountsAndRoles},
		{"ConcurrentFinishesFailAlone", testConcurrentFinish},
		{"RemovedAccountsKeepTheirRemovalTime", testRemovedAt},
		{"OneQueueForEveryKind", testOneQueue},
	}
}

func assignedUsers(t *testing.T, s Store, names ...string) (int64, []directory.User) {
	a := mustApp(t, s, "dbx")
	var us []directory.User
	for _, n := range names {
		u := mustUser(t, s, n)
		if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", Username: n}); err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	return a.ID, us
}

func testClaimLeaseFinish(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "a1", "a2", "a3")
	first, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w1", Lease: time.Minute, Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("claim = %v, %v", first, err)
	}
	second, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w2", Lease: time.Minute, Limit: 10})
	if len(second) != 1 || second[0].RefID == first[0].RefID || second[0].RefID == first[1].RefID {
		t.Fatalf("a leased item was claimed twice: %v then %v", first, second)
	}
	if none, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w3", Lease: time.Minute, Limit: 10}); len(none) != 0 {
		t.Fatalf("claimed %v while all are leased", none)
	}
	acct := &store.Account{AppID: appID, UserID: first[0].RefID, MemberID: "dbmid:1", Email: "a@x.io", Role: "member", Status: "active", Silent: true}
	outs := []store.Outcome{
		{Item: first[0], User: store.UserResult{Account: acct}, Logs: []audit.Entry{{Actor: "engine", Action: "account.create", TargetKind: "user", Target: "a1", Outcome: audit.Success}}},
		{Item: first[1], Err: errors.New("boom 503"), RetryAt: time.Now().Add(time.Hour)},
	}
	// A worker that does not hold the lease records its log entries (the calls
	// happened) but neither the account nor the item's completion.
	if err := s.FinishWork(ctx, "intruder", outs[:1]); err != nil {
		t.Fatal(err)
	}
	left, _ := s.PendingWork(ctx, appID, 0)
	if len(left) != 3 {
		t.Fatalf("an intruder completed an item: %d left", len(left))
	}
	for _, w := range left {
		if want := map[int64]string{first[0].RefID: "w1", first[1].RefID: "w1", second[0].RefID: "w2"}[w.RefID]; w.LeaseOwner != want || w.LeaseUntil.Before(time.Now()) {
			t.Fatalf("item %d leased to %q until %v, want %q for a minute", w.RefID, w.LeaseOwner, w.LeaseUntil, want)
		}
	}
	if accts, _ := s.Accounts(ctx, appID, []int64{first[0].RefID}); len(accts) != 0 {
		t.Fatalf("an intruder wrote an account: %+v", accts)
	}
	if err := s.FinishWork(ctx, "w1", outs); err != nil {
		t.Fatal(err)
	}
	left, _ = s.PendingWork(ctx, appID, 0)
	if len(left) != 2 {
		t.Fatalf("left = %+v", left)
	}
	for _, w := range left {
		if w.RefID == first[1].RefID && (w.Attempts != 1 || w.DueAt.Before(time.Now().Add(50*time.Minute))) {
			t.Fatalf("failed item not rescheduled: %+v", w)
		}
	}
	accts, err := s.Accounts(ctx, appID, []int64{us[0].ID, us[1].ID, us[2].ID})
	if err != nil || len(accts) != 1 || !accts[first[0].RefID].Silent || accts[first[0].RefID].MemberID != "dbmid:1" {
		t.Fatalf("accounts = %+v, %v", accts, err)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "account.create"}); len(logs) != 2 {
		t.Fatalf("outcome log not written: %v", logs)
	}
	// An expired lease returns the item to the queue.
	now := time.Now()
	s.SetClock(func() time.Time { return now.Add(2 * time.Minute) })
	defer s.SetClock(time.Now)
	again, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w4", Lease: time.Minute, Limit: 10})
	if len(again) != 1 || again[0].RefID != second[0].RefID {
		t.Fatalf("expired lease not reclaimed: %+v", again)
	}
}

func testFinishAfterChange(t *testing.T, s Store) {
	appID, _ := assignedUsers(t, s, "b1")
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1})
	if _, err := s.UpdateUser(ctx, actor, "b1", "user.update", func(u *directory.User) error { u.LastName = "New"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishWork(ctx, "w", []store.Outcome{{Item: claimed[0]}}); err != nil {
		t.Fatal(err)
	}
	left, _ := s.PendingWork(ctx, appID, 0)
	if len(left) != 1 || left[0].Generation != claimed[0].Generation+1 {
		t.Fatalf("a change made during processing was lost: %+v", left)
	}
	if again, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w2", Lease: time.Minute, Limit: 1}); len(again) != 1 {
		t.Fatal("the changed item was not released to run again")
	}
}

func testTasks(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "c1")
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1})
	if err := s.FinishWork(ctx, "w", []store.Outcome{{Item: claimed[0], Err: errors.New("no licence left for a new member"), GiveUp: true, RetryAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1}); len(c) != 0 {
		t.Fatal("a task was claimed as ordinary work")
	}
	tasks, err := s.ListTasks(ctx, appID)
	if err != nil || len(tasks) != 1 || tasks[0].RefID != us[0].ID || tasks[0].LastError != "no licence left for a new member" || tasks[0].Attempts != 1 {
		t.Fatalf("tasks = %+v, %v", tasks, err)
	}
	if err := s.RetryTask(ctx, actor, appID, store.WorkUser, us[0].ID); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.ListTasks(ctx, appID); len(ts) != 0 {
		t.Fatalf("retried task still listed: %v", ts)
	}
	claimed, _ = s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1})
	if len(claimed) != 1 || claimed[0].Attempts != 0 {
		t.Fatalf("retried task not queued with fresh attempts: %+v", claimed)
	}
	if err := s.FinishWork(ctx, "w", []store.Outcome{{Item: claimed[0], Err: errors.New("x"), GiveUp: true}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DismissTask(ctx, actor, appID, store.WorkUser, us[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DismissTask(ctx, actor, appID, store.WorkUser, us[0].ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("second dismiss: %v", err)
	}
	if left, _ := s.PendingWork(ctx, appID, 0); len(left) != 0 {
		t.Fatalf("dismissed task left work: %v", left)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "task.dismiss"}); len(logs) != 1 || logs[0].App != "dbx" {
		t.Fatalf("dismiss not logged: %+v", logs)
	}
	// A new change to the user revives a task.
	claimed, _ = s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1})
	_ = claimed
	if _, err := s.UpdateUser(ctx, actor, "c1", "user.update", func(u *directory.User) error { u.FirstName = "Q"; return nil }); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1}); len(c) != 1 {
		t.Fatal("a change did not queue the user again")
	}
}

// testWaitOnError: an outcome that waits on an error (its calls were never
// sent: the worker lost the app's lane) is rescheduled without an attempt,
// however often it comes, and never becomes a task.
func testWaitOnError(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "w1")
	claim := func() store.WorkItem {
		t.Helper()
		c, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 1})
		if err != nil || len(c) != 1 || c[0].RefID != us[0].ID {
			t.Fatalf("claim = %+v, %v; want w1's item", c, err)
		}
		return c[0]
	}
	for round := range 10 {
		it := claim()
		if it.Attempts != 0 {
			t.Fatalf("round %d: claimed %+v, want no attempt counted", round, it)
		}
		retry := time.Now().Add(-time.Millisecond).Truncate(time.Millisecond)
		out := store.Outcome{Item: it, Err: errors.New("this worker no longer holds the app's lane"), Wait: true, RetryAt: retry}
		if err := s.FinishWork(ctx, "w", []store.Outcome{out}); err != nil {
			t.Fatal(err)
		}
		q, ok := queued(t, s, appID, store.WorkUser)[us[0].ID]
		if !ok || q.State != "queued" || q.Attempts != 0 || q.LeaseOwner != "" || !q.DueAt.Equal(retry) {
			t.Fatalf("round %d: item = %+v (%v), want queued, due at %v, no attempt, no lease", round, q, ok, retry)
		}
	}
	if tasks, err := s.ListTasks(ctx, appID); err != nil || len(tasks) != 0 {
		t.Fatalf("tasks = %+v, %v; want none", tasks, err)
	}
}

func testAccountsAndRoles(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "d1")
	d2 := mustUser(t, s, "d2")
	d3 := mustUser(t, s, "d3")
	for _, g := range []struct {
		name string
		role directory.Role
	}{{"admins", "team_admin"}, {"support", "support_admin"}} {
		grp := directory.Group{Name: g.name}
		if err := s.CreateGroup(ctx, actor, &grp); err != nil {
			t.Fatal(err)
		}
		if err := s.AddGroupMembers(ctx, actor, g.name, []string{"d1", "d2"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "dbx", GroupName: g.name, Role: g.role}); err != nil {
			t.Fatal(err)
		}
	}
	// A group the app does not assign gives its members nothing there.
	if err := s.CreateGroup(ctx, actor, &directory.Group{Name: "bystanders"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMembers(ctx, actor, "bystanders", []string{"d2", "d3"}); err != nil {
		t.Fatal(err)
	}
	roles, err := s.EffectiveRoles(ctx, appID, []int64{us[0].ID, d2.ID, d3.ID})
	if err != nil {
		t.Fatal(err)
	}
	// d1: direct member assignment wins over groups; d2: most privileged group; d3: not assigned.
	if roles[us[0].ID] != "member" || roles[d2.ID] != "team_admin" || len(roles) != 2 {
		t.Fatalf("roles = %v", roles)
	}
	byID, _ := s.UsersByID(ctx, []int64{d2.ID, 99999})
	if len(byID) != 1 || byID[d2.ID].Username != "d2" {
		t.Fatalf("users by id = %v", byID)
	}
	// EnqueueAll covers assigned users and known accounts of unassigned ones.
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 100})
	outs := make([]store.Outcome, len(claimed))
	for i, c := range claimed {
		outs[i] = store.Outcome{Item: c}
	}
	outs = append(outs[:0], outs...)
	outs[0].User.Account = &store.Account{AppID: appID, UserID: d3.ID, MemberID: "dbmid:3", Email: "d3@example.com", Role: "member", Status: "active"}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	n, err := s.EnqueueAll(ctx, appID, "full")
	if err != nil || n != 3 {
		t.Fatalf("enqueue all = %d, %v", n, err)
	}
	page, _ := s.ListAccounts(ctx, appID, store.Page{})
	if len(page) != 1 || page[0].UserID != d3.ID {
		t.Fatalf("accounts page = %+v", page)
	}
}

// A pass claims only what was due when it began; a dueBy in the future
// still cannot claim work that is not yet due.
func testClaimDueBy(t *testing.T, s Store) {
	appID, _ := assignedUsers(t, s, "d1", "d2")
	if got, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10, DueBy: time.Now().Add(-time.Hour)}); err != nil || len(got) != 0 {
		t.Fatalf("claimed %v (err %v) that became due after dueBy", got, err)
	}
	got, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10, DueBy: time.Now()})
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	outs := []store.Outcome{{Item: got[0], Err: errors.New("503"), RetryAt: time.Now().Add(time.Hour)}, {Item: got[1]}}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10, DueBy: time.Now().Add(2 * time.Hour)}); len(again) != 0 {
		t.Fatalf("claimed %v before its retry time", again)
	}
}

// A reconciliation's corrections land together: accounts replaced, vanished
// ones forgotten, the log written; queued users coalesce with queued work.
func testCorrectAccounts(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "k1", "k2", "k3")
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10})
	var outs []store.Outcome
	for i, it := range claimed {
		outs = append(outs, store.Outcome{Item: it, User: store.UserResult{Account: &store.Account{AppID: appID, UserID: it.RefID, MemberID: fmt.Sprintf("dbmid:%d", i), Email: "x@y.z", Role: "member", Status: "active"}}})
	}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	put := []store.Account{{AppID: appID, UserID: us[0].ID, MemberID: "dbmid:0", Email: "moved@y.z", Surname: "Drifted", Role: "member", Status: "suspended"}}
	log := []audit.Entry{{Actor: "engine", Action: "reconcile.drift", TargetKind: "user", Target: us[0].Username, Outcome: audit.Success}}
	if err := s.CorrectAccounts(ctx, appID, put, []int64{us[1].ID}, log); err != nil {
		t.Fatal(err)
	}
	accts, _ := s.Accounts(ctx, appID, []int64{us[0].ID, us[1].ID, us[2].ID})
	if a := accts[us[0].ID]; len(accts) != 2 || a.Status != "suspended" || a.Surname != "Drifted" || a.Email != "moved@y.z" {
		t.Fatalf("after correction: %+v", accts)
	}
	if _, ok := accts[us[1].ID]; ok {
		t.Fatal("a vanished account was not forgotten")
	}
	if got, _ := s.ListLog(ctx, audit.Filter{Action: "reconcile.drift"}); len(got) != 1 {
		t.Fatalf("log = %+v", got)
	}
	wrong := []store.Account{{AppID: appID + 1, UserID: us[2].ID, MemberID: "m"}}
	if err := s.CorrectAccounts(ctx, appID, wrong, nil, nil); !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("account of another app: %v", err)
	}
	ids := []int64{us[0].ID}
	for range 11 { // enough for a multi-row statement holding the same user twice
		ids = append(ids, us[2].ID)
	}
	if err := s.EnqueueUsers(ctx, appID, ids, "sync.full"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.PendingWork(ctx, appID, 0); len(left) != 2 || left[0].Reason != "sync.full" {
		t.Fatalf("queued = %+v", left)
	}
}

// Batches finished at once may share a transaction (SQLite); one that fails
// must fail alone, and every other batch must be stored.
func testConcurrentFinish(t *testing.T, s Store) {
	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("cf%02d", i)
	}
	appID, _ := assignedUsers(t, s, names...)
	items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: len(names)})
	if err != nil || len(items) != len(names) {
		t.Fatalf("claim = %d, %v", len(items), err)
	}
	bad := func(i int) bool { return i%5 == 0 }
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() {
			acct := &store.Account{AppID: appID, UserID: it.RefID, MemberID: fmt.Sprintf("dbmid:cf%d", i), Email: "x@corp.example", Role: "member", Status: "active"}
			if bad(i) {
				acct.AppID = appID + 1000 // no such app: the foreign key refuses it
			}
			errs[i] = s.FinishWork(ctx, "w", []store.Outcome{{Item: it, User: store.UserResult{Account: acct}}})
		})
	}
	wg.Wait()
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.RefID
	}
	accts, _ := s.Accounts(ctx, appID, ids)
	left, _ := s.PendingWork(ctx, appID, 0)
	for i, it := range items {
		_, stored := accts[it.RefID]
		if bad(i) != (errs[i] != nil) || bad(i) == stored {
			t.Fatalf("batch %d (bad %v): error %v, account stored %v", i, bad(i), errs[i], stored)
		}
	}
	if len(left) != len(items)/5 {
		t.Fatalf("%d items left, want the %d that failed", len(left), len(items)/5)
	}
}

// A removed account keeps when it was removed and whether the app can still
// recover it, through the engine's and a reconciliation's writes alike; an
// account that is not removed has neither.
func testRemovedAt(t *testing.T, s Store) {
	appID, us := assignedUsers(t, s, "r1", "r2", "r3")
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10})
	acct := func(it store.WorkItem, status string) *store.Account {
		return &store.Account{AppID: appID, UserID: it.RefID, MemberID: fmt.Sprintf("dbmid:%d", it.RefID), Email: "x@y.z", Role: "member",
			Status: status, Recoverable: true, RemovedAt: at}
	}
	outs := []store.Outcome{{Item: claimed[0], User: store.UserResult{Account: acct(claimed[0], "removed")}}, {Item: claimed[1], User: store.UserResult{Account: acct(claimed[1], "active")}}, {Item: claimed[2]}}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	put := *acct(store.WorkItem{RefID: claimed[2].RefID}, "removed")
	put.RemovedAt, put.Recoverable = at.Add(time.Hour), false
	if err := s.CorrectAccounts(ctx, appID, []store.Account{put}, nil, nil); err != nil {
		t.Fatal(err)
	}
	accts, err := s.Accounts(ctx, appID, []int64{us[0].ID, us[1].ID, us[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]struct {
		recoverable bool
		removedAt   time.Time
	}{claimed[0].RefID: {true, at}, claimed[1].RefID: {false, time.Time{}}, claimed[2].RefID: {false, at.Add(time.Hour)}}
	for id, w := range want {
		a := accts[id]
		if a.Recoverable != w.recoverable || !a.RemovedAt.Equal(w.removedAt) || a.RemovedAt.IsZero() != w.removedAt.IsZero() {
			t.Errorf("user %d: %s, recoverable %v, removed at %v; want recoverable %v, removed at %v", id, a.Status, a.Recoverable, a.RemovedAt, w.recoverable, w.removedAt)
		}
	}
	page, _ := s.ListAccounts(ctx, appID, store.Page{})
	for _, a := range page {
		if w := want[a.UserID]; !a.RemovedAt.Equal(w.removedAt) {
			t.Errorf("listed user %d removed at %v, want %v", a.UserID, a.RemovedAt, w.removedAt)
		}
	}
}

// testOneQueue: one claim leases items of several kinds, and one finish
// settles a batch of mixed kinds atomically, each with its own payload.
func testOneQueue(t *testing.T, s Store) {
	appID, g := groupItem(t, s) // ann's user item and the group's item
	if _, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Owner: "w", Lease: time.Minute, Limit: 10}); !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("a claim of no kind = %v, want ErrInvalid", err)
	}
	items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser, store.WorkGroup}, Owner: "w", Lease: time.Minute, Limit: 10})
	if err != nil || len(items) != 2 {
		t.Fatalf("claim of both kinds = %+v, %v", items, err)
	}
	kinds := map[string]store.WorkItem{}
	for _, it := range items {
		kinds[it.Kind] = it
	}
	user, group := kinds[store.WorkUser], kinds[store.WorkGroup]
	if group.RefID != g.ID || user.RefID == 0 {
		t.Fatalf("claimed %+v", items)
	}
	// An outcome of a kind the queue does not know undoes the whole batch.
	bogus := store.Outcome{Item: store.WorkItem{AppID: appID, Kind: "bogus", RefID: 1}}
	if err := s.FinishWork(ctx, "w", []store.Outcome{{Item: user}, bogus}); !errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("finish with an unknown kind = %v, want ErrInvalid", err)
	}
	if q := queued(t, s, appID, store.WorkUser)[user.RefID]; q.LeaseOwner != "w" {
		t.Fatalf("a refused batch settled the user item: %+v", q)
	}
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	outs := []store.Outcome{
		{Item: group, Wait: true, RetryAt: later, Group: store.GroupResult{Row: store.PushedGroup{RemoteID: "g:1", RemoteName: "Sales", Pending: 1}}},
		{Item: user, User: store.UserResult{Account: &store.Account{AppID: appID, UserID: user.RefID, MemberID: "dbmid:ann", Email: "ann@x.io", Role: "member", Status: "active"}}},
	}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	if q, left := queued(t, s, appID, store.WorkUser)[user.RefID]; left {
		t.Fatalf("the done user item is still queued: %+v", q)
	}
	if accts, _ := s.Accounts(ctx, appID, []int64{user.RefID}); accts[user.RefID].MemberID != "dbmid:ann" {
		t.Fatalf("user payload not recorded: %+v", accts)
	}
	q := queued(t, s, appID, store.WorkGroup)[g.ID]
	if q.Attempts != 0 || q.LeaseOwner != "" || !q.DueAt.Equal(later) {
		t.Fatalf("waiting group item = %+v, want queued until %v without an attempt", q, later)
	}
	if p := pushed(t, s, appID)["Sales"]; p.RemoteID != "g:1" || p.Pending != 1 {
		t.Fatalf("group payload not recorded: %+v", p)
	}
}
