package dropbox

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestWindowCountsTheBusiestSecond(t *testing.T) {
	ms := func(offsets ...int) []time.Duration {
		out := make([]time.Duration, len(offsets))
		for i, o := range offsets {
			out[i] = time.Duration(o) * time.Millisecond
		}
		return out
	}
	spaced := make([]time.Duration, 3000) // one event a millisecond for 3 s
	for i := range spaced {
		spaced[i] = time.Duration(i) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		events []time.Duration
		want   int
	}{
		{"one", ms(0), 1},
		{"a burst, then a smaller one later", ms(0, 100, 200, 300, 400, 1500, 1600, 1700), 5},
		{"999 ms apart share a second", ms(0, 999), 2},
		{"1 s apart do not", ms(0, 1000), 1},
		{"the window slides, it is not a fixed second", ms(0, 600, 1200, 1800, 2400), 2},
		{"straddling a second boundary", ms(0, 900, 950, 1050, 1100, 2500), 4},
		{"long runs are compacted and still exact", spaced, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w window
			top := 0
			for _, d := range tc.events {
				top = max(top, w.add(t0.Add(d)))
			}
			if top != tc.want {
				t.Errorf("busiest second %d, want %d", top, tc.want)
			}
		})
	}
}

// Per-team counters, read in-process and over HTTP (as a test in another
// process would), must agree with what was sent.
func TestStatsCountEveryAnswerPerTeam(t *testing.T) {
	e := newStdEnv(t, func(o *Options) {
		o.AdminToken = "adm"
		o.Teams = append(o.Teams, TeamConfig{Name: "beta", Token: "tok-beta"})
	})
	start := time.Now()
	welcome := `{".tag":"email","email":"bob@acme.example"}`
	e.srv.SetFaults(Faults{WritesPerSec: 1, WriteBurst: 3})
	for i, want := range []int{200, 200, 200, 429, 429} {
		if r := e.post("members/send_welcome_email", welcome); r.status != want {
			t.Fatalf("write %d: %s, want %d", i, r, want)
		}
	}
	e.mustPost("get_info", "")
	e.mustPost("get_info", "")
	e.srv.SetFaults(Faults{Rate5xx: 1, Routes: []string{"get_info"}})
	if r := e.post("get_info", ""); r.status < 500 {
		t.Fatalf("5xx: %s", r)
	}
	e.srv.SetFaults(Faults{Rate429: 1, Routes: []string{"members/list_v2"}})
	if r := e.post("members/list_v2", "{}"); r.status != 429 {
		t.Fatalf("429: %s", r)
	}
	e.srv.SetFaults(Faults{Lost: 1})
	if r, err := e.rawPost("members/add_v2", `{"new_members":[{"member_email":"x@acme.example"}]}`); err == nil {
		t.Fatalf("lost answer arrived: %s", r)
	}
	e.srv.SetFaults(Faults{})
	e.do("POST", "/2/team/members/list_v2", testToken, "text/plain", "{}") // a 400 is still the team's call
	e.do("POST", "/2/team/get_info", "tok-beta", "", "")
	e.do("POST", "/2/team/get_info", "nobody", "", "") // no team's
	elapsed := time.Since(start)

	// Every acme call after the first refused write is inside its 1 s Retry-After.
	want := Stats{Calls: 11, Writes: 6, Got429: 3, WriteLimited: 2, Got5xx: 1, Lost: 1, MaxRate: 11, MaxWriteRate: 6, RetryAfterCalls: 7,
		Routes: map[string]int64{"team/members/send_welcome_email": 5, "team/get_info": 3, "team/members/list_v2": 2, "team/members/add_v2": 1}}
	got := e.team.Stats()
	if elapsed > 900*time.Millisecond { // too slow a machine for the one-second peaks to hold every call
		t.Logf("calls took %v; not checking the per-second peaks", elapsed)
		want.MaxRate, want.MaxWriteRate, want.RetryAfterCalls = got.MaxRate, got.MaxWriteRate, got.RetryAfterCalls
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("acme stats\n got %+v\nwant %+v", got, want)
	}
	if w := e.team.WelcomeEmails(); len(w) != 4 || w[2].Email != "bob@acme.example" || w[3].Email != "x@acme.example" {
		t.Errorf("welcome emails %+v: want 3 to bob (the refused writes must not happen), then x's (the lost add happened)", w)
	}

	ctx := context.Background()
	ac := AdminClient{BaseURL: e.url + "/", Token: "adm"}
	remote, err := ac.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if local := e.srv.Stats(); !reflect.DeepEqual(remote, local) {
		t.Errorf("over HTTP\n %+v\nin process\n %+v", remote, local)
	}
	if b := remote.Teams["beta"]; b.Calls != 1 || b.Routes["team/get_info"] != 1 || b.Writes != 0 {
		t.Errorf("beta %+v", b)
	}
	if remote.Calls["team/get_info"] != 5 {
		t.Errorf("all calls to get_info %d, want 5 (3 acme, 1 beta, 1 unauthenticated)", remote.Calls["team/get_info"])
	}
	one, err := ac.TeamStats(ctx, "acme")
	if err != nil || !reflect.DeepEqual(one, remote.Teams["acme"]) {
		t.Errorf("team stats %+v %v", one, err)
	}
	if _, err := ac.TeamStats(ctx, "ghost"); err == nil {
		t.Error("stats of an unknown team")
	}
	if _, err := (AdminClient{BaseURL: e.url}).Stats(ctx); err == nil {
		t.Error("admin endpoint answered without its token")
	}
	must(t, ac.ResetStats(ctx))
	if st := e.team.Stats(); st.Calls != 0 || st.MaxWriteRate != 0 || len(st.Routes) != 0 {
		t.Errorf("after reset %+v", st)
	}
	must(t, ac.SetFaults(ctx, Faults{Rate429: 1, RetryAfter: 7}))
	if f := e.srv.Faults(); f.Rate429 != 1 || f.RetryAfter != 7 {
		t.Errorf("faults set over HTTP: %+v", f)
	}
}

