package dropbox

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Faults
		str  string // canonical String(); "" means spec itself
	}{
		{"", Faults{}, ""},
		{"latency=5ms,rate429=0.05,rate5xx=0.02,lost=0.01,writes_per_sec=100,seed=42",
			Faults{Latency: 5 * time.Millisecond, Rate429: 0.05, Rate5xx: 0.02, Lost: 0.01, WritesPerSec: 100, Seed: 42}, ""},
		{" jitter=20ms , plain429=1,retry_after=3,code5xx=503,write_burst=4,routes=team/members/add_v2|members/remove/,async_add=10,job_polls=2,job_fail=0.5",
			Faults{Jitter: 20 * time.Millisecond, Plain429: 1, RetryAfter: 3, Code5xx: 503, WriteBurst: 4,
				Routes: []string{"members/add_v2", "members/remove"}, AsyncAdd: 10, JobPolls: 2, JobFail: 0.5},
			"jitter=20ms,plain429=1,retry_after=3,code5xx=503,write_burst=4,routes=members/add_v2|members/remove,async_add=10,job_polls=2,job_fail=0.5"},
	} {
		f, err := ParseFaults(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		if f.String() != tc.want.String() || jsonOf(f) != jsonOf(tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.spec, f, tc.want)
		}
		want := tc.str
		if want == "" {
			want = tc.spec
		}
		if f.String() != want {
			t.Errorf("String() = %q, want %q", f.String(), want)
		}
		if back, err := ParseFaults(f.String()); err != nil || jsonOf(back) != jsonOf(f) {
			t.Errorf("round trip of %q: %+v, %v", f.String(), back, err)
		}
	}
	for _, bad := range []string{"latency", "latency=fast", "latency=-1s", "rate429=2", "rate5xx=-0.1", "code5xx=404",
		"writes_per_sec=x", "retry_after=1.5", "seed=-1", "colour=blue", "async_add=21"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Latency: 40 * time.Millisecond})
	start := time.Now()
	e.mustPost("get_info", "")
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered after %v", d)
	}
	e.srv.SetFaults(Faults{})
	start = time.Now()
	e.mustPost("get_info", "")
	if d := time.Since(start); d >= 40*time.Millisecond {
		t.Errorf("still slow without faults: %v", d)
	}
}

