package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func offboardingTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"OffboardingRecordsKeepTheirIntent", testOffboardingRecords},
		{"OffboardingHeldUntilConfirmed", testOffboardingHeld},
		{"OffboardingReleaseHeld", testReleaseHeld},
		{"OffboardingGuardWindow", testReserveOffboards},
		{"OffboardingKeep", testKeepOffboarded},
		{"OffboardingReapply", testReapplyOffboardings},
		{"OffboardingDueRemovals", testQueueDueRemovals},
		{"OffboardingSettingsChangeFreezesLeavers", testFreezeLeavers},
	}
}

var suspendOnly = app.Deactivation{Type: app.DeactivateSuspend, FileManagement: app.FilesManageInDropbox}

// provisioned makes app dbx with the named users assigned, their accounts
// active and no work queued; it returns the app and the users' IDs.
func provisioned(t *testing.T, s Store, names ...string) (app.Instance, map[string]int64) {
	t.Helper()
	appID, us := assignedUsers(t, s, names...)
	finishAll(t, s, appID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, User: store.UserResult{Account: &store.Account{AppID: appID, UserID: it.RefID, MemberID: fmt.Sprintf("dbmid:%d", it.RefID),
			Email: fmt.Sprintf("u%d@example.com", it.RefID), Role: "member", Status: "active"}}}
	})
	a, err := s.GetApp(ctx, "dbx")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, u := range us {
		ids[u.Username] = u.ID
	}
	return a, ids
}

// finishAll claims the app's due work as worker w and finishes each item
// with the outcome out makes for it.
func finishAll(t *testing.T, s Store, appID int64, out func(store.WorkItem) store.Outcome) {
	t.Helper()
	items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]store.Outcome, len(items))
	for i, it := range items {
		outs[i] = out(it)
	}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
}

