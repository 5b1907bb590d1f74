package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// testLimits are short, so that a test sees them act; waits for them are
// bounded by closeBound, far longer.
var testLimits = httplimit.Limits{
	ReadHeader: 500 * time.Millisecond,
	Read:       time.Second,
	Write:      2 * time.Second,
	Idle:       time.Second,
	MaxBody:    64 << 20,
}

const closeBound = 15 * time.Second

// limitedServer is `roster serve` (API role) with testLimits.
type limitedServer struct {
	addr, token string
	st          *sqlstore.DB
}

// startLimited starts it; each of opts may change its fleet role first.
func startLimited(t *testing.T, opts ...func(*fleetRole)) *limitedServer {
	t.Helper()
	t.Setenv(secret.EnvKey, "")
	ctx := context.Background()
	st, box, err := (&dbFlags{database: filepath.Join(t.TempDir(), "roster.db")}).open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(ctx, "test", "tester", hash); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := newServices(st, box, log, engine.Config{})
	svc.limits = testLimits
	fr, err := newFleetRole(roleAPI, st, box, log, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(fr)
	}
	svc.runner = fr.runner(svc.engine)
	ctx, cancel := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(ctx, log, svc, "127.0.0.1:0", ready, fr) }()
	s := &limitedServer{addr: <-ready, token: tok, st: st}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return s
}

func (s *limitedServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// trickle writes parts with a pause before each until one fails (the
// server closed) or all are written.
func trickle(c net.Conn, pause time.Duration, parts ...string) {
	for _, p := range parts {
		time.Sleep(pause)
		if _, err := io.WriteString(c, p); err != nil {
			return
		}
	}
}

// closedBy reports whether the server closes the connection before the
// bound; whatever it answers first is read and dropped.
func closedBy(r io.Reader, c net.Conn, bound time.Time) bool {
	_ = c.SetReadDeadline(bound)
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

// TestSlowClientsAreCut: a client that sends its headers or body slowly, or
// keeps an idle connection, loses the connection; an authenticated request
// that takes longer than those limits (a slow upload) is not cut.
func TestSlowClientsAreCut(t *testing.T) {
	s := startLimited(t)
	slowHeaders := append([]string{"GET /healthz HTTP/1.1\r\nHost: roster\r\n"}, strings.SplitAfter(strings.Repeat("X-Slow: 1\r\n", 100), "\r\n")...)
	slowBody := append([]string{"POST /signin HTTP/1.1\r\nHost: roster\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"},
		strings.Split(strings.Repeat("a", 100), "")...)
	for name, parts := range map[string][]string{"slow headers": slowHeaders, "slow body": slowBody} {
		t.Run(name, func(t *testing.T) {
			c := s.dial(t)
			go trickle(c, 100*time.Millisecond, parts...)
			if !closedBy(c, c, time.Now().Add(closeBound)) {
				t.Fatalf("a client sending %s still holds its connection after %v", name, closeBound)
			}
		})
	}
	t.Run("idle", func(t *testing.T) {
		c := s.dial(t)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: roster\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if !closedBy(br, c, time.Now().Add(closeBound)) {
			t.Fatalf("an idle kept-alive connection is still held after %v", closeBound)
		}
	})
	t.Run("trusted API upload", func(t *testing.T) { slowTrustedUpload(t, s) })
	t.Run("trusted web form", func(t *testing.T) { slowTrustedForm(t, s) })
}

// slowTrustedUpload sends a CSV to the API with a token, over longer than
// the read and write limits; the import succeeds.
func slowTrustedUpload(t *testing.T, s *limitedServer) {
	csv := "username,email,first_name,last_name\n"
	for i := range 6 {
		csv += fmt.Sprintf("slow%d,slow%d@corp.example,Slow,Upload\n", i, i)
	}
	parts := strings.SplitAfter(csv, "\n")
	head := fmt.Sprintf("POST /api/v1/users/import HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n", s.token, len(csv))
	res := slowRequest(t, s, head, parts)
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("slow authenticated upload: %d %s", res.StatusCode, b)
	}
}

// slowTrustedForm signs in to the web UI and sends a form slowly; it is
// taken.
func slowTrustedForm(t *testing.T, s *limitedServer) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + s.addr
	csrf := pageCSRF(t, hc, base+"/signin")
	res, err := hc.PostForm(base+"/signin", url.Values{"csrf": {csrf}, "token": {s.token}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
	form := url.Values{"csrf": {pageCSRF(t, hc, base+"/groups")}, "name": {"slow-group"}}.Encode()
	u, _ := url.Parse(base)
	var cookies []string
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	head := fmt.Sprintf("POST /groups HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
		s.addr, strings.Join(cookies, "; "), len(form))
	res = slowRequest(t, s, head, strings.SplitAfter(form, "&"))
	if res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("slow signed-in form: %d %.300s", res.StatusCode, b)
	}
	if _, err := s.st.GetGroup(context.Background(), "slow-group"); err != nil {
		t.Fatalf("the slow form's group: %v", err)
	}
}

// slowRequest sends head, then body parts spread over more than the read
// and write limits, and returns the answer.
func slowRequest(t *testing.T, s *limitedServer, head string, body []string) *http.Response {
	t.Helper()
	c := s.dial(t)
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	pause := (testLimits.Read + testLimits.Write) / time.Duration(len(body))
	trickle(c, pause, body...)
	_ = c.SetReadDeadline(time.Now().Add(closeBound))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a slow authenticated request: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func pageCSRF(t *testing.T, hc *http.Client, page string) string {
	t.Helper()
	res, err := hc.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := csrfInput.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on %s (%d)", page, res.StatusCode)
	}
	return string(m[1])
}

// TestOversizedBodies: a body over a route's limit gets 413, whether the
// client says its size up front or not.
func TestOversizedBodies(t *testing.T) {
	s := startLimited(t)
	big := strings.Repeat("a", 2<<20)
	for _, tc := range []struct {
		name, method, path, ctype string
		auth                      bool
		body                      string
		length                    int64 // declared, with no body sent; 0: len(body)
	}{
		{name: "API JSON over 1 MiB", method: "POST", path: "/api/v1/users", ctype: "application/json", auth: true, body: `{"username":"` + big + `"}`},
		{name: "API CSV over 64 MiB", method: "POST", path: "/api/v1/users/import", ctype: "text/csv", auth: true, length: 64<<20 + 1},
		{name: "sign-in form over 1 MiB", method: "POST", path: "/signin", ctype: "application/x-www-form-urlencoded", body: "name=" + big},
		{name: "probe with a body over 64 MiB", method: "GET", path: "/healthz", ctype: "text/plain", length: 64<<20 + 1},
		{name: "page with a body over 64 MiB", method: "GET", path: "/signin", ctype: "text/plain", length: 64<<20 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			length := tc.length
			if length == 0 {
				length = int64(len(tc.body))
			}
			head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: roster\r\nContent-Type: %s\r\nContent-Length: %d\r\n", tc.method, tc.path, tc.ctype, length)
			if tc.auth {
				head += "Authorization: Bearer " + s.token + "\r\n"
			}
			c := s.dial(t)
			go func() { _, _ = io.WriteString(c, head+"\r\n"+tc.body) }()
			_ = c.SetReadDeadline(time.Now().Add(closeBound))
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d, want 413: %.300s", res.StatusCode, b)
			}
		})
	}
}