func TestFaultJitterIsRandomWithinBoundsAndRepeatable(t *testing.T) {
	draw := func() []time.Duration {
		fs := newFaultState(Faults{Latency: 5 * time.Millisecond, Jitter: 20 * time.Millisecond, Seed: 3})
		out := make([]time.Duration, 50)
		for i := range out {
			out[i] = fs.pause()
		}
		return out
	}
	a, b := draw(), draw()
	seen := map[time.Duration]bool{}
	for i, d := range a {
		if d < 5*time.Millisecond || d >= 25*time.Millisecond {
			t.Fatalf("pause %v outside [5ms, 25ms)", d)
		}
		if d != b[i] {
			t.Fatalf("same seed, pause %d differs: %v vs %v", i, d, b[i])
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct pauses in 50: not random", len(seen))
	}
	if d := newFaultState(Faults{Latency: 7 * time.Millisecond}).pause(); d != 7*time.Millisecond {
		t.Errorf("fixed latency %v", d)
	}
}

func TestFault429(t *testing.T) {
	e := newStdEnv(t)
	suspend := `{"user":` + sel("ann@acme.example") + `}`
	e.srv.SetFaults(Faults{Rate429: 1, RetryAfter: 3})
	r := e.post("members/suspend", suspend)
	if r.header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	e.expectResp(t, r, 429, `{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":3}}`)

	e.srv.SetFaults(Faults{Rate429: 1, Plain429: 1})
	r = e.post("members/suspend", suspend)
	if r.status != 429 || r.header.Get("Retry-After") != "1" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || r.body != "Too Many Requests" {
		t.Errorf("plain 429: %s %v", r, r.header)
	}
	if m := e.member("ann@acme.example"); m.Status != StatusActive {
		t.Error("a 429 made the change")
	}
	if st := e.team.Stats(); st.Got429 != 2 || st.Calls != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestFault5xx(t *testing.T) {
	e := newStdEnv(t)
	suspend := `{"user":` + sel("ann@acme.example") + `}`
	for _, code := range []int{500, 503} {
		e.srv.SetFaults(Faults{Rate5xx: 1, Code5xx: code, RetryAfter: 2})
		r := e.post("members/suspend", suspend)
		if r.status != code || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%d: %s", code, r)
		}
		if got, want := r.header.Get("Retry-After"), map[int]string{500: "", 503: "2"}[code]; got != want {
			t.Errorf("%d: Retry-After %q, want %q", code, got, want)
		}
	}
	e.srv.SetFaults(Faults{Rate5xx: 1, Seed: 7})
	seen := map[int]bool{}
	for range 20 {
		seen[e.post("get_info", "").status] = true
	}
	if !seen[500] || !seen[503] || len(seen) != 2 {
		t.Errorf("statuses %v, want 500 and 503", seen)
	}
	if m := e.member("ann@acme.example"); m.Status != StatusActive || e.team.Stats().Got5xx != 22 {
		t.Errorf("a 5xx made the change, or miscounted: %+v", e.team.Stats())
	}
}

func TestFaultLostAnswer(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{Lost: 1})
	// Reads are never lost: nothing to commit.
	e.mustPost("get_info", "")
	req, _ := http.NewRequest("POST", e.url+"/2/team/members/add_v2", strings.NewReader(`{"new_members":[{"member_email":"x@acme.example"}]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("got an answer: %d %s", res.StatusCode, b)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Logf("transport error: %v", err)
	}
	if _, ok := e.team.Member("x@acme.example"); !ok {
		t.Fatal("the change was not committed")
	}
	if st := e.team.Stats(); st.Lost != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultWriteBudget(t *testing.T) {
	e := newStdEnv(t)
	e.srv.SetFaults(Faults{WritesPerSec: 20, WriteBurst: 2})
	welcome := `{".tag":"email","email":"bob@acme.example"}`
	for i := range 2 {
		if r := e.post("members/send_welcome_email", welcome); r.status != 200 {
			t.Fatalf("write %d within the burst: %s", i, r)
		}
	}
	r := e.post("members/send_welcome_email", welcome)
	e.expectResp(t, r, 429, `{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":1}}`)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Reads are not writes.
	for range 5 {
		e.mustPost("get_info", "")
	}
	time.Sleep(60 * time.Millisecond) // one token back at 20/s
	if r := e.post("members/send_welcome_email", welcome); r.status != 200 {
		t.Fatalf("after the refill: %s", r)
	}
	if n := len(e.team.WelcomeEmails()); n != 3 {
		t.Errorf("%d welcome emails, want 3: the refused write must not happen", n)
	}
	st := e.team.Stats()
	if st.Got429 != 1 || st.Writes != 4 || st.MaxWriteRate != 4 || st.MaxRate != 9 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultRoutesFilterAndSeed(t *testing.T) {
	e := newStdEnv(t)
	e.srv.SetFaults(Faults{Rate5xx: 1, Routes: []string{"members/suspend"}})
	e.mustPost("get_info", "")
	if r := e.post("members/suspend", `{"user":`+sel("ann@acme.example")+`}`); r.status < 500 {
		t.Errorf("suspend: %s", r)
	}
	run := func() string {
		e.srv.SetFaults(Faults{Rate429: 0.5, Seed: 99})
		var b strings.Builder
		for range 30 {
			b.WriteString(map[int]string{200: ".", 429: "x"}[e.post("get_info", "").status])
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("same seed, different runs: %s vs %s", a, b)
	}
}

func TestFaultAsyncAddAndJobPolls(t *testing.T) {
	e := newEnv(t)
	e.srv.SetFaults(Faults{AsyncAdd: 2, JobPolls: 1})
	e.expectResp(t, e.post("members/add_v2", `{"new_members":[{"member_email":"a@acme.example"}]}`), 200, `{".tag":"complete","complete":["*"]}`)
	launch := e.mustPost("members/add_v2", `{"new_members":[{"member_email":"b@acme.example"},{"member_email":"c@acme.example"}]}`)
	if launch[".tag"] != "async_job_id" {
		t.Fatalf("a batch of 2 with async_add=2: %v", launch)
	}
	job := jsonOf(map[string]any{"async_job_id": launch["async_job_id"]})
	e.expectResp(t, e.post("members/add/job_status/get_v2", job), 200, `{".tag":"in_progress"}`)
	e.expectResp(t, e.post("members/add/job_status/get_v2", job), 200, `{".tag":"complete","complete":[{".tag":"success","profile":"*"},{".tag":"success","profile":"*"}]}`)
}

// The write limit changes mid-run through the admin endpoint, alone (other
// faults stay), with a burst of one second; writes over it get Dropbox's
// 429 with Retry-After; bad values are refused.
func TestWriteLimitChangedMidRun(t *testing.T) {
	e := newStdEnv(t)
	e.srv.SetFaults(Faults{Latency: time.Millisecond, Seed: 3})
	welcome := `{".tag":"email","email":"bob@acme.example"}`
	burst := func() (ok, limited int) {
		for range 12 {
			switch r := e.post("members/send_welcome_email", welcome); r.status {
			case 200:
				ok++
			case 429:
				limited++
				if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"too_many_requests"`) {
					t.Fatalf("429 without Retry-After or Dropbox's body: %s %v", r, r.header)
				}
			default:
				t.Fatalf("write answered %s", r)
			}
		}
		return ok, limited
	}
	if ok, _ := burst(); ok != 12 {
		t.Fatalf("%d of 12 writes went through with no limit", ok)
	}
	for _, tc := range []struct {
		body       string
		status     int
		okLo, okHi int // of 12 writes at once: the one-second burst (the bucket starts full)
	}{
		{`{"writes_per_second":5}`, 200, 5, 6},
		{`{"writes_per_second":0}`, 200, 12, 12},
		{`{"writes_per_second":-1}`, 400, 12, 12},
		{`{"writes":5}`, 400, 12, 12},
		{`{}`, 400, 12, 12},
	} {
		r := e.admin("PUT", "/write_limit", tc.body)
		if r.status != tc.status {
			t.Fatalf("PUT write_limit %s: %s", tc.body, r)
		}
		if tc.status == 200 && !strings.Contains(r.body, "latency=1ms") {
			t.Fatalf("the other faults were lost: %s", r)
		}
		if ok, limited := burst(); ok < tc.okLo || ok > tc.okHi || ok+limited != 12 {
			t.Fatalf("after %s: %d went through, %d answered 429; want %d to %d through", tc.body, ok, limited, tc.okLo, tc.okHi)
		}
	}
}
