package fleettest_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// On PostgreSQL, a change another process of the fleet queues (an API
// process taking a SCIM request) reaches Dropbox without waiting for the
// worker's idle tick: the worker listens for the notice (LISTEN/NOTIFY).
func TestAnotherProcessWakesTheWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := storetest.PostgresDSN(t)
	workerStore, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer workerStore.Close()
	setup := fleettest.Setup{Apps: 1, Users: 5, Budget: 500}
	s := fleettest.StartTest(t, workerStore, setup, emu.Faults{})
	if err := fleettest.Enable(ctx, workerStore, setup.Apps); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// An idle tick far longer than the test: only a wake brings the worker in time.
	w := engine.NewWorker(workerStore, fleettest.Connect, log, engine.WorkerConfig{LaneTTL: 15 * time.Second, Engine: engine.Config{Idle: time.Hour}})
	go postgres.ListenWork(ctx, log, dsn, 50*time.Millisecond, w.Wake)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	team := s.Team(fleettest.AppName(0))
	givenName := func() string {
		if m := team.Snapshot().MemberByEmail(fleettest.Email(3)); m != nil {
			return m.GivenName
		}
		return ""
	}
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if givenName() == want {
				return
			}
		}
		t.Fatalf("member's given name %q, want %q", givenName(), want)
	}
	waitFor("U") // the first pass, at start

	// The API process: its own connection pool, as another process has.
	apiStore, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer apiStore.Close()
	if _, err := apiStore.UpdateUser(ctx, "source:okta", "u000003", "user.update", func(u *directory.User) error { u.FirstName = "Renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := apiStore.NotifyWork(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor("Renamed")
}