// leave deprovisions users, which queues them.
func leave(t *testing.T, s Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.UpdateUser(ctx, actor, n, "user.deactivate", func(u *directory.User) error {
			u.Status = directory.StatusDeprovisioned
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// requeue queues users again with a directory edit.
func requeue(t *testing.T, s Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.UpdateUser(ctx, actor, n, "user.update", func(u *directory.User) error { u.LastName += "x"; return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func records(t *testing.T, s Store, appID int64, ids ...int64) map[int64]store.Offboarding {
	t.Helper()
	obs, err := s.Offboardings(ctx, appID, ids)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// items returns the app's queued work by user.
func items(t *testing.T, s Store, appID int64) map[int64]store.WorkItem {
	t.Helper()
	list, err := s.PendingWork(ctx, appID, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.WorkItem{}
	for _, it := range list {
		out[it.RefID] = it
	}
	return out
}

// hold makes the guard's outcome for the users' queued items: held.
func hold(t *testing.T, s Store, a app.Instance, ids ...int64) {
	t.Helper()
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		if !want[it.RefID] {
			return store.Outcome{Item: it}
		}
		return store.Outcome{Item: it, Held: true, User: store.UserResult{Offboarding: &store.Offboarding{AppID: a.ID, UserID: it.RefID,
			Settings: a.Settings.Deactivation, StartedAt: time.Now(), Phase: store.PhaseFinal, Held: true}}}
	})
}

func logCount(t *testing.T, s Store, action string) int {
	t.Helper()
	logs, err := s.ListLog(ctx, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(logs)
}

// An off-boarding record keeps the intent it was started with: later passes
// update its phase, due time and hold only; a worker that lost its lease
// writes nothing; a user who is wanted again drops it.
func testOffboardingRecords(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "o1", "o2", "o3")
	box := mustApp(t, s, "box")
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "box", Username: "o3"}); err != nil {
		t.Fatal(err)
	}
	leave(t, s, "o1", "o2")
	start := time.Now().Add(-time.Minute)
	first := map[int64]store.Offboarding{
		ids["o1"]: {AppID: a.ID, UserID: ids["o1"], Settings: suspendOnly, StartedAt: start, Phase: store.PhaseGrace, RemoveDue: start.Add(7 * 24 * time.Hour)},
		ids["o2"]: {AppID: a.ID, UserID: ids["o2"], Settings: a.Settings.Deactivation, StartedAt: start, Phase: store.PhaseFinal},
	}
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: a.ID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10})
	outs := make([]store.Outcome, len(claimed))
	for i, it := range claimed {
		ob := first[it.RefID]
		outs[i] = store.Outcome{Item: it, User: store.UserResult{Offboarding: &ob}}
	}
	if err := s.FinishWork(ctx, "intruder", outs); err != nil {
		t.Fatal(err)
	}
	if got := records(t, s, a.ID, ids["o1"], ids["o2"]); len(got) != 0 {
		t.Fatalf("a worker without the lease recorded off-boardings: %+v", got)
	}
	if err := s.FinishWork(ctx, "w", outs); err != nil {
		t.Fatal(err)
	}
	got := records(t, s, a.ID, ids["o1"], ids["o2"], ids["o3"])
	if len(got) != 2 {
		t.Fatalf("records = %+v, want o1's and o2's", got)
	}
	for id, want := range first {
		ob := got[id]
		if ob.AppID != a.ID || ob.Settings != want.Settings || !ob.StartedAt.Equal(want.StartedAt) || ob.Phase != want.Phase ||
			!ob.RemoveDue.Equal(want.RemoveDue) || ob.Held || ob.ConfirmedBy != "" || ob.Kept {
			t.Fatalf("user %d: record %+v, want %+v", id, ob, want)
		}
	}

	// A later pass brings other settings and a later start: only the phase,
	// due time and hold change.
	requeue(t, s, "o1")
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: a.ID, UserID: it.RefID, Settings: a.Settings.Deactivation,
			StartedAt: start.Add(time.Hour), Phase: store.PhaseFinal, ConfirmedBy: "worker", Kept: true}}}
	})
	ob := records(t, s, a.ID, ids["o1"])[ids["o1"]]
	if ob.Settings != suspendOnly || !ob.StartedAt.Equal(start) || ob.Phase != store.PhaseFinal || !ob.RemoveDue.IsZero() || ob.ConfirmedBy != "" || ob.Kept {
		t.Fatalf("o1 after a later pass = %+v, want the first intent, phase final, no due time", ob)
	}

	// Records are per app; listing covers one app or all.
	finishAll(t, s, box.ID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: box.ID, UserID: it.RefID, Settings: suspendOnly, StartedAt: start, Phase: store.PhaseFinal}}}
	})
	for _, c := range []struct {
		appID int64
		want  []int64
	}{{a.ID, []int64{ids["o1"], ids["o2"]}}, {box.ID, []int64{ids["o3"]}}, {0, []int64{ids["o1"], ids["o2"], ids["o3"]}}} {
		list, err := s.ListOffboardings(ctx, c.appID)
		if err != nil || len(list) != len(c.want) {
			t.Fatalf("list of app %d = %+v, %v; want users %v", c.appID, list, err, c.want)
		}
		for i, ob := range list {
			if ob.UserID != c.want[i] {
				t.Fatalf("list of app %d = %+v, want users %v in order", c.appID, list, c.want)
			}
		}
	}
	if got := records(t, s, box.ID, ids["o1"], ids["o3"]); len(got) != 1 || got[ids["o3"]].AppID != box.ID {
		t.Fatalf("box's records = %+v", got)
	}

	// o2 is wanted again: the off-boarding is over.
	requeue(t, s, "o2")
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, User: store.UserResult{DropOffboarding: true}}
	})
	if got := records(t, s, a.ID, ids["o1"], ids["o2"]); len(got) != 1 || got[ids["o1"]].UserID == 0 {
		t.Fatalf("records after o2 came back = %+v, want o1's only", got)
	}
}

