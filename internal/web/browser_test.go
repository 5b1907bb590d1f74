package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// The browser tests drive the UI in headless Chromium (Debian's chromium).
// Locally they skip when no browser is installed; with ROSTER_BROWSER_TESTS=1
// (set by .ci/run) a missing browser fails them. Screenshots of the main
// pages go to artifacts/screenshots/ at the repository root.

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ROSTER_BROWSER_TESTS") == "1" {
		t.Fatal("ROSTER_BROWSER_TESTS=1 but no chromium is installed (apt-get install -y chromium)")
	}
	t.Skip("browser tests skipped: no chromium on PATH (apt-get install -y chromium, or set ROSTER_BROWSER_TESTS=1 to require it)")
	return ""
}

// browser is one headless Chromium tab on a test Roster.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newBrowser(t *testing.T, base string) *browser {
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1400, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 100*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	shots := filepath.Join(repoRoot(t), "artifacts", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: shots}
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	t.Fatal("no go.mod above " + dir)
	return ""
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser on %s: %v", b.where(), err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("browser on %s: %v", b.where(), err)
	}
	return v
}

// where is the current address, for messages; it never fails a test.
func (b *browser) where() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	return s
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

func (b *browser) click(sel string) { b.t.Helper(); b.do(chromedp.Click(chromedp.CSS(sel))) }

// submit clicks a button and waits until a new page has loaded (after any
// redirects, including through Dropbox's authorize page).
func (b *browser) submit(sel string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.__rosterOld = true`), chromedp.Click(chromedp.CSS(sel)))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// Evaluating fails while a navigation is under way; just try again.
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.__rosterOld && document.readyState === "complete"`))
		if err == nil && done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("clicking %s loaded no new page (still on %s)", sel, b.where())
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

func (b *browser) html() string {
	b.t.Helper()
	return get(b, chromedp.OuterHTML(chromedp.CSS("html")))
}

func (b *browser) path() string {
	b.t.Helper()
	return get(b, chromedp.Evaluate[string](`location.pathname + location.search`))
}

