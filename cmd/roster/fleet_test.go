package main

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

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestFleetRoles(t *testing.T) {
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "api") })
	for _, tc := range []struct {
		role                  string
		wantErr               bool
		api, health, ready    int // status before the workers run
		readyRunning, stopped int // /readyz while the workers run, and after they stop
	}{
		{role: "bogus", wantErr: true},
		{role: roleAPI, api: 200, health: 200, ready: 200, readyRunning: 200, stopped: 200},
		{role: roleWorker, api: 404, health: 200, ready: 503, readyRunning: 200, stopped: 503},
		{role: roleAll, api: 200, health: 200, ready: 503, readyRunning: 200, stopped: 503},
	} {
		t.Run(tc.role, func(t *testing.T) {
			st := storetest.OpenSQLite(t)
			r, err := newFleetRole(tc.role, st, box, log, engine.Config{Idle: 10 * time.Millisecond})
			var ce *exitError
			if tc.wantErr {
				if !errors.As(err, &ce) || ce.code != exitUsage {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := r.handler(api)
			want(t, h, "/api/v1/users", tc.api)
			want(t, h, "/healthz", tc.health)
			want(t, h, "/readyz", tc.ready)
			want(t, h, "/metrics", http.StatusUnauthorized)
			if body := getAs(h, "/metrics", newToken(t, st)); body.Code != 200 || !strings.Contains(body.Body.String(), "roster_queue_stats_up 1") {
				t.Fatalf("/metrics = %d: %.300s", body.Code, body.Body)
			}
			ctx, cancel := context.WithCancel(context.Background())
			wait := r.startWorkers(ctx)
			deadline := time.Now().Add(5 * time.Second)
			for get(h, "/readyz").Code != tc.readyRunning && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			want(t, h, "/readyz", tc.readyRunning)
			cancel()
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			want(t, h, "/readyz", tc.stopped)
		})
	}
}

func get(h http.Handler, path string) *httptest.ResponseRecorder { return getAs(h, path, "") }

// getAs sends an admin API token, unless empty.
func getAs(h http.Handler, path, token string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	h.ServeHTTP(rec, req)
	return rec
}

func newToken(t *testing.T, st *sqlstore.DB) string {
	t.Helper()
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "tester-"+tok[len(tok)-6:], hash); err != nil {
		t.Fatal(err)
	}
	return tok
}

func want(t *testing.T, h http.Handler, path string, code int) {
	t.Helper()
	if rec := get(h, path); rec.Code != code {
		t.Fatalf("GET %s = %d, want %d: %s", path, rec.Code, code, rec.Body)
	}
}