// A held item waits, unclaimed and without a counted attempt, until an
// admin confirms the off-boarding; a worker that still holds the item from
// before the confirmation cannot hold it again.
func testOffboardingHeld(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "h1", "h2", "h3")
	leave(t, s, "h1", "h2")
	hold(t, s, a, ids["h1"], ids["h2"])
	its := items(t, s, a.ID)
	for _, n := range []string{"h1", "h2"} {
		it := its[ids[n]]
		if it.State != "held" || it.Attempts != 0 || it.LeaseOwner != "" {
			t.Fatalf("%s's item = %+v, want held, no attempt, no lease", n, it)
		}
		if ob := records(t, s, a.ID, ids[n])[ids[n]]; !ob.Held {
			t.Fatalf("%s's record = %+v, want held", n, ob)
		}
	}
	if got, _ := s.ClaimWork(ctx, store.Claim{AppID: a.ID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10}); len(got) != 0 {
		t.Fatalf("held items were claimed: %+v", got)
	}
	if target, _ := s.TargetUsers(ctx, a.ID, false); len(target) != 2 {
		t.Fatalf("plan targets = %v, want the two held users", target)
	}

	if err := s.ConfirmOffboardings(ctx, "admin", a.ID, []int64{ids["h1"]}); err != nil {
		t.Fatal(err)
	}
	ob := records(t, s, a.ID, ids["h1"])[ids["h1"]]
	if ob.Held || ob.ConfirmedBy != "admin" || ob.Settings != a.Settings.Deactivation {
		t.Fatalf("confirmed h1 = %+v", ob)
	}
	its = items(t, s, a.ID)
	if its[ids["h1"]].State != "queued" || its[ids["h2"]].State != "held" {
		t.Fatalf("items after confirming h1: %+v", its)
	}
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: a.ID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10})
	if len(claimed) != 1 || claimed[0].RefID != ids["h1"] {
		t.Fatalf("claimed %+v, want h1 alone", claimed)
	}
	// This worker read h1's record before the confirmation.
	stale := &store.Offboarding{AppID: a.ID, UserID: ids["h1"], Settings: a.Settings.Deactivation, StartedAt: time.Now(), Phase: store.PhaseFinal, Held: true}
	if err := s.FinishWork(ctx, "w", []store.Outcome{{Item: claimed[0], Held: true, User: store.UserResult{Offboarding: stale}}}); err != nil {
		t.Fatal(err)
	}
	if ob := records(t, s, a.ID, ids["h1"])[ids["h1"]]; ob.Held || ob.ConfirmedBy != "admin" {
		t.Fatalf("a confirmed off-boarding was held again: %+v", ob)
	}
	if it := items(t, s, a.ID)[ids["h1"]]; it.State != "queued" {
		t.Fatalf("h1's item = %+v, want queued", it)
	}

	// Confirming a user without a record makes the settings in force now its intent.
	if err := s.ConfirmOffboardings(ctx, "admin", a.ID, []int64{ids["h3"]}); err != nil {
		t.Fatal(err)
	}
	if ob := records(t, s, a.ID, ids["h3"])[ids["h3"]]; ob.ConfirmedBy != "admin" || ob.Settings != a.Settings.Deactivation || ob.Held || ob.Phase != store.PhaseFinal {
		t.Fatalf("h3 confirmed before leaving = %+v", ob)
	}
}

// ReleaseHeld releases the named held users, or all of an app's, as
// confirmed by the admin; other apps' stay held.
func testReleaseHeld(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "r1", "r2", "r3")
	box := mustApp(t, s, "box")
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "box", Username: "r3"}); err != nil {
		t.Fatal(err)
	}
	leave(t, s, "r1", "r2", "r3")
	hold(t, s, a, ids["r1"], ids["r2"])
	hold(t, s, box, ids["r3"])

	// r3 is held in box, not here: only r1 is released.
	n, err := s.ReleaseHeld(ctx, "admin", a.ID, []int64{ids["r1"], ids["r3"]})
	if err != nil || n != 1 {
		t.Fatalf("release r1 (and r3, held elsewhere) = %d, %v; want 1", n, err)
	}
	its := items(t, s, a.ID)
	if _, ok := its[ids["r3"]]; its[ids["r1"]].State != "queued" || its[ids["r2"]].State != "held" || ok {
		t.Fatalf("items after releasing r1: %+v", its)
	}
	if ob := records(t, s, a.ID, ids["r1"])[ids["r1"]]; ob.Held || ob.ConfirmedBy != "admin" {
		t.Fatalf("released r1 = %+v", ob)
	}
	if n, err := s.ReleaseHeld(ctx, "admin", a.ID, nil); err != nil || n != 1 {
		t.Fatalf("release all = %d, %v; want r2", n, err)
	}
	if it := items(t, s, a.ID)[ids["r2"]]; it.State != "queued" {
		t.Fatalf("r2 = %+v, want released", it)
	}
	if n, _ := s.ReleaseHeld(ctx, "admin", a.ID, nil); n != 0 {
		t.Fatalf("released %d with nothing held", n)
	}
	if it := items(t, s, box.ID)[ids["r3"]]; it.State != "held" {
		t.Fatalf("box's r3 = %+v, want still held", it)
	}
	if ob := records(t, s, box.ID, ids["r3"])[ids["r3"]]; !ob.Held {
		t.Fatalf("box's r3 record = %+v, want held", ob)
	}
	if n := logCount(t, s, "offboard.release"); n != 2 {
		t.Fatalf("%d releases logged, want 2", n)
	}
}

