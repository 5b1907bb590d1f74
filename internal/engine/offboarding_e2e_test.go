package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// staff makes n users u000… members of the group "staff", which is assigned
// to the app, and provisions them as active members holding a file: the
// members exist in Dropbox already and Roster links them, so its records
// say active, as after people signed in.
func (w *world) staff(n int) []string {
	w.t.Helper()
	names := make([]string, n)
	seed := make([]emu.SeedMember, n)
	for i := range names {
		names[i] = fmt.Sprintf("u%03d", i)
		seed[i] = emu.SeedMember{Email: names[i] + "@corp.example", Status: "active", Files: []string{"notes.txt"}}
		w.user(names[i], nil)
	}
	if _, err := w.emu.Team("acme").Seed(seed); err != nil {
		w.t.Fatal(err)
	}
	w.group("staff", names...)
	if err := w.st.Assign(bg, "t", &directory.Assignment{AppName: "dbx", GroupName: "staff"}); err != nil {
		w.t.Fatal(err)
	}
	w.settle()
	for _, n := range names {
		if a, ok := w.account(n); !ok || a.Status != "active" {
			w.t.Fatalf("%s not provisioned as an active member: %+v", n, a)
		}
	}
	return names
}

// trySync runs one sync with e (the world's engine when nil); unlike
// w.sync it releases nothing the deletion guard holds.
func (w *world) trySync(e *engine.Engine, opt engine.SyncOptions) (engine.Stats, error) {
	w.t.Helper()
	if e == nil {
		e = w.e
	}
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	return e.Sync(bg, a, opt)
}

func (w *world) plan() engine.Preview {
	w.t.Helper()
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := w.e.Plan(bg, a, false)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) userID(name string) int64 {
	w.t.Helper()
	u, err := w.st.GetUser(bg, name)
	if err != nil {
		w.t.Fatal(err)
	}
	return u.ID
}

// offboarding returns the user's off-boarding record, if any.
func (w *world) offboarding(name string) (store.Offboarding, bool) {
	w.t.Helper()
	id := w.userID(name)
	obs, err := w.st.Offboardings(bg, w.app.ID, []int64{id})
	if err != nil {
		w.t.Fatal(err)
	}
	ob, ok := obs[id]
	return ob, ok
}