func (b *browser) set(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

func (b *browser) shot(name string) {
	b.t.Helper()
	png := get(b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// expect fails unless the element's text holds every want.
func (b *browser) expect(sel string, wants ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s on %s says %q, want %q", sel, b.path(), got, w)
		}
	}
}

func TestBrowserAdminJourney(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	b := newBrowser(t, e.srv.URL)
	acme := seedJourney(t, e)

	signIn(b)
	connectApp(t, b, e)
	assignAndApply(t, b, e, acme)
	offboardWithTransfer(t, b, e, acme)
	reviewImport(t, b, e, acme)
	confirmOffboarding(t, b, e, acme)
	refusals(t, b, e)
	otherPages(b)
}

func seedJourney(t *testing.T, e *env) *emu.Team {
	acme := e.emu.Team(team)
	if _, err := acme.Seed([]emu.SeedMember{
		{Email: keeper, GivenName: "Files", Surname: "Keeper", Status: "active"},
		{Email: "legacy@acme.example", GivenName: "Lee", Surname: "Gacy", Status: "active"},
		{Email: "newbie@acme.example", GivenName: "Nina", Surname: "Newbie", Status: "invited"},
	}); err != nil {
		t.Fatal(err)
	}
	e.addUsers(t, "alice", "bob", "legacy")
	g := directory.Group{Name: "Sales", Description: "sellers"}
	if err := e.st.CreateGroup(bg, actor, &g); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddGroupMembers(bg, actor, "Sales", []string{"alice", "bob"}); err != nil {
		t.Fatal(err)
	}
	e.addUsers(t, "carol", "dan", "erin")
	support := directory.Group{Name: "Support"}
	if err := e.st.CreateGroup(bg, actor, &support); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddGroupMembers(bg, actor, "Support", []string{"carol", "dan", "erin"}); err != nil {
		t.Fatal(err)
	}
	return acme
}

func signIn(b *browser) {
	b.open("/apps") // without a session: sent to sign in, then back
	if p := b.path(); p != "/signin?next=%2Fapps" {
		b.t.Fatalf("/apps without a session went to %s", p)
	}
	b.shot("signin")
	b.set(`#signin-password input[name=name]`, adminName)
	b.set(`#signin-password input[name=password]`, adminPass)
	b.submit(`#signin-password button`)
	if p := b.path(); p != "/apps" {
		b.t.Fatalf("after sign-in at %s", p)
	}
	b.expect("header .who", adminName)
}

func connectApp(t *testing.T, b *browser, e *env) {
	b.set(`#app-form input[name=name]`, "dropbox")
	b.set(`#app-form input[name=base_url]`, e.emuURL)
	b.submit(`#app-form button`)
	b.expect("#flash", "App dropbox added")
	b.set(`#oauth-client input[name=client_id]`, oauthClient)
	b.set(`#oauth-client input[name=client_secret]`, oauthSecret)
	b.submit(`#oauth-client button`)
	b.expect("#flash", "secret encrypted")
	b.submit(`#authenticate`) // to the emulator's authorize page and back
	if p := b.path(); p != "/apps/dropbox" {
		t.Fatalf("after the OAuth flow at %s", p)
	}
	b.expect("#flash", "Authenticated with Dropbox Business", `"acme"`, teamAdmin)
	b.expect("#conn-state", "connected")
	b.submit(`#test-connection`)
	b.expect("#flash", "Connection works", `"acme"`)
	if h := b.html(); strings.Contains(h, oauthSecret) || strings.Contains(h, "sl.u.") {
		t.Fatal("a secret or token was rendered into the page")
	}
	b.click(`input[name=provisioning]`)
	b.submit(`#save-settings`)
	b.expect("#flash", "Settings saved.")
	b.shot("app-settings")
	a, _ := e.st.GetApp(bg, "dropbox")
	if !a.HasToken || !a.Settings.Provisioning {
		t.Fatalf("app after connecting = %+v", a)
	}
}

func assignAndApply(t *testing.T, b *browser, e *env, acme *emu.Team) {
	b.open("/groups/Sales")
	b.set(`#assign-group select[name=role]`, "member")
	b.submit(`#assign-group button`)
	b.expect("#flash", "Group Sales assigned to dropbox")
	b.expect("#group-assignments", "dropbox", "member")
	b.shot("group")
	b.open("/apps/dropbox/plan")
	b.expect("#plan-summary", "create 2")
	b.expect("#changes", "alice", "bob", "create")
	b.shot("plan")
	// While a worker of the fleet holds the app's lane, the work is its own.
	a, _ := e.st.GetApp(bg, "dropbox")
	if ok, err := e.st.AcquireLane(bg, a.ID, "worker-7", time.Minute); !ok || err != nil {
		t.Fatalf("take the lane: %v %v", ok, err)
	}
	b.submit(`#apply`)
	b.expect("#flash", "Queued.", "worker-7")
	if _, ok := acme.Member("alice@acme.example"); ok {
		t.Fatal("applied beside the worker holding the app's lane")
	}
	if err := e.st.ReleaseLane(bg, a.ID, "worker-7", 0); err != nil {
		t.Fatal(err)
	}
	b.open("/apps/dropbox/plan")
	b.submit(`#apply`)
	b.expect("#flash", "Applied", "create 2")
	for _, who := range []string{"alice", "bob"} {
		if m, ok := acme.Member(who + "@acme.example"); !ok || m.Status != emu.StatusInvited {
			t.Fatalf("%s in Dropbox after apply: %+v %v", who, m, ok)
		}
	}
}

func offboardWithTransfer(t *testing.T, b *browser, e *env, acme *emu.Team) {
	acme.Activate("bob@acme.example")
	bobID := memberID(t, acme, "bob@acme.example")
	if err := acme.AddFiles("bob@acme.example", "/deals/q3.xlsx"); err != nil {
		t.Fatal(err)
	}
	b.open("/apps/dropbox")
	b.click(`input[name=deactivation_type][value=remove]`)
	b.click(`input[name=file_management][value=transfer]`)
	b.set(`input[name=transfer_dest]`, "nobody@acme.example")
	b.set(`input[name=transfer_admin]`, teamAdmin)
	b.set(`input[name=guard_percent]`, "10")
	b.set(`input[name=guard_min]`, "1")
	b.submit(`#save-settings`)
	b.expect("#problems", "nobody@acme.example is not an active member")
	if kept := get(b, chromedp.Value(chromedp.CSS(`input[name=transfer_dest]`))); kept != "nobody@acme.example" {
		t.Fatalf("refused form lost what was typed: %q", kept)
	}
	b.shot("app-settings-refused")
	b.set(`input[name=transfer_dest]`, keeper)
	b.submit(`#save-settings`)
	b.expect("#flash", "Settings saved.")

	b.open("/users/bob")
	b.expect("main", "transfer their files to "+keeper)
	b.submit(`#do-deactivate`) // a confirmation step first: removal with a file transfer
	b.expect("#impact-count", "1")
	b.expect("#impact-table", "bob", "remove", keeper, "irreversible")
	b.submit(`#confirm-go`) // without typing the count
	b.expect("#problems", "type 1 exactly")
	if u, _ := e.st.GetUser(bg, "bob"); u.Status != directory.StatusActive {
		t.Fatalf("bob is %s before the confirmation", u.Status)
	}
	b.set(`#typed`, "1")
	b.submit(`#confirm-go`)
	b.expect("#user-status", "deprovisioned")
	b.expect("#flash", "1 account(s) in dropbox will be off-boarded")
	b.open("/apps/dropbox/plan")
	b.expect("#changes", "bob", "remove", "irreversible", "due") // the plan knows bob as invited; the transfer is decided when bob is re-read
	b.submit(`#apply`)                                           // confirmed: the deletion guard does not hold it
	b.expect("#flash", "Applied", "remove 1")
	bob, _ := acme.Member(bobID) // a removed member is found by ID only
	if bob.Status != emu.StatusRemoved || !bob.Transferred || bob.TransferredTo != memberID(t, acme, keeper) || bob.DevicesWiped == 0 {
		t.Fatalf("bob in Dropbox after off-boarding: %+v", bob)
	}
}

// confirmOffboarding: with a grace period set, a deactivation suspends now
// and shows the removal date; unassigning a group asks for its name.
func confirmOffboarding(t *testing.T, b *browser, e *env, acme *emu.Team) {
	a, _ := e.st.GetApp(bg, "dropbox")
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", GroupName: "Support", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	a.Settings.Guard.Percent, a.Settings.Guard.Min = 100, 10
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(x *app.Instance) error { x.Settings.Guard = a.Settings.Guard; return nil }); err != nil {
		t.Fatal(err)
	}
	b.open("/apps/dropbox/plan")
	b.expect("#plan-summary", "create 3")
	b.submit(`#apply`)
	b.expect("#flash", "Applied", "create 3")
	for _, who := range []string{"carol", "dan", "erin"} {
		acme.Activate(who + "@acme.example")
	}

	b.open("/apps/dropbox")
	b.click(`input[name=file_management][value=manage_in_dropbox]`)
	b.set(`input[name=remove_after]`, "7d")
	b.submit(`#save-settings`)
	b.expect("#flash", "Settings saved.")

	b.open("/users/carol")
	b.submit(`#do-deactivate`)
	b.expect("#impact-table", "carol", "suspend", "(suspended until then)")
	b.set(`#typed`, "1")
	b.submit(`#confirm-go`)
	b.expect("#user-status", "deprovisioned")
	b.open("/apps/dropbox/plan")
	b.submit(`#apply`)
	b.expect("#flash", "Applied", "suspend 1")
	b.open("/users/carol")
	b.expect(`td.offboarding[data-app=dropbox]`, "suspended; removal due on "+time.Now().Add(7*24*time.Hour).Format("2006-01-02"))
	b.shot("user-grace")
	if m, _ := acme.Member("carol@acme.example"); m.Status != emu.StatusSuspended {
		t.Fatalf("carol in Dropbox during her grace period: %s", m.Status)
	}

	b.open("/groups/Support")
	b.submit(`#group-assignments button`)
	b.expect("#impact-count", "2")
	b.expect("#impact-table", "dan", "erin")
	b.expect("#confirm-form", "Type Support to confirm")
	b.shot("confirm-unassign")
	b.submit(`#confirm-go`) // without typing the group's name
	b.expect("#problems", "type Support exactly")
	if as, _ := e.st.ListAssignments(bg, storeAssign("Support")); len(as) != 1 {
		t.Fatal("the group was unassigned without its name typed")
	}
	b.set(`#typed`, "Support")
	b.submit(`#confirm-go`)
	b.expect("#flash", "Group Support unassigned from dropbox", "2 account(s)")
	if as, _ := e.st.ListAssignments(bg, storeAssign("Support")); len(as) != 0 {
		t.Fatal("the confirmed unassignment did not happen")
	}
	b.open("/")
	b.expect("#apps", "removal(s) scheduled")
}

