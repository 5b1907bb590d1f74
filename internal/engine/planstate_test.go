package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestPlanShowsWhereChangesStand: while workers run, a plan says of each
// change whether it is due, in flight, retrying, held by the deletion
// guard or scheduled after a grace period, instead of "No changes".
func TestPlanShowsWhereChangesStand(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Deactivation.RemoveAfter = "7d" })
			for _, n := range []string{"ann", "bob", "cat", "dan", "eve"} {
				w.user(n, nil)
				w.assign(n, directory.RoleMember)
			}
			w.sync()
			for _, n := range []string{"ann", "bob", "cat", "dan", "eve"} {
				w.emu.Team("acme").Activate(n + "@corp.example")
			}
			rename := func(n string) {
				w.change(n, "user.update", func(u *directory.User) error { u.LastName = "Renamed"; return nil })
			}
			claim := func() []store.WorkItem {
				items, err := w.st.ClaimWork(bg, store.Claim{AppID: w.app.ID, Kinds: []string{store.WorkUser}, Owner: "other-worker", Lease: time.Minute, Limit: 10})
				if err != nil || len(items) != 1 {
					t.Fatalf("claimed %v, %v", items, err)
				}
				return items
			}
			// eve leaves under a 7-day grace: suspended now, removal scheduled.
			w.status("eve", directory.StatusDeprovisioned)
			w.sync()
			if m := w.member("eve"); m.Status != "suspended" || m.DevicesWiped != 0 {
				t.Fatalf("eve in her grace = %+v", m)
			}
			// dan's off-boarding is held: the guard allows no removal now.
			w.setApp(func(s *app.Settings) { s.Guard.Irreversible = 0; s.Guard.Min = 0; s.Deactivation.RemoveAfter = "" })
			w.status("dan", directory.StatusDeprovisioned)
			a, _ := w.st.GetApp(bg, "dbx")
			if _, err := w.e.Sync(bg, a, engine.SyncOptions{}); !errors.Is(err, engine.ErrGuard) {
				t.Fatalf("sync with dan held: %v", err)
			}
			// cat failed and waits for a retry; bob is being worked elsewhere; ann is due.
			rename("cat")
			if err := w.st.FinishWork(bg, "other-worker", []store.Outcome{{Item: claim()[0], Err: errors.New("timeout"), RetryAt: time.Now().Add(time.Hour)}}); err != nil {
				t.Fatal(err)
			}
			rename("bob")
			claim()
			rename("ann")

			p, err := w.e.Plan(bg, a, false)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"ann": engine.StateDue, "bob": engine.StateInFlight, "cat": engine.StateRetrying,
				"dan": engine.StateHeld, "eve": engine.StateScheduled}
			got := map[string]string{}
			for _, c := range p.Changes {
				got[c.User] = c.State
				if c.User == "eve" && (c.Op != engine.OpRemove || c.Due == nil || c.Due.Before(time.Now().Add(6*24*time.Hour))) {
					t.Errorf("eve's scheduled change = %+v", c)
				}
				if c.User == "dan" && (c.Op != engine.OpRemove || !c.Irreversible) {
					t.Errorf("dan's held change = %+v", c)
				}
			}
			for u, s := range want {
				if got[u] != s {
					t.Errorf("%s: state %q, want %q (all: %v)", u, got[u], s, got)
				}
			}
			if p.Held != 1 || p.Scheduled != 1 || p.Guard == nil {
				t.Errorf("plan counts: held %d, scheduled %d, guard %v", p.Held, p.Scheduled, p.Guard)
			}
		})
	}
}
