package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
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
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestMain lets the test binary act as the engine process the crash test kills.
func TestMain(m *testing.M) {
	if db := os.Getenv("ROSTER_CRASH_CHILD_DB"); db != "" {
		os.Exit(crashChild(db, os.Getenv("ROSTER_CRASH_CHILD_OWNER")))
	}
	os.Exit(m.Run())
}

// crashChild runs the engine's workers until it is killed.
func crashChild(db, owner string) int {
	ctx := context.Background()
	var st *sqlstore.DB
	var err error
	if store.IsPostgres(db) {
		st, err = postgres.Open(ctx, db)
	} else {
		st, err = sqlite.Open(ctx, db)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := engine.New(st, connect, log, engine.Config{Owner: owner, Batch: 100, Lease: 2 * time.Second, MaxAttempts: 1000,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Idle: 20 * time.Millisecond})
	_ = e.Run(ctx)
	return 0
}

const crashUsers = 2000

// TestCrashRecovery pushes 2,000 users through an emulator that loses answers
// after committing and answers some calls 429 and 5xx, SIGKILLs the engine
// process at random moments at least 20 times, and then checks that Dropbox
// holds exactly the desired state. Half the leavers were active members
// before Roster came; one run gives leavers a grace before removal
// (deactivation.remove_after), so those end suspended.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is long")
	}
	for _, b := range []struct {
		name  string
		dsn   func(t *testing.T) string
		grace bool
	}{
		{"sqlite", func(t *testing.T) string { return t.TempDir() + "/crash.db" }, true},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }, false},
	} {
		t.Run(b.name, func(t *testing.T) { crashRun(t, b.dsn(t), b.grace) })
	}
}

func crashRun(t *testing.T, dsn string, grace bool) {
	s, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}},
		Faults: emu.Faults{Lost: 0.05, Rate429: 0.03, Rate5xx: 0.03, RetryAfter: 1, Seed: 11}})
	st := openCrashStore(t, dsn)
	seedCrashDirectory(t, st, base, grace)
	signedIn := seedCrashLeavers(t, st, s.Team("acme"))
	rng := rand.New(rand.NewPCG(3, 5))
	midWork := 0
	// Lives go on until 24 kills have cut a batch short; a kill that lands
	// between batches still counts as a crash, not as one of the 24.
	lives := 0
	for kill := 1; midWork < 24 && kill <= 48; kill++ {
		lives = kill
		owner := fmt.Sprintf("child-%d", kill)
		child := startChild(t, dsn, owner)
		// Each life is killed at a random moment after it first claims work,
		// so slow builds (-race) are cut mid-batch as surely as fast ones.
		waitLease(t, st, owner)
		time.Sleep(time.Duration(rng.IntN(250)) * time.Millisecond)
		if leases(st, owner) > 0 {
			midWork++
		}
		_ = child.Process.Signal(syscall.SIGKILL)
		_ = child.Wait()
		// Movers and leavers arrive while the engine keeps dying.
		if kill == 8 {
			changeCrashDirectory(t, st)
		}
		if kill == 16 {
			renameCrashUsers(t, st, 400, 800, "Later")
		}
	}
	done, _ := st.ListAccounts(bg, 1, store.Page{Limit: 10000})
	left, _ := st.PendingWork(bg, 0, 10000)
	t.Logf("%d kills, %d of them mid-batch; then %d accounts known, %d items queued", lives, midWork, len(done), len(left))
	// The kills must have landed mid-work, or this test proves nothing.
	if midWork < 20 {
		t.Fatalf("only %d of %d kills interrupted a batch", midWork, lives)
	}
	s.SetFaults(emu.Faults{})
	child := startChild(t, dsn, "final")
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	waitDrained(t, st)
	checkCrashState(t, st, s.Team("acme").Snapshot(), grace, signedIn)
}

