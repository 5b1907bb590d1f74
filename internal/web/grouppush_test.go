package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

func dropboxGroup(t *testing.T, e *env, name string) (emu.GroupSnapshot, bool) {
	t.Helper()
	for _, g := range e.emu.Team(team).Snapshot().Groups {
		if g.Name == name {
			return g, true
		}
	}
	return emu.GroupSnapshot{}, false
}

// The group push page pushes by name and by pattern, shows each pushed
// group's state, and unpushes: leaving the Dropbox groups at once,
// deleting them only once their count is typed.
func TestGroupPushPage(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		e.addApp(t, "dropbox", true)
		if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(a *app.Instance) error { a.Settings.Features.PushGroups = true; return nil }); err != nil {
			t.Fatal(err)
		}
		e.addUsers(t, "alice", "bob", "carol")
		for _, g := range []struct {
			name  string
			users []string
		}{{"Sales", []string{"alice", "bob"}}, {"eng-web", []string{"carol"}}, {"eng-ops", []string{"carol"}}} {
			if err := e.st.CreateGroup(bg, actor, &directory.Group{Name: g.name}); err != nil {
				t.Fatal(err)
			}
			if err := e.st.AddGroupMembers(bg, actor, g.name, g.users); err != nil {
				t.Fatal(err)
			}
		}
		c := e.client(t).signin()
		from := "/apps/dropbox/groups"
		for _, step := range []struct {
			name string
			form url.Values
			want string
		}{
			{"by name", url.Values{"by": {"group"}, "group": {"Sales"}}, "Pushing 1 group(s): Sales."},
			{"by pattern", url.Values{"by": {"pattern"}, "pattern": {"eng-*"}, "group": {"ignored"}}, "Pushing 2 group(s): eng-ops, eng-web."},
		} {
			r := c.post(from, "/apps/dropbox/groups/push", step.form)
			if r.status != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", step.name, r.status, r.body)
			}
			if body := c.get(r.location).body; !strings.Contains(body, step.want) {
				t.Fatalf("%s: page lacks %q", step.name, step.want)
			}
		}
		if r := c.post(from, "/apps/dropbox/groups/push", url.Values{"by": {"group"}, "group": {"Nobody"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Nobody") {
			t.Fatalf("pushing an unknown group: %d\n%s", r.status, r.body)
		}
		page := c.get(from).body
		for _, want := range []string{`data-group="Sales"`, "queued for the next sync", "pattern <code>eng-*</code>", `aria-label="Unpush Sales and delete its Dropbox groups"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("group push page lacks %q", want)
			}
		}
		if r := c.post("/", "/apps/dropbox/sync", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("sync: %d", r.status)
		}
		if g, ok := dropboxGroup(t, e, "Sales"); !ok || g.MemberCount != 2 {
			t.Fatalf("Sales in Dropbox after the sync: %+v %v", g, ok)
		}
		if _, ok := dropboxGroup(t, e, "eng-web"); !ok {
			t.Fatalf("eng-web not in Dropbox after the sync: %+v", e.emu.Team(team).Snapshot().Groups)
		}
		if page := c.get(from).body; !strings.Contains(page, "in step") {
			t.Fatal("the pushed groups are not shown in step after the sync")
		}

		// Unpush and leave: at once; the Dropbox group stays.
		r := c.post(from, "/apps/dropbox/groups/unpush", url.Values{"by": {"pattern"}, "pattern": {"eng-*"}})
		if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "left as they are") {
			t.Fatalf("unpush and leave: %d", r.status)
		}
		// Unpush and delete: a confirmation first, naming the group.
		del := url.Values{"by": {"group"}, "group": {"Sales"}, "delete_in_app": {"1"}}
		r = c.post(from, "/apps/dropbox/groups/unpush", del)
		if r.status != http.StatusOK || !strings.Contains(r.body, "would delete <span id=\"impact-count\">1</span>") || !strings.Contains(r.body, "<li>Sales</li>") {
			t.Fatalf("unpush and delete asks no confirmation: %d\n%s", r.status, r.body)
		}
		del.Set("typed", "2")
		if r = c.post(from, "/apps/dropbox/groups/unpush", del); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "type 1") {
			t.Fatalf("a wrong count: %d", r.status)
		}
		if _, ok := dropboxGroup(t, e, "Sales"); !ok {
			t.Fatal("Sales deleted without its confirmation")
		}
		del.Set("typed", "1")
		if r = c.post(from, "/apps/dropbox/groups/unpush", del); r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "are deleted") {
			t.Fatalf("confirmed unpush: %d", r.status)
		}
		if r := c.post("/", "/apps/dropbox/sync", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("sync: %d", r.status)
		}
		if _, ok := dropboxGroup(t, e, "Sales"); ok {
			t.Fatal("Sales still in Dropbox after the confirmed unpush and a sync")
		}
		if _, ok := dropboxGroup(t, e, "eng-web"); !ok {
			t.Fatal("eng-web was deleted although unpushed with leave")
		}
		if as, _ := e.st.ListAssignments(bg, storeAssign("Sales")); len(as) != 1 {
			t.Fatal("unpushing took Sales' assignment away")
		}
	})
}
