package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// The sign-in measurements of issue 14 (items 1 and 2), for the record, not
// as a test: they report figures and assert nothing. Loopback only; each
// stops by itself within seconds. Run with
//
//	go test ./internal/web -run '^$' -bench 'Signin(Flood|GuessRace)' -benchtime 1x
//
// Sources are told apart by binding each client to its own 127.0.x.y address.

// BenchmarkSigninFlood measures the process's memory and the API's
// throughput while 100 connections send bogus sign-ins as fast as answered,
// first all from one address, then each from its own. For comparison,
// control-page does the same with GET /signin, which checks no password.
func BenchmarkSigninFlood(b *testing.B) {
	for _, sc := range []struct {
		name     string
		sources  int
		pageOnly bool
	}{{"one-address", 1, false}, {"100-addresses", 100, false}, {"control-page", 1, true}} {
		b.Run(sc.name, func(b *testing.B) {
			for b.Loop() {
				floodOnce(b, sc.sources, sc.pageOnly)
			}
		})
	}
}

const floodConns = 100

func floodOnce(b *testing.B, sources int, pageOnly bool) {
	e := newEnv(b, storetest.OpenSQLite)
	tok := apiToken(b, e)
	runtime.GC()
	debug.FreeOSMemory()
	baseRSS := rssMiB()
	before := apiRate(b, e, tok, 2*time.Second)

	ctx, stop := context.WithCancel(context.Background())
	var answers sync.Map // status -> *atomic.Int64
	var wg sync.WaitGroup
	for i := range floodConns {
		wg.Go(func() { floodWorker(ctx, e, fmt.Sprintf("127.0.1.%d", i%sources+1), i, pageOnly, &answers) })
	}
	peak := atomic.Int64{}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for ctx.Err() == nil {
			if v := rssMiB(); v > peak.Load() {
				peak.Store(v)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(time.Second) // let the flood build up
	during := apiRate(b, e, tok, 4*time.Second)
	stop()
	wg.Wait()
	<-sampled

	b.ReportMetric(float64(baseRSS), "rss-before-MiB")
	b.ReportMetric(float64(peak.Load()), "rss-peak-MiB")
	b.ReportMetric(before, "api-req/s-before")
	b.ReportMetric(during, "api-req/s-during")
	answers.Range(func(k, v any) bool {
		b.ReportMetric(float64(v.(*atomic.Int64).Load()), fmt.Sprintf("signin-%d", k))
		return true
	})
}

// floodWorker fetches the sign-in form once, then posts made-up names (or,
// pageOnly, gets the form again) from one connection bound to source until
// ctx ends, counting the answers.
func floodWorker(ctx context.Context, e *env, source string, i int, pageOnly bool, answers *sync.Map) {
	hc := sourceClient(source)
	defer hc.CloseIdleConnections()
	csrf, err := formToken(ctx, hc, e.srv.URL)
	if err != nil {
		return
	}
	for n := 0; ctx.Err() == nil; n++ {
		var st int
		if pageOnly {
			_, err = formToken(ctx, hc, e.srv.URL)
			st = http.StatusOK
		} else {
			form := url.Values{"csrf": {csrf}, "name": {fmt.Sprintf("ghost-%d-%d", i, n)}, "password": {"not the password"}}
			st, _, err = postForm(ctx, hc, e.srv.URL+"/signin", form)
		}
		if err != nil {
			continue
		}
		v, _ := answers.LoadOrStore(st, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
}

// BenchmarkSigninGuessRace sends 60 wrong passwords for the admin at once
// from one address, then reports how many were checked (answered "wrong
// password" rather than refused unchecked) and how long the rightful admin,
// from another address, must wait before signing in.
func BenchmarkSigninGuessRace(b *testing.B) {
	for b.Loop() {
		e := newEnv(b, storetest.OpenSQLite)
		ctx := context.Background()
		var checked atomic.Int64
		var ready, wg sync.WaitGroup
		start := make(chan struct{})
		for range 60 {
			ready.Add(1)
			wg.Go(func() {
				// Each guess on its own warm connection, all sent at once.
				attacker := sourceClient("127.0.2.1")
				csrf, err := formToken(ctx, attacker, e.srv.URL)
				ready.Done()
				<-start
				if err != nil {
					return
				}
				form := url.Values{"csrf": {csrf}, "name": {adminName}, "password": {"a wrong guess"}}
				if _, body, err := postForm(ctx, attacker, e.srv.URL+"/signin", form); err == nil && strings.Contains(body, badSignin) {
					checked.Add(1)
				}
			})
		}
		ready.Wait()
		close(start)
		wg.Wait()
		b.ReportMetric(float64(checked.Load()), "checked-of-60")
		b.ReportMetric(ownerWait(b, e).Seconds(), "owner-wait-s")
	}
}

// ownerWait is how long the admin, from a fresh browser on another address,
// is told to wait: 0 if the sign-in succeeds at once.
func ownerWait(b *testing.B, e *env) time.Duration {
	ctx := context.Background()
	owner := sourceClient("127.0.3.1")
	csrf, err := formToken(ctx, owner, e.srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/signin",
		strings.NewReader(url.Values{"csrf": {csrf}, "name": {adminName}, "password": {adminPass}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := owner.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusSeeOther {
		return 0
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		return time.Duration(s) * time.Second
	}
	if bytes.Contains(body, []byte("15 minutes")) { // before issue 14: a fixed lockout
		return 15 * time.Minute
	}
	b.Fatalf("owner's sign-in: %d", res.StatusCode)
	return 0
}

func apiToken(b *testing.B, e *env) string {
	tok, hash, err := credential.NewToken()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.st.CreateToken(bg, actor, "bench", hash); err != nil {
		b.Fatal(err)
	}
	return tok
}

// apiRate is the rate of GET /api/v1/users answered by 4 clients over d.
func apiRate(b *testing.B, e *env, tok string, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			hc := sourceClient(fmt.Sprintf("127.0.4.%d", i+1))
			defer hc.CloseIdleConnections()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/users", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := hc.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					n.Add(1)
				}
			}
		})
	}
	start := time.Now()
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// sourceClient is a client whose connections come from source, a loopback address.
func sourceClient(source string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func formToken(ctx context.Context, hc *http.Client, base string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/signin", nil)
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("no CSRF token on the sign-in page (%d)", res.StatusCode)
	}
	return string(m[1]), nil
}

func postForm(ctx context.Context, hc *http.Client, u string, form url.Values) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), nil
}

// rssMiB is this process's resident memory.
func rssMiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
			return kb >> 10
		}
	}
	return 0
}