func memberID(t *testing.T, team *emu.Team, email string) string {
	m, ok := team.Member(email)
	if !ok {
		t.Fatalf("no member %s in Dropbox", email)
	}
	return m.ID
}

func reviewImport(t *testing.T, b *browser, e *env, acme *emu.Team) {
	welcome := len(acme.WelcomeEmails())
	members := len(acme.Snapshot().Members)
	b.open("/apps/dropbox/import")
	b.submit(`#import-run`)
	b.expect("#flash", "Imported")
	b.expect(`tr[data-email="legacy@acme.example"]`, "matched", "legacy")
	b.shot("import")
	b.submit(`tr[data-email="legacy@acme.example"] button.confirm`)
	b.expect("#flash", "Confirmed: 1 linked")
	b.submit(`tr[data-email="newbie@acme.example"] button.ignore`)
	b.open("/apps/dropbox/import?state=")
	b.expect(`tr[data-email="legacy@acme.example"] .state`, "confirmed")
	b.expect(`tr[data-email="newbie@acme.example"] .state`, "ignored")
	a, _ := e.st.GetApp(bg, "dropbox")
	u, _ := e.st.GetUser(bg, "legacy")
	if acc, _ := e.st.Accounts(bg, a.ID, []int64{u.ID}); acc[u.ID].Email != "legacy@acme.example" {
		t.Fatalf("legacy not linked to its member: %+v", acc)
	}
	if len(acme.WelcomeEmails()) != welcome || len(acme.Snapshot().Members) != members {
		t.Fatal("import review wrote to Dropbox")
	}
}