// The guard's window counts an app's off-boardings made since a time, and
// records a batch only when its unconfirmed ones fit; confirmed ones always
// fit, but count.
func testReserveOffboards(t *testing.T, s Store) {
	a, b := mustApp(t, s, "dbx"), mustApp(t, s, "box")
	ev := func(irr, confirmed bool) store.OffboardEvent {
		return store.OffboardEvent{UserID: 1, Irreversible: irr, Confirmed: confirmed}
	}
	now := time.Now()
	defer s.SetClock(time.Now)
	s.SetClock(func() time.Time { return now.Add(-2 * time.Hour) })
	since := now.Add(-time.Hour)
	reserve := func(appID int64, maxAll, maxIrr int, evs ...store.OffboardEvent) bool {
		t.Helper()
		ok, err := s.ReserveOffboards(ctx, appID, since, maxAll, maxIrr, evs)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !reserve(a.ID, 3, 2, ev(true, false), ev(true, false)) {
		t.Fatal("the first two did not fit")
	}
	s.SetClock(func() time.Time { return now })
	steps := []struct {
		name string
		app  int64
		evs  []store.OffboardEvent
		ok   bool
	}{
		{"two removals: those outside the window do not count", a.ID, []store.OffboardEvent{ev(true, false), ev(true, false)}, true},
		{"a third removal", a.ID, []store.OffboardEvent{ev(true, false)}, false},
		{"a suspension", a.ID, []store.OffboardEvent{ev(false, false)}, true},
		{"a fourth off-boarding", a.ID, []store.OffboardEvent{ev(false, false)}, false},
		{"confirmed ones", a.ID, []store.OffboardEvent{ev(true, true), ev(false, true)}, true},
		{"a confirmed one with an unconfirmed one", a.ID, []store.OffboardEvent{ev(false, true), ev(false, false)}, false},
		{"another app's window", b.ID, []store.OffboardEvent{ev(true, false), ev(true, false)}, true},
		{"nothing", a.ID, nil, true},
	}
	for _, st := range steps {
		if got := reserve(st.app, 3, 2, st.evs...); got != st.ok {
			t.Fatalf("%s: fits = %v, want %v", st.name, got, st.ok)
		}
	}
	// The window holds 5 (3 irreversible): the refused batches recorded nothing.
	if !reserve(a.ID, 6, 3, ev(false, false)) || reserve(a.ID, 6, 3, ev(false, false)) {
		t.Fatal("the window does not hold exactly the 5 recorded off-boardings")
	}
	if reserve(a.ID, 10, 3, ev(true, false)) {
		t.Fatal("the window does not hold exactly 3 irreversible ones")
	}
	since = now.Add(time.Nanosecond)
	if !reserve(a.ID, 1, 1, ev(true, false)) {
		t.Fatal("off-boardings before the window's start counted")
	}
}

// KeepOffboarded cancels a pending removal: the record says kept, no
// removal is due, and the user is queued so its member stays suspended.
func testKeepOffboarded(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "k1", "k2")
	leave(t, s, "k1")
	now := time.Now()
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: a.ID, UserID: it.RefID, Settings: a.Settings.Deactivation,
			StartedAt: now, Phase: store.PhaseGrace, RemoveDue: now.Add(time.Hour)}}}
	})
	if err := s.KeepOffboarded(ctx, "admin", a.ID, ids["k1"]); err != nil {
		t.Fatal(err)
	}
	ob := records(t, s, a.ID, ids["k1"])[ids["k1"]]
	if !ob.Kept || ob.Phase != store.PhaseFinal || !ob.RemoveDue.IsZero() || ob.Held || ob.Settings != a.Settings.Deactivation {
		t.Fatalf("kept k1 = %+v", ob)
	}
	if it, ok := items(t, s, a.ID)[ids["k1"]]; !ok || it.Reason != "offboard.keep" || it.State != "queued" {
		t.Fatalf("k1's item = %+v (found %v)", it, ok)
	}
	if n, err := s.QueueDueRemovals(ctx, a.ID, now.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("a kept removal came due: %d, %v", n, err)
	}
	if n := logCount(t, s, "offboard.keep"); n != 1 {
		t.Fatalf("%d keeps logged", n)
	}
	wantErr(t, s.KeepOffboarded(ctx, "admin", a.ID, ids["k2"]), directory.ErrNotFound)
}

