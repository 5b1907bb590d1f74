package fleettest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// "Sync now" (API, web UI) runs inside the fleet's lanes: through the
// worker that holds the app's lane, with its call budget, and never beside
// a worker of another process.
func TestSyncNowStaysInTheLane(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { syncNowInLane(t, b.Open(t)) })
	}
}

func syncNowInLane(t *testing.T, st *sqlstore.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setup := fleettest.Setup{Apps: 2, Users: 40, Budget: 500}
	s := fleettest.StartTest(t, st, setup, emu.Faults{})
	if err := fleettest.Enable(ctx, st, setup.Apps); err != nil {
		t.Fatal(err)
	}
	mine, theirs := getApp(t, st, fleettest.AppName(0)), getApp(t, st, fleettest.AppName(1))
	if ok, err := st.AcquireLane(ctx, theirs.ID, "other-worker", time.Minute); !ok || err != nil {
		t.Fatalf("take the lane: %v %v", ok, err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := engine.NewWorker(st, fleettest.Connect, log, engine.WorkerConfig{LaneTTL: 15 * time.Second, Engine: engine.Config{Idle: 20 * time.Millisecond}})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The worker takes its own app's lane; a sync now there goes through it.
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err = w.Sync(ctx, mine, engine.SyncOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("sync now in the worker's own lane: %v", err)
	}

	// The other app's lane is another worker's: neither this worker nor an
	// API-only process calls its team.
	apiOnly := engine.LaneRunner{Engine: engine.New(st, fleettest.Connect, log, engine.Config{}), Fleet: st}
	for name, run := range map[string]engine.Runner{"worker": w, "api process": apiOnly} {
		_, err := run.Sync(ctx, theirs, engine.SyncOptions{})
		var le *engine.LaneElsewhereError
		if !errors.As(err, &le) || le.Owner != "other-worker" || !strings.Contains(err.Error(), "other-worker") {
			t.Fatalf("%s: sync now in another worker's lane: %v", name, err)
		}
		if _, err := run.Reconcile(ctx, theirs, engine.SyncOptions{}); !errors.As(err, &le) {
			t.Fatalf("%s: full sync now in another worker's lane: %v", name, err)
		}
	}
	if calls := s.Team(theirs.Name).Stats().Calls; calls != 0 {
		t.Fatalf("%d calls to a team whose lane another worker holds", calls)
	}
	// The API hands the request over: 202, naming the worker; a full sync
	// is recorded for that worker's next pass.
	if due, err := apiOnly.FullSyncDue(ctx, theirs); due || err != nil {
		t.Fatalf("full sync due before any request: %v %v", due, err)
	}
	for _, query := range []string{"", "?full=true"} {
		status, body := postSync(t, st, apiOnly, theirs.Name+"/sync"+query)
		if status != http.StatusAccepted || !strings.Contains(body, `"worker":"other-worker"`) {
			t.Fatalf("API sync now%s: %d %s", query, status, body)
		}
	}
	if due, err := apiOnly.FullSyncDue(ctx, theirs); !due || err != nil {
		t.Fatalf("full sync requested through the API is not due: %v %v", due, err)
	}
	if calls := s.Team(theirs.Name).Stats().Calls; calls != 0 {
		t.Fatalf("%d calls to a team whose lane another worker holds", calls)
	}

	// Apps no worker may take say why instead of naming no worker.
	off := mine
	off.Settings.Provisioning = false
	unconnected := mine
	unconnected.HasToken = false
	for want, a := range map[string]app.Instance{"provisioning is not enabled": off, "not connected to Dropbox": unconnected} {
		other := a
		other.ID = theirs.ID + 1000 // a lane nobody holds
		if _, err := w.Sync(ctx, other, engine.SyncOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("sync now of an app no worker may take: %v, want %q", err, want)
		}
	}

	// Released, and resting so that no worker takes it: the API process
	// runs the app's queue itself.
	if err := st.ReleaseLane(ctx, theirs.ID, "other-worker", time.Minute); err != nil {
		t.Fatal(err)
	}
	st1, err := apiOnly.Sync(ctx, theirs, engine.SyncOptions{})
	if err != nil || st1.Ops["account.create"] != setup.Users/setup.Apps {
		t.Fatalf("sync now of a free lane: %+v, %v", st1, err)
	}
	// A full reconciliation answers the request.
	if _, err := apiOnly.Reconcile(ctx, theirs, engine.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if due, err := apiOnly.FullSyncDue(ctx, theirs); due || err != nil {
		t.Fatalf("full sync still due after one ran: %v %v", due, err)
	}
}

func getApp(t *testing.T, st *sqlstore.DB, name string) app.Instance {
	t.Helper()
	a, err := st.GetApp(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// postSync asks an API server running syncs with run to sync an app now
// (path: "NAME/sync?…").
func postSync(t *testing.T, st *sqlstore.DB, run engine.Runner, path string) (int, string) {
	t.Helper()
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(st, box, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{Runner: run}).Handler())
	defer srv.Close()
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/apps/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
