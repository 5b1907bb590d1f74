package web

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// shotBoth takes a page's screenshot at 1400 pixels wide (the whole page)
// and at 600 (its first 1200 pixels, as a phone or narrow window shows it),
// the narrow one first checked for a page that scrolls sideways as a whole.
func (b *browser) shotBoth(name string) {
	b.t.Helper()
	// At 1400 px every table fits: no scroll box has to scroll.
	if over := get(b, chromedp.Evaluate[int](`Array.from(document.querySelectorAll(".scroll")).filter(function (s) { return s.scrollWidth > s.clientWidth + 1; }).length`)); over > 0 {
		b.t.Errorf("%s at 1400 px: %d table(s) wider than the page", name, over)
	}
	b.shot(name + "-1400")
	b.do(chromedp.EmulateViewport(600, 1200))
	defer b.do(chromedp.EmulateViewport(1400, 900))
	if wide := get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); wide > 600 {
		b.t.Errorf("%s at 600 px is %d px wide: the page scrolls sideways", name, wide)
	}
	png := get(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(b.shots, name+"-600.png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// fitsNarrow fails the test when the page scrolls sideways as a whole at 600 px.
func (b *browser) fitsNarrow() {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(600, 1200))
	defer b.do(chromedp.EmulateViewport(1400, 900))
	if wide := get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); wide > 600 {
		b.t.Errorf("%s at 600 px is %d px wide: the page scrolls sideways", b.path(), wide)
	}
}

// waitPath waits until the browser is on a page whose path starts with prefix.
func (b *browser) waitPath(prefix string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if p, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`)); err == nil && strings.HasPrefix(p, prefix) {
			if done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err == nil && done {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	main, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : ""`))
	b.t.Fatalf("never reached %s (on %s, showing %q)", prefix, b.where(), main)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	return get(b, chromedp.Evaluate[int](`document.querySelectorAll(`+fmt.Sprintf("%q", sel)+`).length`))
}

