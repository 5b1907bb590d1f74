package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A settings change reads in the log as the keys that changed, before →
// after, under a plain action name; never as a dump of the whole settings.
func TestLogShowsSettingChanges(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", false)
	if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(a *app.Instance) error {
		a.Settings.Guard.Percent = 35
		a.Settings.Import.AppSourced = []string{"first_name"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t).signin()
	body := c.get("/log?app=dropbox&action=app.update").body
	for _, want := range []string{`title="app.update">app settings changed</span>`,
		`<code>deletion_guard.percent</code>: <span class="before">`, `→ <span class="after">35</span>`,
		`<code>import.app_sourced</code>: <span class="before">(none)</span> → <span class="after">[first_name]</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(body, "map[") || strings.Contains(body, "<code>provisioning</code>") {
		t.Errorf("the log dumps unchanged settings:\n%s", body)
	}
	if n := strings.Count(body, `<span class="before">`); n != 2 {
		t.Errorf("%d changed keys shown, want 2", n)
	}
}

// Tasks say what went wrong and how to fix it, are counted in the
// navigation, and Retry all queues them all again.
func TestTasksExplainAndRetryAll(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		e.addApp(t, "dropbox", true)
		one := 1
		if err := e.emu.Team(team).Configure(emu.TeamSettings{Licenses: &one}); err != nil {
			t.Fatal(err)
		}
		e.addUsers(t, "alice", "bob")
		for _, u := range []string{"alice", "bob"} {
			if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", Username: u, Role: "member"}); err != nil {
				t.Fatal(err)
			}
		}
		e.sync(t)
		c := e.client(t).signin()
		body := c.get("/tasks").body
		for _, want := range []string{"Out of licences", "Add seats (or free some) in the Dropbox admin console, then Retry.",
			`aria-label="Retry alice in dropbox"`, `aria-label="Dismiss bob in dropbox"`, "Retry all (2)", `<span class="badge" aria-label="2 open">2</span>`} {
			if !strings.Contains(body, want) {
				t.Errorf("tasks page lacks %q", want)
			}
		}
		if !strings.Contains(c.get("/users").body, `aria-label="2 open"`) {
			t.Error("the navigation of other pages does not count the tasks")
		}
		r := c.post("/tasks", "/tasks/retry-all", url.Values{})
		if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "2 task(s) queued again") {
			t.Fatalf("retry all: %d", r.status)
		}
		a, _ := e.st.GetApp(bg, "dropbox")
		if tasks, _ := e.st.ListTasks(bg, a.ID); len(tasks) != 0 {
			t.Fatalf("tasks after retry all: %+v", tasks)
		}
	})
}

func TestExplainTask(t *testing.T) {
	kinds := connectors.Registry()
	for _, tc := range []struct{ err, want string }{
		{"add_members: permanent (team_license_limit): al@x", "Out of licences"},
		{"set_profile: auth (expired_access_token)", "Reconnect the app"},
		{"create_group: conflict (group_name_already_used)", "link existing"},
		{"remove: permanent (transfer_dest_user_not_found)", "Off-boarding"},
		{"something new", "It failed 3 times"},
	} {
		h := explainTask(kinds, app.KindDropbox, tc.err, 3)
		if !strings.Contains(h.Why+" "+h.Fix, tc.want) {
			t.Errorf("%q: %+v, want %q", tc.err, h, tc.want)
		}
	}
	if h := explainTask(kinds, "no-such-kind", "add_members: permanent (team_license_limit)", 1); h.Why != "The app refused the change for good." {
		t.Errorf("a kind that is not known explains: %+v", h)
	}
}

// Every page has a skip link; the user page lists the user's groups;
// the OAuth steps fold away once the app is connected; repeated buttons
// say whose they are.
func TestAccessibleLayout(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", false)
	if err := e.st.CreateApp(bg, actor, &app.Instance{Name: "fresh", Kind: app.KindDropbox, BaseURL: e.emuURL, Settings: app.DefaultSettings()}); err != nil {
		t.Fatal(err)
	}
	e.addUsers(t, "alice")
	for _, g := range []string{"Sales", "Support"} {
		if err := e.st.CreateGroup(bg, actor, &directory.Group{Name: g}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.AddGroupMembers(bg, actor, g, []string{"alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", Username: "alice", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t).signin()
	for _, p := range []string{"/", "/users", "/users/alice", "/groups/Sales", "/apps/dropbox", "/tasks", "/log"} {
		if body := c.get(p).body; !strings.Contains(body, `<a class="skip" href="#main">Skip to content</a>`) || !strings.Contains(body, `<main id="main"`) {
			t.Errorf("%s has no skip link to its main content", p)
		}
	}
	user := c.get("/users/alice").body
	if !regexp.MustCompile(`id="user-groups">[\s\S]*href="/groups/Sales">Sales</a>[\s\S]*href="/groups/Support">Support</a>`).MatchString(user) {
		t.Error("the user page does not list alice's groups")
	}
	if !strings.Contains(user, `aria-label="Unassign alice from dropbox"`) {
		t.Error("the user's Unassign button does not say what it unassigns")
	}
	if !strings.Contains(c.get("/groups/Sales").body, `aria-label="Remove alice from Sales"`) {
		t.Error("a group's Remove buttons do not say whom they remove")
	}
	if body := c.get("/apps/dropbox").body; !strings.Contains(body, `<details class="oauth-steps" id="oauth-steps" >`) {
		t.Error("the OAuth steps are unfolded although the app is connected")
	}
	if body := c.get("/apps/fresh").body; !strings.Contains(body, `<details class="oauth-steps" id="oauth-steps" open>`) {
		t.Error("the OAuth steps are folded although the app is not connected")
	}
	// The app's Assignments tab lists and assigns.
	as := c.get("/apps/dropbox/assignments").body
	if !strings.Contains(as, `aria-label="Unassign alice from dropbox"`) || !strings.Contains(as, "Users assigned directly (1)") {
		t.Errorf("assignments tab:\n%s", as)
	}
	r := c.post("/apps/dropbox/assignments", "/apps/dropbox/assignments", url.Values{"kind": {"group"}, "who": {"Support"}, "role": {"team_admin"}})
	if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "group Support assigned to dropbox as team_admin") {
		t.Fatalf("assign from the app: %d", r.status)
	}
	if r := c.post("/apps/dropbox/assignments", "/apps/dropbox/assignments", url.Values{"kind": {"group"}, "who": {"Nobody"}, "role": {"member"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="Nobody"`) {
		t.Fatalf("assigning an unknown group: %d", r.status)
	}
}

func TestLogDetailLines(t *testing.T) {
	long := strings.Repeat("é", 200)
	for _, tc := range []struct {
		name   string
		action string
		detail map[string]any
		want   []string // key: value, or key: before → after
	}{
		{"settings: only what changed", "app.update", map[string]any{
			"before": map[string]any{"provisioning": false, "deletion_guard": map[string]any{"percent": 20.0, "min": 10.0}},
			"after":  map[string]any{"provisioning": true, "deletion_guard": map[string]any{"percent": 20.0, "min": 5.0}}},
			[]string{"deletion_guard.min: 10 → 5", "provisioning: false → true"}},
		{"an update's field pairs", "user.update", map[string]any{"first_name": []any{"Al", "Alan"}, "email": []any{"", "a@x"}},
			[]string{"email: (empty) → a@x", "first_name: Al → Alan"}},
		{"a list of two is no change elsewhere", "app_group.add_members", map[string]any{"members": []any{"m1", "m2"}},
			[]string{"members: [m1, m2]"}},
		{"nested maps flatten", "app.create", map[string]any{"base_url": map[string]any{"before": "a", "after": "b"}, "kind": "dropbox"},
			[]string{"base_url: a → b", "kind: dropbox"}},
		{"long values are cut", "import.run", map[string]any{"note": long},
			[]string{"note: " + strings.Repeat("é", detailValueMax) + "…"}},
	} {
		var got []string
		for _, l := range entryLines(audit.Entry{Action: tc.action, Detail: tc.detail}) {
			if l.Changed {
				got = append(got, l.Key+": "+l.Before+" → "+l.After)
			} else {
				got = append(got, l.Key+": "+l.Value)
			}
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