// A team counts the calls that arrive inside a Retry-After it was given: not
// the 429 itself, not another team's, not after the Retry-After has passed,
// and a reset of the counters does not end the Retry-After.
func TestStatsCountCallsInsideRetryAfter(t *testing.T) {
	e := newStdEnv(t, func(o *Options) { o.Teams = append(o.Teams, TeamConfig{Name: "beta", Token: "tok-beta"}) })
	beta := e.srv.Team("beta")
	refuse := func(token string, secs int) time.Time {
		t.Helper()
		e.srv.SetFaults(Faults{Rate429: 1, RetryAfter: secs})
		defer e.srv.SetFaults(Faults{})
		if r := e.do("POST", "/2/team/get_info", token, "", ""); r.status != 429 {
			t.Fatalf("want a 429: %s", r)
		}
		return time.Now().Add(time.Duration(secs) * time.Second) // the Retry-After began before the answer
	}
	getInfo := func(token string) {
		t.Helper()
		if r := e.do("POST", "/2/team/get_info", token, "", ""); r.status != 200 {
			t.Fatalf("get_info: %s", r)
		}
	}

	getInfo(testToken) // before any 429
	refuse(testToken, 60)
	getInfo(testToken)
	getInfo(testToken)
	getInfo("tok-beta") // acme's Retry-After is not beta's
	if got := e.team.Stats().RetryAfterCalls; got != 2 {
		t.Errorf("acme: %d calls inside Retry-After, want 2", got)
	}
	if got := beta.Stats().RetryAfterCalls; got != 0 {
		t.Errorf("beta: %d calls inside Retry-After, want 0", got)
	}
	e.srv.ResetCalls()
	getInfo(testToken)
	if st := e.team.Stats(); st.Calls != 1 || st.RetryAfterCalls != 1 {
		t.Errorf("after a reset, inside the same Retry-After: %+v", st)
	}

	end := refuse("tok-beta", 1)
	time.Sleep(time.Until(end))
	getInfo("tok-beta")
	if st := beta.Stats(); st.Calls != 2 || st.Got429 != 1 || st.RetryAfterCalls != 0 {
		t.Errorf("beta, after its Retry-After: %+v", st)
	}
}
