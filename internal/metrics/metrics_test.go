package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/metrics"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestScrape pushes users to two teams that answer some calls 429 and 5xx,
// with a worker observed by Metrics, then scrapes /metrics and checks each
// family against what happened.
func TestScrape(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { scrapeRun(t, b.Open(t)) })
	}
}

func scrapeRun(t *testing.T, st *sqlstore.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	setup := fleettest.Setup{Apps: 2, Users: 400, Budget: 500}
	s := fleettest.StartTest(t, st, setup,
		emu.Faults{Rate429: 0.15, Rate5xx: 0.15, Code5xx: 500, RetryAfter: 1, Seed: 7, Routes: []string{"members/add_v2"}})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(st, log)
	// A long lane lease: on a loaded CI machine a 2 s lease was once renewed
	// late, the worker stopped mid-call, and a 429 the emulator sent was
	// never received, so the counts below could not match.
	w := engine.NewWorker(st, fleettest.Connect, log, engine.WorkerConfig{Observer: m, LaneTTL: 15 * time.Second,
		Engine: engine.Config{Batch: 50, BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Idle: 20 * time.Millisecond, MaxAttempts: 100}})
	// Before any work the queue reads full and old enough to be seen.
	if err := fleettest.Enable(ctx, st, setup.Apps); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	before := scrape(t, m.Handler())
	for _, app := range []string{fleettest.AppName(0), fleettest.AppName(1)} {
		if v := value(before, "roster_queue_depth", "app", app); v != 200 {
			t.Fatalf("queue depth of %s before work = %v, want 200", app, v)
		}
		if v := value(before, "roster_queue_oldest_age_seconds", "app", app); v <= 0 || v > 60 {
			t.Fatalf("queue age of %s = %v, want a few seconds at most", app, v)
		}
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitDrained(t, st)
	if err := fleettest.Check(s, setup); err != nil {
		t.Fatal(err)
	}
	checkAfter(t, scrape(t, m.Handler()), s)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitDrained(t *testing.T, st *sqlstore.DB) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n, err := fleettest.Remaining(context.Background(), st); err == nil && n == 0 {
			return
		}
	}
	t.Fatal("work never drained")
}

func checkAfter(t *testing.T, fams map[string]*dto.MetricFamily, s *emu.Server) {
	t.Helper()
	var got429, got5xx float64
	var emu429, emu5xx int64
	for _, app := range []string{fleettest.AppName(0), fleettest.AppName(1)} {
		for _, tc := range []struct {
			family string
			labels []string
			want   func(float64) bool
		}{
			{"roster_queue_depth", []string{"app", app}, func(v float64) bool { return v == 0 }},
			{"roster_queue_oldest_age_seconds", []string{"app", app}, func(v float64) bool { return v == 0 }},
			{"roster_tasks_open", []string{"app", app}, func(v float64) bool { return v == 0 }},
			{"roster_operations_total", []string{"app", app, "op", "account.create", "outcome", "success"}, func(v float64) bool { return v == 200 }},
			{"roster_work_items_total", []string{"app", app, "result", "done"}, func(v float64) bool { return v >= 200 }},
			{"roster_remote_call_duration_seconds", []string{"app", app, "op", "add_members", "outcome", "ok"}, func(v float64) bool { return v >= 1 }},
			{"roster_app_call_rate", []string{"app", app, "mode", "fixed"}, func(v float64) bool { return v == 500 }},
			{"roster_app_call_rate_reason", []string{"app", app, "reason", "fixed"}, func(v float64) bool { return v > 1e9 }},
		} {
			if v := value(fams, tc.family, tc.labels...); !tc.want(v) {
				t.Errorf("%s%v = %v", tc.family, tc.labels, v)
			}
		}
		got429 += counted(fams, "roster_remote_rate_limited_total", "app", app)
		got5xx += counted(fams, "roster_remote_server_errors_total", "app", app)
		st := s.Team(app).Stats()
		emu429, emu5xx = emu429+st.Got429, emu5xx+st.Got5xx
	}
	// Every 429 reaches the pacer, and faults hit only add_v2, a write the
	// connector never resends after a 5xx: each 5xx ends a call. So Roster
	// counts exactly what the emulator sent.
	for _, c := range []struct {
		what string
		got  float64
		sent int64
	}{{"429s", got429, emu429}, {"5xx", got5xx, emu5xx}} {
		if c.sent == 0 || c.got != float64(c.sent) {
			t.Errorf("%s counted %v, emulator sent %d", c.what, c.got, c.sent)
		}
	}
	if v := value(fams, "roster_worker_lanes"); v != 2 {
		t.Errorf("lanes held = %v, want 2", v)
	}
	if v := value(fams, "roster_queue_stats_up"); v != 1 {
		t.Errorf("queue stats up = %v", v)
	}
}

// scrape fetches and parses the text format.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the sample of family whose labels include the given pairs:
// a counter's or gauge's value, a histogram's count; -1 if none.
func value(fams map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f, ok := fams[family]
	if !ok {
		return -1
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// counted is a counter's value, 0 for a series never incremented: a
// labelled series appears only once it has been. (Summing value()'s -1 for
// an app that met no fault made the 429 and 5xx totals look one short.)
func counted(fams map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	return max(0, value(fams, family, labels...))
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if have[pairs[i]] != pairs[i+1] {
			return false
		}
	}
	return true
}

// TestHealth: the probes answer with their status; a caller that may see
// details (an admin) also gets each check's result, and nobody else does.
func TestHealth(t *testing.T) {
	ok := func(context.Context) error { return nil }
	bad := func(context.Context) error { return errors.New("database unreachable at db.internal:5432") }
	for _, tc := range []struct {
		name   string
		checks []metrics.Check
		want   int
		status string
	}{
		{"all pass", []metrics.Check{{"database", ok}, {"workers", ok}}, http.StatusOK, "ok"},
		{"one fails", []metrics.Check{{"database", bad}, {"workers", ok}}, http.StatusServiceUnavailable, "unavailable"},
		{"none", nil, http.StatusOK, "ok"},
	} {
		for _, detail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/detail=%v", tc.name, detail), func(t *testing.T) {
				rec := httptest.NewRecorder()
				h := metrics.Health(func(*http.Request) bool { return detail }, tc.checks...)
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				if rec.Code != tc.want {
					t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
				}
				var body struct {
					Status string            `json:"status"`
					Checks map[string]string `json:"checks"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != tc.status {
					t.Fatalf("body %s (%v), want status %q", rec.Body, err, tc.status)
				}
				switch {
				case !detail && (body.Checks != nil || strings.Contains(rec.Body.String(), "database")):
					t.Fatalf("details shown to anyone: %s", rec.Body)
				case detail && len(body.Checks) != len(tc.checks):
					t.Fatalf("checks missing: %s", rec.Body)
				case detail && tc.want != http.StatusOK && !strings.Contains(rec.Body.String(), "db.internal:5432"):
					t.Fatalf("the failing check does not say why: %s", rec.Body)
				}
			})
		}
	}
}
