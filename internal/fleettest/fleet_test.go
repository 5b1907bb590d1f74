package fleettest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestMain lets the test binary act as a worker process of the fleet.
func TestMain(m *testing.M) {
	if dsn := os.Getenv("ROSTER_FLEET_CHILD_DSN"); dsn != "" {
		os.Exit(child(dsn, os.Getenv("ROSTER_FLEET_CHILD_OWNER"), os.Getenv("ROSTER_FLEET_CHILD_DIR")))
	}
	os.Exit(m.Run())
}

// workerConfig keeps handovers short for a test: a dead worker's apps wait
// LaneTTL, not the production 15 s.
func workerConfig(owner string, obs engine.Observer) engine.WorkerConfig {
	return engine.WorkerConfig{
		Engine: engine.Config{Owner: owner, Batch: 100, Lease: time.Minute, MaxAttempts: 1000,
			BaseBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Idle: 100 * time.Millisecond},
		LaneTTL: 3 * time.Second, Drain: 10 * time.Second, Observer: obs,
	}
}

// child runs one worker until SIGTERM (a graceful stop) or SIGKILL.
func child(dsn, owner, dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	st, err := fleettest.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("ROSTER_FLEET_CHILD_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	obs := &fleettest.Counter{Path: filepath.Join(dir, owner)}
	if err := engine.NewWorker(st, fleettest.Connect, log, workerConfig(owner, obs)).Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

func startChild(t testing.TB, dsn, owner, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ROSTER_FLEET_CHILD_DSN="+dsn, "ROSTER_FLEET_CHILD_OWNER="+owner, "ROSTER_FLEET_CHILD_DIR="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

var bg = context.Background()

const (
	fleetApps   = 10
	fleetUsers  = 20_000
	fleetBudget = 25 // calls per second per app
)

// TestFleet runs three worker processes on one PostgreSQL database pushing
// 20,000 users to ten teams, SIGKILLs one half-way and SIGTERMs another, and
// checks the teams end exactly as desired, every process worked, the
// SIGTERMed one left promptly and handed its work back, and no team ever got
// more calls in a second than its budget.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet test is long")
	}
	dsn := storetest.PostgresDSN(t)
	setup := fleettest.Setup{Apps: fleetApps, Users: fleetUsers, Budget: fleetBudget}
	s, base := emu.StartTest(t, emu.Options{Teams: fleettest.Teams(fleetApps)})
	st, err := fleettest.Open(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := fleettest.Seed(bg, st, base, setup); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	owners := []string{"killed", "stopped", "survivor"}
	procs := map[string]*exec.Cmd{}
	for _, o := range owners {
		procs[o] = startChild(t, dsn, o, dir)
	}
	time.Sleep(time.Second) // all three join the fleet before there is work
	if err := fleettest.Enable(bg, st, fleetApps); err != nil {
		t.Fatal(err)
	}
	waitRemaining(t, st, fleetUsers/2)
	_ = procs["killed"].Process.Signal(syscall.SIGKILL)
	_ = procs["killed"].Wait()
	waitRemaining(t, st, fleetUsers/3)
	stopGracefully(t, st, procs["stopped"], "stopped")
	waitRemaining(t, st, 0)
	if err := fleettest.Check(s, setup); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := st.ListTasks(bg, 0); len(tasks) != 0 {
		t.Fatalf("tasks left: %+v", tasks)
	}
	checkShares(t, dir, owners)
	checkBudget(t, s)
}

// waitRemaining waits until at most n items are left in the queue.
func waitRemaining(t *testing.T, st *sqlstore.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		left, err := fleettest.Remaining(bg, st)
		if err == nil && left <= n {
			t.Logf("%d items left", left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	left, _ := fleettest.Remaining(bg, st)
	lanes, _ := st.Lanes(bg)
	t.Fatalf("%d items left, waiting for %d; lanes %+v", left, n, lanes)
}

// stopGracefully SIGTERMs a worker and checks it exits in its bound, holding
// no lane and no work item afterwards.
func stopGracefully(t *testing.T, st *sqlstore.DB, cmd *exec.Cmd, owner string) {
	t.Helper()
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	bound := workerConfig(owner, nil).Drain + 10*time.Second
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("SIGTERMed worker exited with %v", err)
		}
	case <-time.After(bound):
		t.Fatalf("SIGTERMed worker still running after %s", bound)
	}
	t.Logf("SIGTERMed worker exited after %s", time.Since(start).Round(time.Millisecond))
	lanes, _ := st.Lanes(bg)
	for _, l := range lanes {
		if l.Owner == owner {
			t.Fatalf("SIGTERMed worker still holds lane %+v", l)
		}
	}
	items, _ := st.PendingWork(bg, 0, 100_000)
	for _, w := range items {
		if w.LeaseOwner == owner {
			t.Fatalf("SIGTERMed worker did not hand back %+v", w)
		}
	}
}

func checkShares(t *testing.T, dir string, owners []string) {
	t.Helper()
	for _, o := range owners {
		n := fleettest.Done(filepath.Join(dir, o))
		t.Logf("%s finished %d items", o, n)
		if n == 0 {
			t.Fatalf("%s did none of the work", o)
		}
	}
}

// checkBudget reads each team's busiest second from the emulator's counters.
func checkBudget(t *testing.T, s *emu.Server) {
	t.Helper()
	var rates []int
	for i := range fleetApps {
		stats := s.Team(fleettest.AppName(i)).Stats()
		if stats.Calls == 0 {
			t.Fatalf("team %d got no calls", i)
		}
		if stats.MaxRate > fleetBudget {
			t.Fatalf("team %s got %d calls in one second, budget %d", fleettest.AppName(i), stats.MaxRate, fleetBudget)
		}
		rates = append(rates, stats.MaxRate)
	}
	t.Logf("busiest second per team: %v calls (budget %d)", rates, fleetBudget)
}
