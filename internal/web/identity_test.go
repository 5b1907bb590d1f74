package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// The user and group pages show who owns the object and its external key;
// the form takes a SCIM URN attribute and saving keeps the key.
func TestPagesShowIdentity(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	c := e.client(t).signin()
	const dept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	r := c.post("/users/new", "/users", url.Values{"username": {"dana"}, "email": {"dana@acme.example"}, "status": {"active"},
		"attributes": {dept + "=Sales"}})
	if r.status != 303 {
		t.Fatalf("create: status %d\n%s", r.status, r.body)
	}
	u, err := e.st.GetUser(bg, "dana")
	if err != nil || u.Attributes[dept] != "Sales" {
		t.Fatalf("dana = %+v, %v", u, err)
	}
	page := c.get("/users/dana").body
	for _, want := range []string{`id="user-identity"`, "Source", ">api<", u.ExternalKey} {
		if !strings.Contains(page, want) {
			t.Fatalf("user page lacks %q\n%s", want, page)
		}
	}
	if r := c.post("/users/dana", "/users/dana", url.Values{"username": {"dana.k"}, "email": {"dana@acme.example"}, "attributes": {dept + "=Legal"}}); r.status != 303 {
		t.Fatalf("save: status %d\n%s", r.status, r.body)
	}
	if got, err := e.st.GetUserByExternalKey(bg, u.ExternalKey); err != nil || got.Username != "dana.k" || got.Attributes[dept] != "Legal" {
		t.Fatalf("after save: %+v, %v", got, err)
	}
	g := directory.Group{Name: "Sales"}
	if err := e.st.CreateGroup(bg, actor, &g); err != nil {
		t.Fatal(err)
	}
	page = c.get("/groups/Sales").body
	for _, want := range []string{`id="group-identity"`, ">api<", g.ExternalKey} {
		if !strings.Contains(page, want) {
			t.Fatalf("group page lacks %q\n%s", want, page)
		}
	}
}
