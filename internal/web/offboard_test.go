package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// hidden reads a hidden field's value from a page.
func hidden(t testing.TB, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no hidden %s on the page:\n%s", name, body)
	}
	return m[1]
}

// seedSales gives the app accounts for the members of an assigned group.
func seedSales(t *testing.T, e *env, members ...string) {
	t.Helper()
	e.addUsers(t, members...)
	g := directory.Group{Name: "Sales"}
	if err := e.st.CreateGroup(bg, actor, &g); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddGroupMembers(bg, actor, "Sales", members); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", GroupName: "Sales", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
}

func (e *env) sync(t testing.TB) {
	t.Helper()
	a, err := e.st.GetApp(bg, "dropbox")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ui.opt.Engine.Sync(bg, a, engine.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestOffboardingNeedsConfirmation(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		e.addApp(t, "dropbox", true)
		seedSales(t, e, "alice", "bob", "carol")
		c := e.client(t).signin()
		unassign := url.Values{"app": {"dropbox"}}

		r := c.post("/groups/Sales", "/groups/Sales/unassign", unassign)
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="impact-count">3<`) || !strings.Contains(r.body, "Type <strong><code>Sales</code></strong> to confirm") {
			t.Fatalf("unassigning a group of 3 did not ask to confirm 3 by typing its name: %d\n%s", r.status, r.body)
		}
		token := hidden(t, r.body, "impact")
		for _, who := range []string{"alice", "bob", "carol"} {
			if !strings.Contains(r.body, "/users/"+who) {
				t.Fatalf("the impact does not list %s", who)
			}
		}
		steps := []struct {
			name   string
			form   url.Values
			status int
			page   string
		}{
			{"without typing", url.Values{"app": {"dropbox"}, "impact": {token}}, http.StatusUnprocessableEntity, "type Sales exactly"},
			{"typing the count", url.Values{"app": {"dropbox"}, "impact": {token}, "typed": {"3"}}, http.StatusUnprocessableEntity, "type Sales exactly"},
			{"a stale token", url.Values{"app": {"dropbox"}, "impact": {"0123456789ab"}, "typed": {"Sales"}}, http.StatusConflict, "changed since it was shown"},
		}
		for _, s := range steps {
			r := c.post("/groups/Sales", "/groups/Sales/unassign", s.form)
			if r.status != s.status || !strings.Contains(r.body, s.page) {
				t.Fatalf("%s: %d, want %d with %q\n%s", s.name, r.status, s.status, s.page, r.body)
			}
			if as, _ := e.st.ListAssignments(bg, storeAssign("Sales")); len(as) != 1 {
				t.Fatalf("%s: the group was unassigned", s.name)
			}
		}
		r = c.post("/groups/Sales", "/groups/Sales/unassign", url.Values{"app": {"dropbox"}, "impact": {token}, "typed": {"Sales"}})
		if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "3 account(s) in dropbox will be off-boarded") {
			t.Fatalf("confirmed unassign: %d %s", r.status, r.body)
		}
		if as, _ := e.st.ListAssignments(bg, storeAssign("Sales")); len(as) != 0 {
			t.Fatalf("confirmed unassign left %+v", as)
		}
		a, _ := e.st.GetApp(bg, "dropbox")
		obs, err := e.st.ListOffboardings(bg, a.ID)
		if err != nil || len(obs) != 3 || obs[0].ConfirmedBy != "web:"+adminName {
			t.Fatalf("confirmations recorded = %+v, %v", obs, err)
		}
	})
}

func TestReversibleImpactNeedsNoTyping(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	seedSales(t, e, "alice")
	c := e.client(t).signin()
	// Suspending in the directory suspends in Dropbox: reversible.
	r := c.post("/users/alice", "/users/alice/status/suspend", url.Values{})
	if r.status != http.StatusOK || strings.Contains(r.body, `name="typed"`) || !strings.Contains(r.body, "reversible") {
		t.Fatalf("suspend: %d\n%s", r.status, r.body)
	}
	r = c.post("/users/alice", "/users/alice/status/suspend", url.Values{"impact": {hidden(t, r.body, "impact")}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("confirmed suspend: %d %s", r.status, r.body)
	}
	if u, _ := e.st.GetUser(bg, "alice"); u.Status != directory.StatusSuspended {
		t.Fatalf("alice is %s", u.Status)
	}
}

func TestApplySaysWhatChangedSinceShown(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	e.addUsers(t, "alice", "bob")
	g := directory.Group{Name: "Sales"}
	if err := e.st.CreateGroup(bg, actor, &g); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddGroupMembers(bg, actor, "Sales", []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", GroupName: "Sales", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t).signin()
	plan := c.get("/apps/dropbox/plan").body
	shown := url.Values{"digest": {hidden(t, plan, "digest")}, "shown": {hidden(t, plan, "shown")}, "full": {""}}

	// A new change appears: shown again, marked, nothing applied.
	if err := e.st.AddGroupMembers(bg, actor, "Sales", []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	r := c.post("/apps/dropbox/plan", "/apps/dropbox/apply", cloneValues(shown))
	if r.status != http.StatusConflict || !strings.Contains(r.body, "1 new change(s)") || !strings.Contains(r.body, `class="op-create new"`) {
		t.Fatalf("apply with a new change: %d\n%s", r.status, r.body)
	}
	if _, ok := e.emu.Team(team).Member("alice@acme.example"); ok {
		t.Fatal("applied a plan with changes the admin was not shown")
	}

	// Only shown changes are gone (a worker made them): the rest is applied.
	plan = r.body
	shown = url.Values{"digest": {hidden(t, plan, "digest")}, "shown": {hidden(t, plan, "shown")}, "full": {""}}
	if err := e.st.RemoveGroupMembers(bg, actor, "Sales", []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	e.sync(t) // the worker creates alice
	r = c.post("/apps/dropbox/plan", "/apps/dropbox/apply", cloneValues(shown))
	if r.status != http.StatusSeeOther {
		t.Fatalf("apply after a worker made the shown changes: %d\n%s", r.status, r.body)
	}
	if body := c.get(r.location).body; !strings.Contains(body, "2 of the changes shown were already made by a worker") {
		t.Fatalf("apply does not say what a worker made:\n%s", body)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestReleaseHeldAndCancelRemoval: off-boardings the deletion guard holds are
// released from the plan page only with their count typed; a pending removal
// is cancelled from the user page.
func TestReleaseHeldAndCancelRemoval(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	seedSales(t, e, "alice", "bob", "carol")
	for _, who := range []string{"alice", "bob", "carol"} {
		e.emu.Team(team).Activate(who + "@acme.example")
	}
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(a *app.Instance) error {
		a.Settings.Guard.Percent, a.Settings.Guard.Min, a.Settings.Deactivation.RemoveAfter = 10, 1, "7d"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Leavers from outside the UI (unconfirmed): the guard holds two of them.
	for _, who := range []string{"alice", "bob"} {
		if _, err := e.st.UpdateUser(bg, actor, who, "user.deactivate", func(u *directory.User) error {
			u.Status = directory.StatusDeprovisioned
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := e.st.GetApp(bg, "dropbox")
	_, _ = e.ui.opt.Engine.Sync(bg, a, engine.SyncOptions{})
	c := e.client(t).signin()
	plan := c.get("/apps/dropbox/plan").body
	if !strings.Contains(plan, `id="held-count">2<`) || !strings.Contains(plan, `class="state s-held"`) {
		t.Fatalf("the plan does not show 2 held:\n%s", plan)
	}
	if r := c.post("/apps/dropbox/plan", "/apps/dropbox/release", url.Values{"typed": {"3"}}); !strings.Contains(c.get(r.location).body, "Nothing was released") {
		t.Fatal("released without the right count typed")
	}
	r := c.post("/apps/dropbox/plan", "/apps/dropbox/release", url.Values{"typed": {"2"}})
	if !strings.Contains(c.get(r.location).body, "Released 2 held") {
		t.Fatal("release with the count typed did not say so")
	}
	e.sync(t)
	user := c.get("/users/alice").body
	if !strings.Contains(user, "suspended; removal due on ") || !strings.Contains(user, "Cancel removal") {
		t.Fatalf("alice's page during her grace period:\n%s", user)
	}
	r = c.post("/users/alice", "/users/alice/keep", url.Values{"app": {"dropbox"}})
	if body := c.get(r.location).body; !strings.Contains(body, "Removal from dropbox cancelled") || !strings.Contains(body, "suspended; removal cancelled") {
		t.Fatalf("after cancelling the removal:\n%s", body)
	}
	// Leavers off-boarded under other settings than today's (no grace now):
	// the settings page offers to apply today's, with a confirmation.
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(a *app.Instance) error {
		a.Settings.Deactivation.RemoveAfter = ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if body := c.get("/apps/dropbox").body; !strings.Contains(body, `id="reapply"`) {
		t.Fatalf("no offer to apply today's settings to past leavers:\n%s", body)
	}
	r = c.post("/apps/dropbox", "/apps/dropbox/reapply", url.Values{})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="impact-count">2<`) || !strings.Contains(r.body, "/users/alice") || !strings.Contains(r.body, "/users/bob") {
		t.Fatalf("reapply did not show its impact first: %d\n%s", r.status, r.body)
	}
	r = c.post("/apps/dropbox", "/apps/dropbox/reapply", url.Values{"impact": {hidden(t, r.body, "impact")}, "typed": {"2"}})
	if body := c.get(r.location).body; !strings.Contains(body, "apply to 2 past leaver(s)") {
		t.Fatalf("after applying to past leavers:\n%s", body)
	}
}
