package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// world is a store, an emulated Dropbox team, an app pointing at it, and an engine.
type world struct {
	t   *testing.T
	st  *sqlstore.DB
	emu *emu.Server
	e   *engine.Engine
	app app.Instance
}

func newWorld(t *testing.T, open func(testing.TB) *sqlstore.DB, edit func(*app.Settings)) *world {
	s, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	st := open(t)
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	if edit != nil {
		edit(&a.Settings)
	}
	if err := st.CreateApp(bg, "t", &a); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := engine.New(st, connect, log, engine.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	return &world{t: t, st: st, emu: s, e: e, app: a}
}

func (w *world) user(name string, edit func(*directory.User)) {
	w.t.Helper()
	u := directory.User{Username: name, Email: name + "@corp.example", FirstName: "F" + name, LastName: "L" + name}
	if edit != nil {
		edit(&u)
	}
	if err := w.st.CreateUser(bg, "t", &u); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) assign(name string, role directory.Role) {
	w.t.Helper()
	if err := w.st.Assign(bg, "t", &directory.Assignment{AppName: "dbx", Username: name, Role: role}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) change(name, action string, fn func(*directory.User) error) {
	w.t.Helper()
	if _, err := w.st.UpdateUser(bg, "t", name, action, fn); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) status(name string, s directory.Status) {
	w.change(name, "user.status", func(u *directory.User) error { u.Status = s; return nil })
}

// sync runs the engine until the queue is empty and returns its stats.
func (w *world) sync() engine.Stats {
	w.t.Helper()
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	st, err := w.e.Sync(bg, a, engine.SyncOptions{AllowDeletes: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *world) member(name string) *emu.Member {
	return w.emu.Team("acme").Snapshot().MemberByEmail(name + "@corp.example")
}

func (w *world) setApp(edit func(*app.Settings)) {
	w.t.Helper()
	if _, err := w.st.UpdateApp(bg, "t", "dbx", func(a *app.Instance) error { edit(&a.Settings); return nil }); err != nil {
		w.t.Fatal(err)
	}
}

func TestPushLifecycle(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			w.user("ann", nil)
			w.user("bob", nil)
			w.assign("ann", "member")
			w.assign("bob", "user_management_admin")
			if st := w.sync(); st.Done != 2 || st.Ops["account.create"] != 2 {
				t.Fatalf("push: %+v", st)
			}
			ann, bob := w.member("ann"), w.member("bob")
			if ann == nil || ann.Status != "invited" || ann.GivenName != "Fann" || !strings.HasPrefix(ann.ExternalID, "roster:") {
				t.Fatalf("ann = %+v", ann)
			}
			if bob.RoleID != emu.RoleID("User management admin") {
				t.Fatalf("bob's role = %q", bob.RoleID)
			}
			if n := len(w.emu.Team("acme").Snapshot().Welcome); n != 2 {
				t.Fatalf("welcome emails = %d, want 2 (silent provisioning is off)", n)
			}

			// Mover: email and name change, role change; invited members are updated too (F9).
			w.change("ann", "user.update", func(u *directory.User) error { u.Email, u.LastName = "ann.new@corp.example", "Lee"; return nil })
			w.assign("ann", "support_admin")
			w.sync()
			m := w.emu.Team("acme").Snapshot().MemberByEmail("ann.new@corp.example")
			if m == nil || m.Surname != "Lee" || m.RoleID != emu.RoleID("Support admin") || m.ID != ann.ID {
				t.Fatalf("after move: %+v", m)
			}
			w.assign("ann", "member")
			w.sync()
			if m := w.emu.Team("acme").Snapshot().MemberByEmail("ann.new@corp.example"); m.RoleID != "" {
				t.Fatalf("demote left role %q", m.RoleID)
			}

			// Directory suspension suspends without wiping; unsuspend restores.
			w.emu.Team("acme").Activate("bob@corp.example")
			w.status("bob", directory.StatusSuspended)
			w.sync()
			if m := w.member("bob"); m.Status != "suspended" || m.DevicesWiped != 0 {
				t.Fatalf("suspended bob = %+v", m)
			}
			w.status("bob", directory.StatusActive)
			w.sync()
			if m := w.member("bob"); m.Status != "active" {
				t.Fatalf("unsuspended bob = %+v", m)
			}

			// Leaver with default settings: removed and wiped; an invited leaver is withdrawn.
			w.status("bob", directory.StatusDeprovisioned)
			if err := w.st.Unassign(bg, "t", "dbx", "ann", ""); err != nil {
				t.Fatal(err)
			}
			w.sync()
			if m := w.member("bob"); m.Status != "removed" || m.DevicesWiped != 1 {
				t.Fatalf("removed bob = %+v", m)
			}
			if m := w.emu.Team("acme").Snapshot().MemberByEmail("ann.new@corp.example"); m.Status != "removed" {
				t.Fatalf("unassigned invited ann = %+v", m)
			}
			logs, _ := w.st.ListLog(bg, audit.Filter{Target: "bob", App: "dbx", Action: "account.remove"})
			if len(logs) != 1 || logs[0].Outcome != audit.Success || logs[0].Detail["wipe_data"] != true {
				t.Fatalf("remove log = %+v", logs)
			}
			if left, _ := w.st.PendingWork(bg, w.app.ID, 0); len(left) != 0 {
				t.Fatalf("work left: %+v", left)
			}
		})
	}
}

func TestLinkNeverDuplicates(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	if _, err := w.emu.Team("acme").Seed([]emu.SeedMember{{Email: "cy@corp.example", GivenName: "Old", Surname: "Name", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	w.user("cy", nil)
	w.assign("cy", "team_admin")
	st := w.sync()
	sn := w.emu.Team("acme").Snapshot()
	count := 0
	for _, m := range sn.Members {
		if strings.EqualFold(m.Email, "cy@corp.example") {
			count++
		}
	}
	m := sn.MemberByEmail("cy@corp.example")
	if count != 1 || m.GivenName != "Fcy" || m.RoleID != emu.RoleID("Team") || st.Ops["account.link"] != 1 {
		t.Fatalf("link: %d members, %+v, ops %v", count, m, st.Ops)
	}
	if len(sn.Welcome) != 0 {
		t.Fatal("linking sent a welcome email")
	}
}

// A member found by one user's email and by another's external id is linked
// to one of them only; the other becomes a task that names the conflict.
func TestLinkNeverSharesAMember(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	w.user("cy", nil)
	w.user("dee", nil)
	dee, err := w.st.GetUser(bg, "dee")
	if err != nil {
		t.Fatal(err)
	}
	seed := emu.SeedMember{Email: "cy@corp.example", ExternalID: engine.ExternalID(dee.ID), Status: "active"}
	if _, err := w.emu.Team("acme").Seed([]emu.SeedMember{seed}); err != nil {
		t.Fatal(err)
	}
	w.assign("cy", "member")
	w.assign("dee", "member")
	st := w.sync()
	accts, _ := w.st.ListAccounts(bg, w.app.ID, store.Page{})
	byMember := map[string]int{}
	for _, a := range accts {
		byMember[a.MemberID]++
	}
	for mid, n := range byMember {
		if n > 1 {
			t.Fatalf("member %s is the account of %d users: %+v", mid, n, accts)
		}
	}
	tasks, _ := w.st.ListTasks(bg, w.app.ID)
	if st.Ops["account.link"] != 1 || len(tasks) != 1 || !strings.Contains(tasks[0].LastError, "already the account of another directory user") {
		t.Fatalf("ops %v, tasks %+v", st.Ops, tasks)
	}
}

func TestSilentProvisioningAndPendingActivation(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, func(s *app.Settings) { s.Silent = true })
	for _, n := range []string{"dee", "eve"} {
		w.user(n, nil)
		w.assign(n, "member")
	}
	w.sync()
	if n := len(w.emu.Team("acme").Snapshot().Welcome); n != 0 {
		t.Fatalf("silent provisioning sent %d welcome emails", n)
	}
	accts, _ := w.st.ListAccounts(bg, w.app.ID, store.Page{})
	silent := 0
	for _, a := range accts {
		if a.Silent && a.Status == "invited" {
			silent++
		}
	}
	if silent != 2 {
		t.Fatalf("pending activation = %d, want 2: %+v", silent, accts)
	}
}

func TestOffboardingWithTransferAndReactivation(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	team := w.emu.Team("acme")
	if _, err := team.Seed([]emu.SeedMember{{Email: "archive@corp.example", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	w.setApp(func(s *app.Settings) {
		s.Deactivation = app.Deactivation{Type: app.DeactivateRemove, WipeData: true, FileManagement: app.FilesTransfer,
			TransferDest: "archive@corp.example", TransferAdmin: "admin@acme.example"}
	})
	w.user("fay", nil)
	w.assign("fay", "member")
	w.sync()
	team.Activate("fay@corp.example")
	if err := team.AddFiles("fay@corp.example", "q3-plan.docx"); err != nil {
		t.Fatal(err)
	}
	w.status("fay", directory.StatusDeprovisioned)
	w.sync()
	sn := team.Snapshot()
	fay, archive := sn.MemberByEmail("fay@corp.example"), sn.MemberByEmail("archive@corp.example")
	if fay.Status != "removed" || !fay.Transferred || len(archive.Files) == 0 || fay.DevicesWiped != 1 {
		t.Fatalf("transfer not done: fay %+v, archive files %v", fay, archive.Files)
	}
	// Reactivating a removed user gives a new account (its old one was transferred away).
	w.status("fay", directory.StatusActive)
	w.sync()
	sn = team.Snapshot()
	again := sn.MemberByEmail("fay@corp.example")
	if again == nil || again.ID == fay.ID || again.Status != "invited" {
		t.Fatalf("reactivated fay = %+v (old %s)", again, fay.ID)
	}
}

// A suspend-type leaver keeps its files. A removed one reactivated within
// Dropbox's 7-day window is recovered: the same member, files intact
// (README, "reactivated"). Roster records the removal as recoverable, so a
// re-queue of the leaver keeps that record and a full plan recovers instead
// of creating an account Dropbox would refuse.
func TestSuspendTypeKeepsFilesAndRemovalIsRecovered(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Deactivation.Type = app.DeactivateSuspend; s.Deactivation.WipeData = false })
			team := w.emu.Team("acme")
			w.user("gus", nil)
			w.assign("gus", "member")
			w.sync()
			team.Activate("gus@corp.example")
			_ = team.AddFiles("gus@corp.example", "notes.txt")
			w.status("gus", directory.StatusDeprovisioned)
			w.sync()
			if m := w.member("gus"); m.Status != "suspended" || len(m.Files) != 1 || m.DevicesWiped != 0 {
				t.Fatalf("suspend-type leaver = %+v", m)
			}
			w.status("gus", directory.StatusActive)
			w.sync()
			if m := w.member("gus"); m.Status != "active" || len(m.Files) != 1 {
				t.Fatalf("reactivated gus = %+v (files must be intact)", m)
			}

			w.setApp(func(s *app.Settings) { s.Deactivation.Type = app.DeactivateRemove })
			gus := w.removeLeaver("gus")
			removed, _ := w.account("gus")
			// A re-queue of the leaver (here a directory edit) keeps the record.
			w.change("gus", "user.update", func(u *directory.User) error { u.LastName = "Back"; return nil })
			w.settle()
			if a, ok := w.account("gus"); !ok || a.Status != "removed" || !a.Recoverable || !a.RemovedAt.Equal(removed.RemovedAt) {
				t.Fatalf("after a re-queue the record is %+v (found %v), want it kept as %+v", a, ok, removed)
			}

			w.status("gus", directory.StatusActive)
			if ops := w.fullPlan()["gus"]; !slices.Equal(ops, []string{"recover"}) {
				t.Fatalf("full plan for reactivated gus = %v, want [recover]", ops)
			}
			w.emu.ResetCalls()
			w.settle()
			calls := w.emu.Calls()
			m := w.member("gus")
			if calls["team/members/recover"] != 1 || calls["team/members/add_v2"] != 0 {
				t.Fatalf("calls = %v, want one recover and no add", calls)
			}
			if m.ID != gus.ID || m.Status != "active" || !slices.Equal(m.Files, []string{"notes.txt"}) || m.Surname != "Back" {
				t.Fatalf("recovered gus = %+v, want member %s active with notes.txt and the new surname", m, gus.ID)
			}
			if a, _ := w.account("gus"); a.MemberID != gus.ID || a.Status != "active" || a.Recoverable || !a.RemovedAt.IsZero() {
				t.Fatalf("record after recovery = %+v", a)
			}
		})
	}
}

func TestFailuresBecomeTasksAndRateLimitsAreObeyed(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	w.emu.SetFaults(emu.Faults{Rate429: 0.3, RetryAfter: 1, Seed: 7})
	for i := range 30 {
		n := fmt.Sprintf("r%02d", i)
		w.user(n, nil)
		w.assign(n, "member")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		w.sync()
		if left, _ := w.st.PendingWork(bg, w.app.ID, 0); len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("rate-limited work did not finish")
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.emu.SetFaults(emu.Faults{})
	if got := len(w.emu.Team("acme").Snapshot().Members); got != 31 {
		t.Fatalf("members = %d, want 31", got)
	}
	// A permanent refusal (no licence left) becomes a task at once.
	lic := 31
	if err := w.emu.Team("acme").Configure(emu.TeamSettings{Licenses: &lic}); err != nil {
		t.Fatal(err)
	}
	w.user("late", nil)
	w.assign("late", "member")
	st := w.sync()
	tasks, _ := w.st.ListTasks(bg, w.app.ID)
	if st.Tasks != 1 || len(tasks) != 1 || !strings.Contains(tasks[0].LastError, "team_license_limit") {
		t.Fatalf("licence limit: %+v %+v", st, tasks)
	}
	var guard *engine.GuardError
	if errors.As(nil, &guard) {
		t.Fatal("unreachable")
	}
}

// A create whose answer was lost leaves a member Roster does not know of; if
// the user leaves before the retry, that member must still be off-boarded.
func TestLostCreateThenLeaver(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	w.user("hal", nil)
	w.assign("hal", "member")
	w.emu.SetFaults(emu.Faults{Lost: 1})
	a, _ := w.st.GetApp(bg, "dbx")
	st, err := w.e.Sync(bg, a, engine.SyncOptions{})
	if err != nil || st.Retrying != 1 {
		t.Fatalf("lost create: %+v %v", st, err)
	}
	w.emu.SetFaults(emu.Faults{})
	if m := w.member("hal"); m == nil || m.Status != "invited" {
		t.Fatalf("the lost create did not happen in Dropbox: %+v", m)
	}
	if accts, _ := w.st.Accounts(bg, w.app.ID, []int64{1}); len(accts) != 0 {
		t.Fatalf("Roster knows an account it cannot know: %+v", accts)
	}
	w.status("hal", directory.StatusDeprovisioned)
	time.Sleep(10 * time.Millisecond) // past the retry's backoff
	w.sync()
	if m := w.member("hal"); m.Status != "removed" {
		t.Fatalf("orphan left behind: %+v", m)
	}
}