// item returns the user's queued work item, if any.
func (w *world) item(name string) (store.WorkItem, bool) {
	w.t.Helper()
	id := w.userID(name)
	items, err := w.st.PendingWork(bg, w.app.ID, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, it := range items {
		if it.Kind == store.WorkUser && it.RefID == id {
			return it, true
		}
	}
	return store.WorkItem{}, false
}

// ageOffboarding moves a recorded off-boarding back by d, as if the user
// had left d earlier: its grace period ends d sooner.
func (w *world) ageOffboarding(name string, d time.Duration) {
	w.t.Helper()
	ob, ok := w.offboarding(name)
	if !ok {
		w.t.Fatalf("%s has no off-boarding record", name)
	}
	due := int64(0)
	if !ob.RemoveDue.IsZero() {
		due = ob.RemoveDue.Add(-d).UnixNano()
	}
	// Literal numbers: the placeholder syntax differs between the backends.
	q := fmt.Sprintf(`UPDATE offboardings SET started_at = %d, remove_due_at = %d WHERE app_id = %d AND user_id = %d`,
		ob.StartedAt.Add(-d).UnixNano(), due, w.app.ID, w.userID(name))
	if _, err := w.st.SQL().ExecContext(bg, q); err != nil {
		w.t.Fatal(err)
	}
}

// touch queues the user again with a harmless directory edit.
func (w *world) touch(name string) {
	w.change(name, "user.update", func(u *directory.User) error { u.LastName += "x"; return nil })
}

func guardError(t *testing.T, err error) *engine.GuardError {
	t.Helper()
	var g *engine.GuardError
	if !errors.As(err, &g) || !errors.Is(err, engine.ErrGuard) {
		t.Fatalf("sync = %v, want a deletion guard error", err)
	}
	return g
}

// A worker whose lane still holds the settings of a tick ago must off-board
// under the settings saved since: an admin who switches from removal with
// a wipe and a transfer to suspension, and then deactivates someone, gets
// a suspension.
func TestWorkerOffboardsUnderTheLatestSettings(t *testing.T) {
	harsh := app.Deactivation{Type: app.DeactivateRemove, WipeData: true, FileManagement: app.FilesTransfer,
		TransferDest: "archive@corp.example", TransferAdmin: "admin@acme.example"}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Deactivation = harsh })
			team := w.emu.Team("acme")
			if _, err := team.Seed([]emu.SeedMember{{Email: "archive@corp.example", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			// Workers only run apps that have a token; the connector brings its own.
			if err := w.st.SetAppCredential(bg, "t", "dbx", []byte("sealed")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(bg)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			wk := engine.NewWorker(w.st, connectTo, log, engine.WorkerConfig{Tick: 3 * time.Second,
				Engine: engine.Config{Idle: 20 * time.Millisecond, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
			done := make(chan error, 1)
			go func() { done <- wk.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()

			for _, n := range []string{"fay", "gil"} {
				w.user(n, nil)
				w.assign(n, "member")
			}
			waitUntil(t, "the worker provisions fay and gil", func() bool {
				left, _ := w.st.PendingWork(bg, w.app.ID, 0)
				return len(left) == 0 && w.member("fay") != nil && w.member("gil") != nil
			})
			team.Activate("fay@corp.example", "gil@corp.example")
			if err := team.AddFiles("fay@corp.example", "q3-plan.docx"); err != nil {
				t.Fatal(err)
			}
			fay := *w.member("fay")

			// The lane's copy of the app is renewed every 3 s; both changes
			// land well inside one tick.
			w.setApp(func(s *app.Settings) {
				s.Deactivation = app.Deactivation{Type: app.DeactivateSuspend, FileManagement: app.FilesManageInDropbox}
			})
			time.Sleep(10 * time.Millisecond)
			w.status("fay", directory.StatusDeprovisioned)
			waitUntil(t, "the worker off-boards fay", func() bool {
				left, _ := w.st.PendingWork(bg, w.app.ID, 0)
				return len(left) == 0 && w.member("fay").Status != "active"
			})

			m := w.member("fay")
			archive := w.member("archive")
			if m.ID != fay.ID || m.Status != "suspended" || m.DevicesWiped != 0 || m.Transferred || !slices.Equal(m.Files, []string{"q3-plan.docx"}) {
				t.Fatalf("fay = %+v, want suspended with her files, no wipe, no transfer", m)
			}
			if len(archive.Files) != 0 {
				t.Fatalf("files transferred to the archive: %v", archive.Files)
			}
			if ob, ok := w.offboarding("fay"); !ok || ob.Settings.Type != app.DeactivateSuspend || ob.Settings.WipeData {
				t.Fatalf("fay's off-boarding intent = %+v (found %v), want the suspension saved before she left", ob, ok)
			}
		})
	}
}

// Switching from suspension to removal reaches only future leavers: those
// suspended before, and those who left before the switch but were not yet
// off-boarded, stay suspended until an admin re-applies the settings to them.
func TestNewSettingsDoNotReachPastLeavers(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) {
				s.Deactivation = app.Deactivation{Type: app.DeactivateSuspend, FileManagement: app.FilesManageInDropbox}
			})
			for _, n := range []string{"ann", "cy", "dan"} {
				w.provisionWithFiles(n)
			}
			w.status("ann", directory.StatusDeprovisioned)
			w.settle()
			if m := w.member("ann"); m.Status != "suspended" || m.DevicesWiped != 0 {
				t.Fatalf("ann under suspension = %+v", m)
			}
			// cy leaves, but no worker runs before the settings change.
			w.status("cy", directory.StatusDeprovisioned)
			w.setApp(func(s *app.Settings) { s.Deactivation = app.DefaultSettings().Deactivation })
			w.touch("ann")
			w.settle()
			for _, n := range []string{"ann", "cy"} {
				if m := w.member(n); m.Status != "suspended" || m.DevicesWiped != 0 || len(m.Files) != 1 {
					t.Fatalf("past leaver %s after the switch to removal = %+v, want suspended, no wipe, files kept", n, m)
				}
				if ob, ok := w.offboarding(n); !ok || ob.Settings.Type != app.DeactivateSuspend {
					t.Fatalf("%s's intent = %+v (found %v), want the suspension in force when they left", n, ob, ok)
				}
			}
			w.status("dan", directory.StatusDeprovisioned)
			w.settle()
			if m := w.member("dan"); m.Status != "removed" || m.DevicesWiped != 1 {
				t.Fatalf("a leaver after the switch = %+v, want removed and wiped", m)
			}

			// The explicit action: the settings in force now, for ann only.
			if err := w.st.ReapplyOffboardings(bg, "admin", w.app.ID, []int64{w.userID("ann")}); err != nil {
				t.Fatal(err)
			}
			w.settle()
			if m := w.member("ann"); m.Status != "removed" || m.DevicesWiped != 1 {
				t.Fatalf("ann after re-applying = %+v, want removed and wiped", m)
			}
			if m := w.member("cy"); m.Status != "suspended" {
				t.Fatalf("cy = %+v, want still suspended: the re-apply named ann only", m)
			}
			if ob, _ := w.offboarding("ann"); ob.Settings.Type != app.DeactivateRemove || ob.ConfirmedBy != "admin" {
				t.Fatalf("ann's intent after re-applying = %+v", ob)
			}
		})
	}
}