func openCrashStore(t *testing.T, dsn string) *sqlstore.DB {
	var st *sqlstore.DB
	var err error
	if store.IsPostgres(dsn) {
		st, err = postgres.Open(bg, dsn)
	} else {
		st, err = sqlite.Open(bg, dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func seedCrashDirectory(t *testing.T, st *sqlstore.DB, base string, grace bool) {
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	// This test is about crashes, not the deletion guard: its 50 leavers go through.
	a.Settings.Guard = app.Guard{Percent: 100, Min: crashUsers, Irreversible: crashUsers, Window: "1h"}
	if grace {
		a.Settings.Deactivation.RemoveAfter = "7d"
	}
	if err := st.CreateApp(bg, "t", &a); err != nil {
		t.Fatal(err)
	}
	// Workers only run apps that have a token; the child's connector brings its own.
	if err := st.SetAppCredential(bg, "t", "dbx", []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	users := make([]directory.User, crashUsers)
	names := make([]string, crashUsers)
	for i := range users {
		names[i] = fmt.Sprintf("c%04d", i)
		users[i] = directory.User{Username: names[i], Email: names[i] + "@corp.example", FirstName: "C", LastName: fmt.Sprint(i)}
	}
	if err := st.CreateUsers(bg, "t", users); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		name  string
		role  directory.Role
		users []string
	}{{"all", "member", names}, {"support", "support_admin", names[:40]}} {
		grp := directory.Group{Name: g.name}
		if err := st.CreateGroup(bg, "t", &grp); err != nil {
			t.Fatal(err)
		}
		if err := st.AddGroupMembers(bg, "t", g.name, g.users); err != nil {
			t.Fatal(err)
		}
		if err := st.Assign(bg, "t", &directory.Assignment{AppName: "dbx", GroupName: g.name, Role: g.role}); err != nil {
			t.Fatal(err)
		}
	}
}

// seedCrashLeavers makes the first 25 leavers active members holding a
// file before Roster runs, with Roster's external id, as if they had signed
// in long ago: off-boarding them has files to keep or wipe, whether Roster
// linked them before they left or finds them when they do. It returns their
// emails.
func seedCrashLeavers(t *testing.T, st *sqlstore.DB, team *emu.Team) map[string]bool {
	signedIn := map[string]bool{}
	var seed []emu.SeedMember
	for i := 1900; i < 1925; i++ {
		u, err := st.GetUser(bg, fmt.Sprintf("c%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		seed = append(seed, emu.SeedMember{Email: u.Email, ExternalID: engine.ExternalID(u.ID), Status: "active", Files: []string{"notes.txt"}})
		signedIn[u.Email] = true
	}
	if _, err := team.Seed(seed); err != nil {
		t.Fatal(err)
	}
	return signedIn
}

// changeCrashDirectory renames 100 users and deactivates 50 others.
func changeCrashDirectory(t *testing.T, st *sqlstore.DB) {
	renameCrashUsers(t, st, 100, 200, "Moved")
	for i := 1900; i < 1950; i++ {
		if _, err := st.UpdateUser(bg, "t", fmt.Sprintf("c%04d", i), "user.deactivate", func(u *directory.User) error { u.Status = directory.StatusDeprovisioned; return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func renameCrashUsers(t *testing.T, st *sqlstore.DB, from, to int, last string) {
	for i := from; i < to; i++ {
		if _, err := st.UpdateUser(bg, "t", fmt.Sprintf("c%04d", i), "user.update", func(u *directory.User) error { u.LastName = last; return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func startChild(t *testing.T, dsn, owner string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ROSTER_CRASH_CHILD_DB="+dsn, "ROSTER_CRASH_CHILD_OWNER="+owner)
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// leases counts the items owner holds right now.
func leases(st *sqlstore.DB, owner string) int {
	items, _ := st.PendingWork(bg, 0, 10000)
	n := 0
	for _, w := range items {
		if w.LeaseOwner == owner && w.LeaseUntil.After(time.Now()) {
			n++
		}
	}
	return n
}

// waitLease waits until owner has claimed work, or the queue is empty.
func waitLease(t *testing.T, st *sqlstore.DB, owner string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if leases(st, owner) > 0 {
			return
		}
		if left, _ := st.PendingWork(bg, 0, 1); len(left) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never claimed work", owner)
}

func waitDrained(t *testing.T, st *sqlstore.DB) {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		left, err := st.PendingWork(bg, 0, 1)
		if err == nil && len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	left, _ := st.PendingWork(bg, 0, 5)
	tasks, _ := st.ListTasks(bg, 0)
	t.Fatalf("work never drained: %+v, tasks %+v", left, tasks)
}

func checkCrashState(t *testing.T, st *sqlstore.DB, sn emu.Snapshot, grace bool, signedIn map[string]bool) {
	byEmail := map[string][]emu.Member{}
	for _, m := range sn.Members {
		byEmail[strings.ToLower(m.Email)] = append(byEmail[strings.ToLower(m.Email)], m)
	}
	support := emu.RoleID("Support admin")
	members := 1 // the team's own admin
	for i := range crashUsers {
		email := fmt.Sprintf("c%04d@corp.example", i)
		ms := byEmail[email]
		members += len(ms)
		leaver := i >= 1900 && i < 1950
		if leaver && len(ms) == 0 {
			continue // deactivated before it was ever provisioned: no account is right
		}
		if len(ms) != 1 {
			t.Fatalf("%s: %d members, want exactly 1", email, len(ms))
		}
		m := ms[0]
		wantLast, wantRole, wantStatus := fmt.Sprint(i), "", "invited"
		switch {
		case i >= 100 && i < 200:
			wantLast = "Moved"
		case i >= 400 && i < 800:
			wantLast = "Later"
		}
		if i < 40 {
			wantRole = support
		}
		if leaver {
			// An invitation is withdrawn at once, grace or not.
			wantStatus = "removed"
			if grace && signedIn[email] {
				wantStatus = "suspended"
			}
		}
		if m.Status != wantStatus {
			t.Fatalf("%s: status %s, want %s", email, m.Status, wantStatus)
		}
		if wipes := m.DevicesWiped; signedIn[email] && (grace && (wipes != 0 || len(m.Files) != 1) || !grace && wipes != 1) {
			t.Fatalf("%s: %+v; with grace=%v", email, m, grace)
		}
		if wantStatus == "invited" && (m.Surname != wantLast || m.RoleID != wantRole || !strings.HasPrefix(m.ExternalID, "roster:")) {
			t.Fatalf("%s: %+v, want surname %s role %q", email, m, wantLast, wantRole)
		}
	}
	if len(sn.Members) != members {
		t.Fatalf("team has %d members, %d of them not Roster's", len(sn.Members), len(sn.Members)-members)
	}
	if tasks, _ := st.ListTasks(bg, 0); len(tasks) != 0 {
		t.Fatalf("tasks left: %+v", tasks)
	}
	if grace {
		checkGraceRecords(t, st, signedIn)
	}
	// Lost answers after commit were resolved by linking, never by a second
	// account (the seeded leavers are linked too: they do not count).
	links, _ := st.ListLog(bg, audit.Filter{Action: "account.link", Limit: 1000})
	lost := 0
	for _, l := range links {
		if !signedIn[l.Target+"@corp.example"] {
			lost++
		}
	}
	if lost == 0 {
		t.Fatal("no create was ever resolved by linking: lost answers were not exercised")
	}
	t.Logf("%d creates resolved by linking after a lost answer or a kill", lost)
}

// checkGraceRecords checks that each suspended leaver waits for its removal.
func checkGraceRecords(t *testing.T, st *sqlstore.DB, signedIn map[string]bool) {
	obs, err := st.ListOffboardings(bg, 0)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[int64]store.Offboarding{}
	for _, ob := range obs {
		byUser[ob.UserID] = ob
	}
	for email := range signedIn {
		u, err := st.GetUser(bg, strings.TrimSuffix(email, "@corp.example"))
		if err != nil {
			t.Fatal(err)
		}
		if ob, ok := byUser[u.ID]; !ok || ob.Phase != store.PhaseGrace || ob.RemoveDue.Before(time.Now().Add(6*24*time.Hour)) {
			t.Fatalf("%s: off-boarding %+v (found %v), want its removal due in 7 days", email, ob, ok)
		}
	}
	t.Logf("%d leavers suspended, their removal scheduled", len(signedIn))
}