// TestBrowserDailyOperations walks the pages of a day of operations on a
// directory of 2,000 users: the dashboard's states, the users list paged and
// sorted, group push, a background import with its progress page, the
// import tabs, tasks and the log; each page is shot at 1400 and 600 px.
func TestBrowserDailyOperations(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite, noJobWait)
	b := newBrowser(t, e.srv.URL)
	seedMany(t, e, 2000)
	a, _ := e.st.GetApp(bg, "dropbox")
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(x *app.Instance) error {
		x.Settings.Provisioning, x.Settings.Features.PushGroups, x.Settings.Import.PartialNames = true, true, true
		x.Settings.Import.SafeguardPercent = 100 // the seeded accounts are not in the emulator
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	signIn(b)

	// The dashboard: members by state, failures, held work, worker health.
	for i := range 3 {
		if err := e.st.AppendLog(bg, audit.Entry{Actor: "engine", Action: "account.create", App: "dropbox", Outcome: audit.Failure, TargetKind: "user", Target: fmt.Sprintf("user%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := e.st.AcquireLane(bg, a.ID, "worker-7", time.Minute); !ok || err != nil {
		t.Fatalf("lane: %v %v", ok, err)
	}
	b.open("/")
	b.expect(`section[data-app="dropbox"] .members`, "334 active", "0 invited", "0 pending SSO")
	b.expect(`section[data-app="dropbox"] .failures`, "3 failed")
	b.expect(`section[data-app="dropbox"] .worker`, "worked by worker-7")
	b.expect(`section[data-app="dropbox"] .ratelimit`, "no 429 in the last hour")
	if n := b.count(`button[aria-label="Sync dropbox now"]`); n != 1 {
		t.Fatalf("%d Sync now buttons for dropbox", n)
	}
	b.shotBoth("dashboard")
	if err := e.st.ReleaseLane(bg, a.ID, "worker-7", 0); err != nil {
		t.Fatal(err)
	}

	// The users list: 2,000 users, sorted by a click on a column, paged by number.
	b.open("/users")
	b.expect("#users-total", "2000 user(s), showing 1–50")
	b.expect("#pager", "page 1 of 40")
	b.shotBoth("users")
	b.submit(`th[data-sort="name"] a`)
	b.expect("#users tbody tr:first-child", "user1999")
	b.submit(`th[data-sort="name"] a`) // again: the other way
	b.expect("#users tbody tr:first-child", "user0003")
	b.submit(`#pager a[href*="page=2"]`)
	b.expect("#users-total", "showing 51–100")
	b.expect(`#pager a[aria-current="page"]`, "2")
	b.set(`#user-filters input[name=group]`, "Ten")
	b.submit(`#user-filters button`)
	b.expect("#users-total", "10 user(s)")
	b.expect("#users tbody", "support_admin", "Ten")

	// Group push: push Ten by name; it is listed with its state.
	b.open("/apps/dropbox/groups")
	b.set(`#push-form input[name=group]`, "Ten")
	b.submit(`#push-go`)
	b.expect("#flash", "Pushing 1 group(s): Ten.")
	b.expect(`#pushed-groups tr[data-group="Ten"] .push-state`, "queued")
	b.shotBoth("grouppush")

	// A background import: the progress page first, then the review.
	var seed []emu.SeedMember
	for i := range 30 {
		seed = append(seed, emu.SeedMember{Email: fmt.Sprintf("user%04d@acme.example", i), GivenName: "Pat", Surname: fmt.Sprintf("Z%04d", 2000-i), Status: "active"})
	}
	seed = append(seed, emu.SeedMember{Email: "pat.a@acme.example", GivenName: "Pat", Surname: "Z1990", Status: "active"},
		emu.SeedMember{Email: "pat.b@acme.example", GivenName: "Pat", Surname: "Z1990", Status: "active"})
	if _, err := e.emu.Team(team).Seed(seed); err != nil {
		t.Fatal(err)
	}
	e.emu.SetFaults(emu.Faults{Latency: 400 * time.Millisecond})
	b.open("/apps/dropbox/import")
	b.submit(`#import-run`)
	if p := b.path(); !strings.HasPrefix(p, "/jobs/") {
		t.Fatalf("Import now went to %s, not to its progress page", p)
	}
	b.expect("#job-state", "running")
	b.expect("#job", "if it restarts, a running job is lost")
	b.shotBoth("job")
	b.waitPath("/apps/dropbox/import", 30*time.Second)
	e.emu.SetFaults(emu.Faults{})
	b.expect("#flash", "Imported")

	// The import tabs: one current tab per bar, counts, needs review first.
	if n := b.count(`#import-tabs a[aria-current]`); n != 1 {
		t.Fatalf("%d import tabs marked current", n)
	}
	if n := b.count(`nav.tabs[aria-label="dropbox"] a[aria-current]`); n != 1 {
		t.Fatalf("%d app tabs marked current", n)
	}
	b.expect(`nav.tabs[aria-label="dropbox"] a[aria-current]`, "Import")
	b.expect(`#import-tabs a[aria-current]`, "needs review")
	b.expect(`tr[data-email="pat.a@acme.example"]`, "conflict")
	if n := b.count(`tr[data-email="pat.a@acme.example"] button.confirm`); n != 0 {
		t.Fatal("a contested match can be confirmed")
	}
	b.shotBoth("import")
	b.click(`#import-tabs a[data-state="matched"]`)
	b.waitPath("/apps/dropbox/import?state=matched", 5*time.Second)
	if n := b.count(`#import-tabs a[aria-current]`); n != 1 {
		t.Fatalf("%d import tabs marked current on the matched tab", n)
	}
	// Link with the picker: typing suggests directory users.
	b.do(chromedp.SendKeys(chromedp.CSS(`tr[data-email="pat.a@acme.example"] input.user-picker`), "user001"))
	deadline := time.Now().Add(5 * time.Second)
	for b.count(`#dir-users option`) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := b.count(`#dir-users option[value="user0010"]`); n != 1 {
		t.Fatalf("the picker suggested no user0010 (%d options)", b.count(`#dir-users option`))
	}

	// Tasks, the log, an app's assignments and a user, at both widths.
	failForGood(t, e, a.ID, "user0001", "add_members: permanent (team_license_limit): user0001@acme.example")
	b.open("/tasks")
	b.expect("#tasks", "Out of licences", "Add seats")
	b.expect("#nav-tasks .badge", "1")
	if n := b.count(`button[aria-label="Retry user0001 in dropbox"]`); n != 1 {
		t.Fatal("the Retry button does not say whose task it retries")
	}
	b.shotBoth("tasks")
	b.open("/apps/dropbox/assignments")
	b.expect("#group-assignments", "Ten", "support_admin")
	b.shotBoth("assignments")
	b.open("/users/user0001")
	b.expect("#user-groups", "Ten")
	b.shotBoth("user")
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(x *app.Instance) error { x.Settings.Guard.Percent = 40; return nil }); err != nil {
		t.Fatal(err)
	}
	b.open("/log?app=dropbox")
	b.expect("table.log", "app settings changed", "deletion_guard.percent")
	b.shotBoth("log")
	// A SCIM source: its base URL and token are shown once, with the sources list.
	b.open("/sources")
	b.set(`#source-form input[name="name"]`, "okta")
	b.submit(`#source-form button[type="submit"]`)
	b.expect("#shown-token", "/scim/v2")
	b.expect("#sources", "okta")
	b.shotBoth("sources")
}

// failForGood makes a task of a user's work in an app, as a worker does when
// the app refuses it for good.
func failForGood(t *testing.T, e *env, appID int64, username, msg string) {
	t.Helper()
	u, err := e.st.GetUser(bg, username)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.EnqueueUsers(bg, appID, []int64{u.ID}, "test"); err != nil {
		t.Fatal(err)
	}
	items, err := e.st.ClaimWork(bg, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "test-worker", Lease: time.Minute, Limit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	var outs []store.Outcome
	for _, it := range items {
		if it.RefID == u.ID {
			outs = append(outs, store.Outcome{Item: it, Err: errors.New(msg), GiveUp: true, RetryAt: time.Now()})
		}
	}
	if len(outs) != 1 {
		t.Fatalf("claimed no item of %s", username)
	}
	if err := e.st.FinishWork(bg, "test-worker", outs); err != nil {
		t.Fatal(err)
	}
}
