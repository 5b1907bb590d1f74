package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestProbesSayLittle: during a database outage /healthz and /readyz tell
// anyone only that Roster is unavailable; with an admin API token they say
// why, database address included, although the token cannot be checked
// against the database then.
func TestProbesSayLittle(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (st *sqlstore.DB, outage func(), secret string)
	}{
		{"sqlite", func(t *testing.T) (*sqlstore.DB, func(), string) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
			if err != nil {
				t.Fatal(err)
			}
			var once sync.Once
			outage := func() { once.Do(func() { st.Close() }) }
			t.Cleanup(outage)
			return st, outage, "database is closed"
		}},
		{"postgres", openBehindProxy},
	} {
		t.Run(b.name, func(t *testing.T) {
			st, outage, detail := b.open(t)
			box, _ := secret.New(make([]byte, 32))
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			r, err := newFleetRole(roleAPI, st, box, log, engine.Config{})
			if err != nil {
				t.Fatal(err)
			}
			h := r.handler(nil)
			tok := newToken(t, st)
			for _, p := range []string{"/healthz", "/readyz"} {
				wantBody(t, getAs(h, p, ""), http.StatusOK, `{"status":"ok"}`)
				if rec := getAs(h, p, tok); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"database":"ok"`) {
					t.Fatalf("GET %s with a token: %d %s", p, rec.Code, rec.Body)
				}
			}
			outage()
			for _, p := range []string{"/healthz", "/readyz"} {
				// The pool may first report a dropped connection; the
				// address shows once it dials again.
				deadline := time.Now().Add(15 * time.Second)
				rec := getAs(h, p, tok)
				for !strings.Contains(rec.Body.String(), detail) && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
					rec = getAs(h, p, tok)
				}
				if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), detail) {
					t.Fatalf("GET %s with a token in an outage: %d %s, want the cause (%s)", p, rec.Code, rec.Body, detail)
				}
				wantBody(t, getAs(h, p, ""), http.StatusServiceUnavailable, `{"status":"unavailable"}`)
				wantBody(t, getAs(h, p, "rst_not-a-token"), http.StatusServiceUnavailable, `{"status":"unavailable"}`)
			}
		})
	}
}

func wantBody(t *testing.T, rec *httptest.ResponseRecorder, code int, body string) {
	t.Helper()
	if rec.Code != code || strings.TrimSpace(rec.Body.String()) != body {
		t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, code, body)
	}
}

// openBehindProxy opens a PostgreSQL store through a TCP proxy whose
// closing is the outage; the detail is the proxy's address, which the
// database driver puts in its errors.
func openBehindProxy(t *testing.T) (*sqlstore.DB, func(), string) {
	dsn := storetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	st, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, port, _ := net.SplitHostPort(u.Host)
	return st, p.close, port
}

// proxy forwards connections to a database until closed, then refuses them.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestMetricsListen: /metrics needs a token on the main listener and is open
// on the --metrics-listen one, for Prometheus.
func TestMetricsListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := startLimited(t, func(fr *fleetRole) { fr.metricsLn = ln })
	for _, tc := range []struct {
		url, token string
		want       int
	}{
		{"http://" + s.addr + "/metrics", "", http.StatusUnauthorized},
		{"http://" + s.addr + "/metrics", "rst_not-a-token", http.StatusUnauthorized},
		{"http://" + s.addr + "/metrics", s.token, http.StatusOK},
		{"http://" + ln.Addr().String() + "/metrics", "", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || (tc.want == http.StatusOK) != strings.Contains(string(b), "roster_queue_stats_up") {
			t.Fatalf("GET %s (token %q): %d %.200s, want %d", tc.url, tc.token, res.StatusCode, b, tc.want)
		}
	}
}