// ReapplyOffboardings makes the settings in force now the intent of past
// leavers, as an admin's choice, and restarts their off-boarding.
func testReapplyOffboardings(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "p1", "p2")
	leave(t, s, "p1", "p2")
	then := time.Now().Add(-time.Hour)
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		return store.Outcome{Item: it, Held: true, User: store.UserResult{Offboarding: &store.Offboarding{AppID: a.ID, UserID: it.RefID, Settings: suspendOnly,
			StartedAt: then, Phase: store.PhaseGrace, RemoveDue: then.Add(time.Hour), Held: true, Kept: true}}}
	})
	now := time.Now().Add(time.Minute)
	s.SetClock(func() time.Time { return now })
	defer s.SetClock(time.Now)
	if err := s.ReapplyOffboardings(ctx, "admin", a.ID, []int64{ids["p1"]}); err != nil {
		t.Fatal(err)
	}
	got := records(t, s, a.ID, ids["p1"], ids["p2"])
	p1, p2 := got[ids["p1"]], got[ids["p2"]]
	if p1.Settings != a.Settings.Deactivation || !p1.StartedAt.Equal(now) || p1.Phase != store.PhaseFinal || !p1.RemoveDue.IsZero() ||
		p1.Kept || p1.Held || p1.ConfirmedBy != "admin" {
		t.Fatalf("p1 after re-applying = %+v, want the current settings from now, confirmed by admin", p1)
	}
	if p2.Settings != suspendOnly || !p2.StartedAt.Equal(then) || !p2.Kept || !p2.Held {
		t.Fatalf("p2 = %+v, want untouched", p2)
	}
	its := items(t, s, a.ID)
	if it := its[ids["p1"]]; it.State != "queued" || it.Reason != "offboard.reapply" {
		t.Fatalf("p1's item = %+v", it)
	}
	if it := its[ids["p2"]]; it.State != "held" {
		t.Fatalf("p2's item = %+v, want still held", it)
	}
	if n := logCount(t, s, "offboard.reapply"); n != 1 {
		t.Fatalf("%d re-applies logged", n)
	}
}

