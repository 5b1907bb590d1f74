package fleettest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// An auto rate is one per app across the fleet: the worker that takes an
// app's lane starts from the rate the last holder saved with it (not from
// the slow start), saves its own, and any process shows it through the API.
func TestPaceSharedThroughTheLane(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { paceThroughLane(t, b.Open(t)) })
	}
}

func paceThroughLane(t *testing.T, st *sqlstore.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setup := fleettest.Setup{Apps: 1, Users: 10} // Budget 0: auto
	fleettest.StartTest(t, st, setup, emu.Faults{})
	a := getApp(t, st, fleettest.AppName(0))
	if !a.Settings.Budget.Auto() {
		t.Fatalf("budget %v, want auto by default", a.Settings.Budget)
	}
	// A worker of another process found 123 calls a second, then left.
	last429 := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	if ok, err := st.AcquireLane(ctx, a.ID, "old-worker", time.Minute); !ok || err != nil {
		t.Fatalf("take the lane: %v %v", ok, err)
	}
	if err := st.SetPace(ctx, a.ID, "old-worker", store.Pace{Auto: true, Rate: 123, Reason: engine.PaceBack429, Since: last429, Last429: last429, At: last429}); err != nil {
		t.Fatal(err)
	}
	if err := st.ReleaseLane(ctx, a.ID, "old-worker", 0); err != nil {
		t.Fatal(err)
	}
	if err := fleettest.Enable(ctx, st, setup.Apps); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := engine.NewWorker(st, fleettest.Connect, log, engine.WorkerConfig{LaneTTL: 3 * time.Second, Engine: engine.Config{Idle: 20 * time.Millisecond}})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var live store.Pace
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && live.Rate == 0; time.Sleep(20 * time.Millisecond) {
		live = w.Paces()[a.Name]
	}
	// Ten users are no work to speak of: the rate stays where it resumed.
	if !live.Auto || live.Rate != 123 || !live.Last429.Equal(last429) {
		t.Fatalf("live pace of the new holder %+v, want the saved 123 calls/s and its last 429", live)
	}
	// The new holder saves its pace; the API shows it.
	var shown struct {
		Pacing *store.Pace `json:"pacing"`
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		getJSON(t, st, "/api/v1/apps/"+a.Name, &shown)
		if shown.Pacing != nil && shown.Pacing.At.After(last429) {
			break
		}
	}
	if p := shown.Pacing; p == nil || !p.Auto || p.Rate != 123 || !p.At.After(last429) {
		t.Fatalf("the API shows pacing %+v, want the new holder's 123 calls/s", p)
	}
}

// getJSON reads an API route as an admin into v.
func getJSON(t *testing.T, st *sqlstore.DB, path string, v any) {
	t.Helper()
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(st, box, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{}).Handler())
	defer srv.Close()
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