// refusals: a form posted without its CSRF token, and pages after sign-out.
func refusals(t *testing.T, b *browser, e *env) {
	b.open("/users/new")
	b.set(`#user-form input[name=username]`, "mallory")
	b.set(`#user-form input[name=email]`, "mallory@acme.example")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#user-form input[name=csrf]').remove()`))
	b.submit(`#user-form button`)
	b.expect("h1", "Forbidden")
	b.expect("#problems", "security token is missing")
	if _, err := e.st.GetUser(bg, "mallory"); err == nil {
		t.Fatal("a form without its CSRF token created a user")
	}
	b.shot("csrf-refused")
}

func otherPages(b *browser) {
	for _, p := range []struct{ path, name, want string }{
		{"/", "dashboard", "dropbox"},
		{"/users", "users", "alice"},
		{"/groups", "groups", "Sales"},
		{"/tasks", "tasks", "No open tasks"},
		{"/log?app=dropbox", "log", "account removed"},
		{"/apps/dropbox/pending", "pending", "Nobody is waiting"},
		{"/apps/dropbox/groups", "grouppush", "Push groups"},
		{"/apps/dropbox", "app-settings", "Off-boarding"},
		{"/apps/dropbox/plan", "plan", "Plan for dropbox"},
		{"/groups/Sales", "group", "Members"},
		{"/apps", "apps", "Add a Dropbox Business team"},
	} {
		b.open(p.path)
		b.expect("main", p.want)
		b.shot(p.name)
		b.fitsNarrow()
	}
	b.submit(`header .signout button`)
	b.open("/users")
	if p := b.path(); !strings.HasPrefix(p, "/signin") {
		b.t.Fatalf("/users after sign-out shows %s", p)
	}
}