// With deactivation.remove_after a leaver is suspended at once, files kept
// and nothing wiped, and removed only once the grace has passed; coming back
// within it restores the same member; an admin can cancel the removal.
func TestGraceBeforeRemoval(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Deactivation.RemoveAfter = "7d" })
			members := map[string]emu.Member{}
			for _, n := range []string{"ann", "bob", "cy"} {
				members[n] = w.provisionWithFiles(n)
			}
			const grace = 7 * 24 * time.Hour

			start := time.Now()
			w.status("ann", directory.StatusDeprovisioned)
			w.settle()
			if m := w.member("ann"); m.ID != members["ann"].ID || m.Status != "suspended" || m.DevicesWiped != 0 || len(m.Files) != 1 {
				t.Fatalf("ann in her grace = %+v, want suspended, files kept, no wipe", m)
			}
			ob, ok := w.offboarding("ann")
			if !ok || ob.Phase != store.PhaseGrace || ob.RemoveDue.Before(start.Add(grace)) || ob.RemoveDue.After(time.Now().Add(grace)) {
				t.Fatalf("ann's record = %+v (found %v), want phase grace, due in 7 days", ob, ok)
			}
			p := w.plan()
			var sched []engine.Change
			for _, c := range p.Changes {
				if c.State == engine.StateScheduled {
					sched = append(sched, c)
				}
			}
			if len(sched) != 1 || sched[0].User != "ann" || sched[0].Op != engine.OpRemove || !sched[0].Irreversible ||
				sched[0].Due == nil || !sched[0].Due.Equal(ob.RemoveDue) || p.Scheduled != 1 || p.Offboard != 0 {
				t.Fatalf("plan = %+v, want ann's removal scheduled at %v and nothing due", p, ob.RemoveDue)
			}

			// Back within the grace: the same member, unsuspended, files intact.
			w.status("ann", directory.StatusActive)
			w.settle()
			if m := w.member("ann"); m.ID != members["ann"].ID || m.Status != "active" || !slices.Equal(m.Files, []string{"notes.txt"}) {
				t.Fatalf("ann back = %+v, want member %s active with her files", m, members["ann"].ID)
			}
			if ob, ok := w.offboarding("ann"); ok {
				t.Fatalf("ann is back but her off-boarding remains: %+v", ob)
			}

			// bob stays gone: passes within the grace keep him suspended; the
			// first pass after it removes him with the wipe the settings ask for.
			w.status("bob", directory.StatusDeprovisioned)
			w.settle()
			w.touch("bob")
			w.settle()
			if m := w.member("bob"); m.Status != "suspended" || m.DevicesWiped != 0 {
				t.Fatalf("bob within his grace = %+v", m)
			}
			w.ageOffboarding("bob", grace+time.Minute)
			w.settle()
			if m := w.member("bob"); m.ID != members["bob"].ID || m.Status != "removed" || m.DevicesWiped != 1 {
				t.Fatalf("bob after his grace = %+v, want removed and wiped", m)
			}
			if ob, _ := w.offboarding("bob"); ob.Phase != store.PhaseFinal {
				t.Fatalf("bob's record after removal = %+v", ob)
			}

			// cy's removal is cancelled: cy stays suspended past the due time.
			w.status("cy", directory.StatusDeprovisioned)
			w.settle()
			if err := w.st.KeepOffboarded(bg, "admin", w.app.ID, w.userID("cy")); err != nil {
				t.Fatal(err)
			}
			w.settle()
			w.ageOffboarding("cy", grace+time.Minute)
			w.touch("cy")
			w.settle()
			if m := w.member("cy"); m.Status != "suspended" || m.DevicesWiped != 0 || len(m.Files) != 1 {
				t.Fatalf("kept cy after the due time = %+v, want suspended with files", m)
			}
			if ob, _ := w.offboarding("cy"); !ob.Kept || ob.Phase != store.PhaseFinal {
				t.Fatalf("cy's record = %+v, want kept", ob)
			}
			if p := w.plan(); p.Scheduled != 0 {
				t.Fatalf("plan still schedules a removal: %+v", p.Changes)
			}
		})
	}
}

