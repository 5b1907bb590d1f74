package engine_test

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/storetest"
)

var bg = context.Background()

// A plan makes no call. Emptying an app's group by mistake holds every
// removal for an admin while the rest of the sync goes ahead; the admin
// sees them held in the plan and releases them with --allow-deletes.
func TestPlanAndGuard(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			names := w.staff(50)
			calls := func() int64 { return w.emu.Team("acme").Stats().Calls }
			before := calls()

			// (A full plan lists the team: see the reconciliation tests.)
			if p := w.plan(); len(p.Changes) != 0 || p.Members != 50 {
				t.Fatalf("in-step plan = %+v", p)
			}
			// A mover shows as an update with old and new values.
			w.change("u001", "user.update", func(u *directory.User) error { u.LastName = "Moved"; return nil })
			if p := w.plan(); len(p.Changes) != 1 || p.Changes[0].Op != engine.OpUpdate || p.Changes[0].Changes["surname"] != [2]string{"Lu001", "Moved"} ||
				p.Changes[0].State != engine.StateDue {
				t.Fatalf("mover plan = %+v", p.Changes)
			}

			// Emptying the group by mistake: 50 of 50 would be removed; a
			// newcomer arrives at the same time.
			w.members("staff", false, names...)
			w.user("newcomer", nil)
			w.assign("newcomer", "member")
			p := w.plan()
			if p.Summary[engine.OpRemove] != 50 || p.Offboard != 50 || p.Irreversible != 50 || p.Held != 0 || p.Guard == nil || p.Summary[engine.OpCreate] != 1 {
				t.Fatalf("mass-unassign plan = %+v", p)
			}
			for _, c := range p.Changes {
				if c.Op == engine.OpRemove && (c.State != engine.StateDue || !c.Irreversible || c.Detail["wipe_data"] != true) {
					t.Fatalf("remove change = %+v", c)
				}
			}
			if calls() != before {
				t.Fatalf("plans made %d calls", calls()-before)
			}

			_, err := w.trySync(nil, engine.SyncOptions{})
			if g := guardError(t, err); g.Held != 50 {
				t.Fatalf("guard = %+v, want 50 held", g)
			}
			for _, n := range names {
				if m := w.member(n); m.Status != "active" || m.DevicesWiped != 0 {
					t.Fatalf("%s = %+v, want untouched while held", n, m)
				}
			}
			if m := w.member("newcomer"); m == nil || m.Status != "invited" {
				t.Fatalf("the rest of the sync was not done: newcomer = %+v", m)
			}
			left, _ := w.st.PendingWork(bg, w.app.ID, 0)
			if len(left) != 50 {
				t.Fatalf("%d items left, want the 50 held", len(left))
			}
			for _, it := range left {
				if it.State != "held" {
					t.Fatalf("item %+v, want held", it)
				}
			}
			p = w.plan()
			held := 0
			for _, c := range p.Changes {
				if c.Op == engine.OpRemove && c.State == engine.StateHeld {
					held++
				}
			}
			if held != 50 || len(p.Changes) != 50 || p.Held != 50 || p.Guard == nil || p.Guard.Held != 50 {
				t.Fatalf("plan of the held removals: %d held of %d changes, %+v", held, len(p.Changes), p.Guard)
			}
			logs, _ := w.st.ListLog(bg, audit.Filter{Action: "sync.guard"})
			if len(logs) != 1 || logs[0].Outcome != audit.Failure {
				t.Fatalf("guard trip not logged: %+v", logs)
			}
			_, _ = w.trySync(nil, engine.SyncOptions{})
			if logs, _ := w.st.ListLog(bg, audit.Filter{Action: "sync.guard"}); len(logs) != 1 {
				t.Fatalf("the same trip was logged again: %d", len(logs))
			}
			for _, n := range names {
				if m := w.member(n); m.Status != "active" {
					t.Fatalf("a second sync off-boarded held %s: %+v", n, m)
				}
			}

			if _, err := w.trySync(nil, engine.SyncOptions{AllowDeletes: true, Actor: "admin"}); err != nil {
				t.Fatalf("sync with --allow-deletes: %v", err)
			}
			for _, n := range names {
				if m := w.member(n); m.Status != "removed" || m.DevicesWiped != 1 {
					t.Fatalf("released %s = %+v, want removed and wiped", n, m)
				}
			}
			if left, _ := w.st.PendingWork(bg, w.app.ID, 0); len(left) != 0 {
				t.Fatalf("work left after the release: %+v", left)
			}
		})
	}
}

// The guard's limits, in one window: 20% of the members, and 10 removals
// and wipes. Removal with a wipe is irreversible, so the 11th of 100 trips
// it; suspension without a wipe is not, so 20 of 100 pass and 21 trip.
func TestGuardThresholds(t *testing.T) {
	suspend := app.Deactivation{Type: app.DeactivateSuspend, FileManagement: app.FilesManageInDropbox}
	cases := []struct {
		name  string
		d     app.Deactivation
		n     int
		trips bool
	}{
		{"remove 10", app.DefaultSettings().Deactivation, 10, false},
		{"remove 11", app.DefaultSettings().Deactivation, 11, true},
		{"suspend 20", suspend, 20, false},
		{"suspend 21", suspend, 21, true},
	}
	for _, b := range storetest.Backends() {
		for _, c := range cases {
			t.Run(b.Name+"/"+c.name, func(t *testing.T) {
				w := newWorld(t, b.Open, func(s *app.Settings) { s.Deactivation = c.d })
				names := w.staff(100)
				for _, n := range names[:c.n] {
					w.status(n, directory.StatusDeprovisioned)
				}
				p := w.plan()
				if p.Offboard != c.n || (p.Guard != nil) != c.trips {
					t.Fatalf("plan: %d off-boardings, guard %v; want %d, trip=%v", p.Offboard, p.Guard, c.n, c.trips)
				}
				_, err := w.trySync(nil, engine.SyncOptions{})
				want := "removed"
				if c.d.Type == app.DeactivateSuspend {
					want = "suspended"
				}
				if c.trips {
					if g := guardError(t, err); g.Held != c.n {
						t.Fatalf("guard = %+v, want all %d held", g, c.n)
					}
					want = "active"
				} else if err != nil {
					t.Fatalf("sync: %v", err)
				}
				for _, n := range names[:c.n] {
					if m := w.member(n); m.Status != want {
						t.Fatalf("%s = %s, want %s", n, m.Status, want)
					}
				}
			})
		}
	}
}
