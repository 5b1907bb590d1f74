package web

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// appCard cuts one app's card out of the dashboard.
func appCard(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, `data-app="`+name+`" aria-labelledby`)
	if i < 0 {
		t.Fatalf("no card for %s on the dashboard:\n%s", name, body)
	}
	j := strings.Index(body[i:], "</section>")
	return body[i : i+j]
}

// The dashboard shows each app at a glance: members by state, failures in
// the last 24 hours, held work, worker health and a Sync now button.
func TestDashboardAtAGlance(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		a := e.addApp(t, "dropbox", true)
		e.addApp(t, "other", false)
		e.addUsers(t, "u1", "u2", "u3", "u4", "u5", "u6")
		states := []struct {
			user, status string
			silent       bool
		}{{"u1", "active", false}, {"u2", "active", false}, {"u3", "invited", false}, {"u4", "invited", true}, {"u5", "suspended", false}, {"u6", "removed", false}}
		var put []store.Account
		for i, s := range states {
			u, _ := e.st.GetUser(bg, s.user)
			put = append(put, store.Account{AppID: a.ID, UserID: u.ID, MemberID: "dbmid:" + s.user, Email: u.Email, Status: s.status, Silent: s.silent, UpdatedAt: time.Now().Add(time.Duration(i))})
		}
		if err := e.st.CorrectAccounts(bg, a.ID, put, nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{time.Now().Add(-time.Hour), time.Now().Add(-23 * time.Hour), time.Now().Add(-25 * time.Hour)} {
			if err := e.st.AppendLog(bg, audit.Entry{At: at, Actor: "engine", Action: "account.create", App: "dropbox", Outcome: audit.Failure, TargetKind: "user", Target: "u3"}); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := e.st.AcquireLane(bg, a.ID, "worker-7", time.Minute); !ok || err != nil {
			t.Fatalf("lane: %v %v", ok, err)
		}
		c := e.client(t).signin()
		if card := appCard(t, c.get("/").body, "dropbox"); strings.Contains(card, "Calling at") {
			t.Errorf("a call rate shown before any worker saved one:\n%s", card)
		}
		// The worker holding the lane saves its adaptive rate; every server shows it.
		pace := store.Pace{Auto: true, Rate: 42.5, Reason: "backed off after 429", Since: time.Now().Add(-time.Minute), Last429: time.Now().Add(-time.Minute), At: time.Now()}
		if err := e.st.SetPace(bg, a.ID, "worker-7", pace); err != nil {
			t.Fatal(err)
		}
		body := c.get("/").body
		card := appCard(t, body, "dropbox")
		for _, want := range []string{"Calling at <strong>42.5 calls/s</strong> (auto): backed off after 429", "last 429", "2 active", "2 invited", "1 suspended", "1 pending SSO", ">2 failed<", "worked by worker-7",
			`aria-label="Sync dropbox now"`, `action="/apps/dropbox/sync"`, `name="csrf"`, "no 429 in the last hour", "Held work</dt><dd class=\"offboardings\">none"} {
			if !strings.Contains(card, want) {
				t.Errorf("dropbox card lacks %q:\n%s", want, card)
			}
		}
		if other := appCard(t, body, "other"); !strings.Contains(other, "no worker: provisioning is off") || !strings.Contains(other, "none") {
			t.Errorf("other card:\n%s", other)
		}
	})
}

// What the deletion guard holds and the 429s Dropbox answered show on the
// dashboard as they happen.
func TestDashboardHeldWorkAndRateLimiting(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(a *app.Instance) error {
		a.Settings.Guard.Percent, a.Settings.Guard.Min = 10, 0
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.addUsers(t, "alice", "bob")
	for _, u := range []string{"alice", "bob"} {
		if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", Username: u, Role: "member"}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(t).signin()
	r := c.post("/", "/apps/dropbox/sync", url.Values{})
	if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "dropbox: Applied: 2 item(s) done") {
		t.Fatalf("first sync: %d %q", r.status, r.location)
	}
	e.emu.Team(team).Activate("alice@acme.example", "bob@acme.example")
	if _, err := e.st.UpdateUser(bg, actor, "bob", "user.status", func(u *directory.User) error { u.Status = directory.StatusDeprovisioned; return nil }); err != nil {
		t.Fatal(err)
	}
	r = c.post("/", "/apps/dropbox/sync", url.Values{})
	if body := c.get(r.location).body; !strings.Contains(body, "the deletion guard stopped part of the sync") {
		t.Fatalf("sync held by the guard says:\n%s", body)
	}
	if card := appCard(t, c.get("/").body, "dropbox"); !strings.Contains(card, "1 held by the deletion guard") {
		t.Fatalf("held work not shown:\n%s", card)
	}

	// Dropbox answers 429: the sync runs as a job, and the dashboard counts the 429s.
	e.emu.SetFaults(emu.Faults{Rate429: 1, RetryAfter: 1, Routes: []string{"members/set_profile_v2"}})
	if _, err := e.st.UpdateUser(bg, actor, "alice", "user.update", func(u *directory.User) error { u.FirstName = "Alicia"; return nil }); err != nil {
		t.Fatal(err)
	}
	r = c.post("/", "/apps/dropbox/sync", url.Values{})
	if !strings.HasPrefix(r.location, "/jobs/") {
		t.Fatalf("a sync slowed by 429s did not become a job: %d %q", r.status, r.location)
	}
	deadline := time.Now().Add(30 * time.Second)
	seen := false
	for time.Now().Before(deadline) {
		card := appCard(t, c.get("/").body, "dropbox")
		if regexp.MustCompile(`[1-9]\d* × 429</span>|Dropbox answered 429`).MatchString(card) {
			seen = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !seen {
		t.Fatal("the dashboard never showed the 429s")
	}
	e.emu.SetFaults(emu.Faults{})
	for p := c.get(r.location); p.status == http.StatusOK && time.Now().Before(deadline); p = c.get(r.location) {
		time.Sleep(100 * time.Millisecond)
	}
}

// The rate-limiting block says when calls resume while Dropbox has paused them.
func TestRateLimitBlock(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	resume := time.Now().Add(42 * time.Second)
	for _, tc := range []struct {
		name string
		st   engine.RateState
		want []string
	}{
		{"quiet", engine.RateState{}, []string{"no 429 in the last hour"}},
		{"paused", engine.RateState{LastHour: 3, Total: 5, Last: time.Now(), ResumeAt: resume}, []string{"calls resume at", resume.Local().Format("15:04:05"), "3 × 429 in the last hour", "5 since this server started"}},
		{"flowing again", engine.RateState{LastHour: 2, Total: 2, Last: time.Now()}, []string{"2 × 429</span> in the last hour; calls flow again"}},
	} {
		var b bytes.Buffer
		if err := e.ui.pages["dashboard"].ExecuteTemplate(&b, "ratelimit", appSummary{App: app.Instance{Name: "dropbox"}, Rate: tc.st}); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, b.String(), w)
			}
		}
	}
}