// The deletion guard counts over its window across passes and engines:
// single off-boardings in separate passes of two worker processes add up,
// and the one beyond the limit is held until an admin confirms it.
func TestGuardWindowAcrossPassesAndEngines(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			// 80 members: off-boardings up to 20% of the members (14 once
			// ten are removed), of which at most 10 removals or wipes.
			names := w.staff(80)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			engines := []*engine.Engine{w.e,
				engine.New(w.st, connectTo, log, engine.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})}
			for i := range 10 {
				w.status(names[i], directory.StatusDeprovisioned)
				if _, err := w.trySync(engines[i%2], engine.SyncOptions{}); err != nil {
					t.Fatalf("off-boarding %d: %v", i+1, err)
				}
				if m := w.member(names[i]); m.Status != "removed" || m.DevicesWiped != 1 {
					t.Fatalf("off-boarding %d: %s = %+v, want removed", i+1, names[i], m)
				}
			}
			w.status(names[10], directory.StatusDeprovisioned)
			_, err := w.trySync(engines[0], engine.SyncOptions{})
			if g := guardError(t, err); g.Held != 1 {
				t.Fatalf("11th removal: %+v, want one held", g)
			}
			if m := w.member(names[10]); m.Status != "active" || m.DevicesWiped != 0 {
				t.Fatalf("held leaver %s = %+v, want untouched", names[10], m)
			}
			if it, ok := w.item(names[10]); !ok || it.State != "held" {
				t.Fatalf("held leaver's item = %+v (found %v)", it, ok)
			}
			// A suspension is not irreversible: it fits the 16 of the window
			// (the sync still reports the one held earlier).
			w.status(names[11], directory.StatusSuspended)
			_, err = w.trySync(engines[1], engine.SyncOptions{})
			if g := guardError(t, err); g.Held != 1 {
				t.Fatalf("after the suspension: %+v, want the earlier one still held", g)
			}
			if m := w.member(names[11]); m.Status != "suspended" {
				t.Fatalf("directory suspension = %+v", m)
			}
			// Confirmed off-boardings go ahead while the window is full.
			w.status(names[12], directory.StatusDeprovisioned)
			if err := w.st.ConfirmOffboardings(bg, "admin", w.app.ID, []int64{w.userID(names[12]), w.userID(names[10])}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.trySync(engines[1], engine.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{names[10], names[12]} {
				if m := w.member(n); m.Status != "removed" {
					t.Fatalf("confirmed leaver %s = %+v, want removed", n, m)
				}
			}
			// An unconfirmed one is still held.
			w.status(names[13], directory.StatusDeprovisioned)
			_, err = w.trySync(engines[0], engine.SyncOptions{})
			if g := guardError(t, err); g.Held != 1 {
				t.Fatalf("14th: %+v, want one held", g)
			}
			if m := w.member(names[13]); m.Status != "active" {
				t.Fatalf("unconfirmed leaver over the limit = %+v", m)
			}
		})
	}
}

// A held leaver who comes back is not off-boarded, and nothing stays held.
func TestHeldLeaverWhoReturns(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Guard.Irreversible = 0 })
			names := w.staff(20)
			w.status(names[0], directory.StatusDeprovisioned)
			_, err := w.trySync(nil, engine.SyncOptions{})
			if g := guardError(t, err); g.Held != 1 {
				t.Fatalf("guard = %+v, want one held", g)
			}
			w.change(names[0], "user.update", func(u *directory.User) error {
				u.Status, u.LastName = directory.StatusActive, "Back"
				return nil
			})
			if _, err := w.trySync(nil, engine.SyncOptions{}); err != nil {
				t.Fatalf("sync after the leaver came back: %v", err)
			}
			if m := w.member(names[0]); m.Status != "active" || m.Surname != "Back" {
				t.Fatalf("returned user = %+v, want active with the new surname", m)
			}
			if it, ok := w.item(names[0]); ok {
				t.Fatalf("returned user's work is left %s", it.State)
			}
			if ob, ok := w.offboarding(names[0]); ok {
				t.Fatalf("returned user's off-boarding remains: %+v", ob)
			}
		})
	}
}

// waitUntil polls ok for up to 20 seconds.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}