// QueueDueRemovals queues an app's users whose grace has ended, once.
func testQueueDueRemovals(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "q1", "q2", "q3")
	box := mustApp(t, s, "box")
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: "box", Username: "q1"}); err != nil {
		t.Fatal(err)
	}
	leave(t, s, "q1", "q2", "q3")
	now := time.Now()
	due := map[int64]time.Time{ids["q1"]: now.Add(-time.Minute), ids["q2"]: now.Add(time.Hour)}
	for _, appID := range []int64{a.ID, box.ID} {
		finishAll(t, s, appID, func(it store.WorkItem) store.Outcome {
			if it.RefID == ids["q3"] { // removed at once: no grace
				return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: appID, UserID: it.RefID, StartedAt: now, Phase: store.PhaseFinal}}}
			}
			return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: appID, UserID: it.RefID, StartedAt: now, Phase: store.PhaseGrace, RemoveDue: due[it.RefID]}}}
		})
	}
	if n, err := s.QueueDueRemovals(ctx, a.ID, now); err != nil || n != 1 {
		t.Fatalf("due now = %d, %v; want q1", n, err)
	}
	its := items(t, s, a.ID)
	if it, ok := its[ids["q1"]]; len(its) != 1 || !ok || it.Reason != "offboard.due" {
		t.Fatalf("queued = %+v, want q1 alone", its)
	}
	if ob := records(t, s, a.ID, ids["q1"])[ids["q1"]]; ob.Phase != store.PhaseFinal {
		t.Fatalf("q1 after its grace = %+v, want phase final", ob)
	}
	if n, _ := s.QueueDueRemovals(ctx, a.ID, now); n != 0 {
		t.Fatalf("q1 queued twice (%d)", n)
	}
	if len(items(t, s, box.ID)) != 0 {
		t.Fatal("another app's removal was queued")
	}
	if n, _ := s.QueueDueRemovals(ctx, a.ID, now.Add(2*time.Hour)); n != 1 {
		t.Fatalf("due later = %d, want q2", n)
	}
	if n, _ := s.QueueDueRemovals(ctx, box.ID, now); n != 1 {
		t.Fatalf("box's due = %d, want q1", n)
	}
}

// Saving changed deactivation settings records the old ones as the intent
// of every leaver not yet off-boarded, and of no one else; other changes
// record nothing.
func testFreezeLeavers(t *testing.T, s Store) {
	a, ids := provisioned(t, s, "f1", "f2", "f3", "f4", "f5", "f6")
	leave(t, s, "f2", "f4", "f5")
	if err := s.Unassign(ctx, actor, "dbx", "f3", ""); err != nil {
		t.Fatal(err)
	}
	finishAll(t, s, a.ID, func(it store.WorkItem) store.Outcome {
		switch it.RefID {
		case ids["f4"]: // already removed
			return store.Outcome{Item: it, User: store.UserResult{Account: &store.Account{AppID: a.ID, UserID: it.RefID, MemberID: fmt.Sprintf("dbmid:%d", it.RefID),
				Email: "f4@example.com", Role: "member", Status: "removed"}}}
		case ids["f5"]: // being off-boarded under its own intent
			return store.Outcome{Item: it, User: store.UserResult{Offboarding: &store.Offboarding{AppID: a.ID, UserID: it.RefID, Settings: suspendOnly, StartedAt: time.Now(), Phase: store.PhaseFinal}}}
		}
		return store.Outcome{Item: it, Err: fmt.Errorf("not worked yet"), RetryAt: time.Now().Add(time.Hour)}
	})
	if _, err := s.UpdateApp(ctx, actor, "dbx", func(a *app.Instance) error { a.Settings.Guard.Percent = 30; return nil }); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListOffboardings(ctx, a.ID); len(list) != 1 {
		t.Fatalf("a change of other settings recorded intents: %+v", list)
	}

	at := time.Now().Add(time.Minute)
	s.SetClock(func() time.Time { return at })
	defer s.SetClock(time.Now)
	if _, err := s.UpdateApp(ctx, actor, "dbx", func(a *app.Instance) error { a.Settings.Deactivation = suspendOnly; return nil }); err != nil {
		t.Fatal(err)
	}
	leave(t, s, "f6") // after the change: its first pass records the new settings
	got := records(t, s, a.ID, ids["f1"], ids["f2"], ids["f3"], ids["f4"], ids["f5"], ids["f6"])
	for _, n := range []string{"f2", "f3"} {
		ob, ok := got[ids[n]]
		if !ok || ob.Settings != a.Settings.Deactivation || !ob.StartedAt.Equal(at) || ob.Phase != store.PhaseFinal || ob.Held || ob.Kept || ob.ConfirmedBy != "" {
			t.Fatalf("leaver %s = %+v (found %v), want the settings in force before the change, from now", n, ob, ok)
		}
	}
	if ob := got[ids["f5"]]; ob.Settings != suspendOnly || ob.StartedAt.Equal(at) {
		t.Fatalf("f5's own intent was overwritten: %+v", ob)
	}
	for _, n := range []string{"f1", "f4", "f6"} {
		if ob, ok := got[ids[n]]; ok {
			t.Fatalf("%s got an intent: %+v", n, ob)
		}
	}
}
