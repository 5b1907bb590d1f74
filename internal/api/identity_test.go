package api_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

type identity struct {
	ID          int64             `json:"id"`
	Username    string            `json:"username"`
	Name        string            `json:"name"`
	ExternalKey string            `json:"external_key"`
	Source      string            `json:"source"`
	Attributes  map[string]string `json:"attributes"`
}

const deptURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"

// Users and groups come back with their external key and source; a rename
// keeps the key; a client can set neither; lists narrow by source.
func TestIdentityInAPI(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			var u, got identity
			e.call("POST", "/api/v1/users", map[string]any{"username": "ann", "email": "ann@example.com",
				"attributes": map[string]string{deptURN: "Finance"}}, 201, &u)
			if !directory.ValidExternalKey(u.ExternalKey) || u.Source != "api" || u.Attributes[deptURN] != "Finance" {
				t.Fatalf("created %+v", u)
			}
			e.call("PATCH", "/api/v1/users/ann", map[string]any{"username": "ann.lee"}, 200, &got)
			if got.ExternalKey != u.ExternalKey || got.Source != "api" {
				t.Fatalf("renamed %+v, want key %s", got, u.ExternalKey)
			}
			var er apiErr
			for _, field := range []string{"external_key", "source"} {
				e.call("POST", "/api/v1/users", map[string]any{"username": "b", "email": "b@example.com", field: "x"}, 400, &er)
				e.call("PATCH", "/api/v1/users/ann.lee", map[string]any{field: "x"}, 400, &er)
				if !strings.Contains(er.Error.Message, "unknown field") {
					t.Fatalf("setting %s: %+v", field, er)
				}
				e.call("POST", "/api/v1/groups", map[string]any{"name": "G", field: "x"}, 400, &er)
			}

			var g identity
			e.call("POST", "/api/v1/groups", map[string]any{"name": "Sales"}, 201, &g)
			e.call("GET", "/api/v1/groups/sales", nil, 200, &got)
			if !directory.ValidExternalKey(g.ExternalKey) || g.Source != "api" || got.ExternalKey != g.ExternalKey {
				t.Fatalf("group created %+v, read %+v", g, got)
			}

			var users, groups list[identity]
			e.call("GET", "/api/v1/users?source=api", nil, 200, &users)
			e.call("GET", "/api/v1/groups?source=api", nil, 200, &groups)
			if len(users.Items) != 1 || users.Items[0].ExternalKey != u.ExternalKey || len(groups.Items) != 1 || groups.Items[0].ExternalKey != g.ExternalKey {
				t.Fatalf("api users %+v, groups %+v", users.Items, groups.Items)
			}
			e.call("GET", "/api/v1/users?source=ldap", nil, 200, &users)
			e.call("GET", "/api/v1/groups?source=ldap", nil, 200, &groups)
			if len(users.Items) != 0 || len(groups.Items) != 0 {
				t.Fatalf("ldap users %+v, groups %+v", users.Items, groups.Items)
			}
			e.call("GET", "/api/v1/users?source=No%20Such", nil, 400, &er)
			e.call("GET", "/api/v1/groups?source=No%20Such", nil, 400, &er)
		})
	}
}

// A CSV import owns its users as api, gives each its own key, and takes
// SCIM URN column headers as attribute names.
func TestCSVImportIdentity(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	var created map[string]int
	e.call("POST", "/api/v1/users/import", "username,email,"+deptURN+"\nc1,c1@example.com,Sales\nc2,c2@example.com,Legal\n", 201, &created)
	var users list[identity]
	e.call("GET", "/api/v1/users?source=api", nil, 200, &users)
	if created["created"] != 2 || len(users.Items) != 2 {
		t.Fatalf("created %v, api users %+v", created, users.Items)
	}
	a, b := users.Items[0], users.Items[1]
	if !directory.ValidExternalKey(a.ExternalKey) || !directory.ValidExternalKey(b.ExternalKey) || a.ExternalKey == b.ExternalKey ||
		a.Attributes[deptURN] != "Sales" || b.Attributes[deptURN] != "Legal" {
		t.Fatalf("imported %+v and %+v", a, b)
	}
}
