package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	e.addUsers(t, "alice")
	g := directory.Group{Name: "Sales"}
	if err := e.st.CreateGroup(bg, actor, &g); err != nil {
		t.Fatal(err)
	}
	c := e.client(t).signin()
	for _, rt := range routes() {
		if rt.method != "GET" || rt.pattern == "/oauth/callback" || rt.pattern == "/jobs/{id}" { // a job page is tested with its job
			continue
		}
		path := strings.Replace(concrete(rt.pattern), "/groups/dropbox", "/groups/Sales", 1)
		r := c.get(path)
		if r.status != http.StatusOK && !(rt.pattern == "/signin" && r.status == http.StatusSeeOther) {
			t.Errorf("GET %s: %d\n%s", path, r.status, r.body)
		}
	}
}

func TestUsersAndGroups(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		e.addApp(t, "dropbox", false)
		c := e.client(t).signin()
		steps := []struct {
			name, from, path string
			form             url.Values
			status           int
			page             string // expected on the page that follows (or the refusal)
		}{
			{"create user", "/users/new", "/users", url.Values{"username": {"dana"}, "email": {"dana@acme.example"}, "first_name": {"Dana"}, "last_name": {"Scully"}, "attributes": {"department=Sales\ncost_center = 42"}, "status": {"active"}}, 303, "User dana created."},
			{"bad email keeps the form", "/users/new", "/users", url.Values{"username": {"fox"}, "email": {"not-an-email"}, "first_name": {"Fox"}, "status": {"active"}}, 422, `value="Fox"`},
			{"bad attributes line", "/users/new", "/users", url.Values{"username": {"fox"}, "email": {"fox@acme.example"}, "attributes": {"oops"}, "status": {"active"}}, 422, "attributes line 1"},
			{"duplicate", "/users/new", "/users", url.Values{"username": {"DANA"}, "email": {"x@acme.example"}, "status": {"active"}}, 422, "already taken"},
			{"edit", "/users/dana", "/users/dana", url.Values{"username": {"dana"}, "email": {"dana@acme.example"}, "first_name": {"Dana K."}, "last_name": {"Scully"}, "attributes": {"cost_center=42"}}, 303, "Saved."},
			{"suspend", "/users/dana", "/users/dana/status/suspend", url.Values{}, 303, "suspend done"},
			{"suspend twice", "/users/dana", "/users/dana/status/suspend", url.Values{}, 303, "cannot suspend a user who is suspended"},
			{"create group", "/groups", "/groups", url.Values{"name": {"Sales"}, "description": {"sellers"}}, 303, "Group Sales created."},
			{"add members", "/groups/Sales", "/groups/Sales/members", url.Values{"users": {"dana"}}, 303, "Added 1 member(s)."},
			{"add unknown member keeps input", "/groups/Sales", "/groups/Sales/members", url.Values{"users": {"dana, ghost"}}, 422, "dana, ghost"},
			{"assign group", "/groups/Sales", "/groups/Sales/assign", url.Values{"app": {"dropbox"}, "role": {"support_admin"}}, 303, "assigned to dropbox as support_admin"},
			{"assign bad role", "/groups/Sales", "/groups/Sales/assign", url.Values{"app": {"dropbox"}, "role": {"owner"}}, 303, "role"},
			{"delete without confirm", "/groups/Sales", "/groups/Sales/delete", url.Values{"confirm": {"sales"}}, 303, "type its name exactly"},
		}
		for _, s := range steps {
			r := c.post(s.from, s.path, s.form)
			if r.status != s.status {
				t.Fatalf("%s: status %d, want %d\n%s", s.name, r.status, s.status, r.body)
			}
			body := r.body
			if r.status == http.StatusSeeOther {
				body = c.get(r.location).body
			}
			if !strings.Contains(body, s.page) {
				t.Fatalf("%s: page lacks %q\n%s", s.name, s.page, body)
			}
		}
		u, err := e.st.GetUser(bg, "dana")
		if err != nil || u.FirstName != "Dana K." || u.Status != directory.StatusSuspended || u.Attributes["cost_center"] != "42" {
			t.Fatalf("dana = %+v, %v", u, err)
		}
		if _, err := e.st.GetUser(bg, "fox"); err == nil {
			t.Fatal("a refused form created fox")
		}
		as, _ := e.st.ListAssignments(bg, storeAssign("Sales"))
		if len(as) != 1 || as[0].Role != "support_admin" {
			t.Fatalf("assignments = %+v", as)
		}
		if r := c.get("/users?q=scully"); !strings.Contains(r.body, "/users/dana") {
			t.Fatal("search does not find dana by last name")
		}
		if r := c.get("/users?status=active"); strings.Contains(r.body, "/users/dana") {
			t.Fatal("status filter shows a suspended user as active")
		}
	})
}
