package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The CLI shows and prints a user's and group's source and external key,
// and lists by source.
func TestCLIIdentity(t *testing.T) {
	c := newCLI(t)
	const dept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	out := c.ok("users", "add", "ann@corp.example", "--email", "ann@corp.example", "--attr", dept+"=Sales")
	var u userJSON
	if err := json.Unmarshal([]byte(c.ok("users", "get", "ann@corp.example", "-o", "json")), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.ExternalKey) != 36 || u.Source != "api" || u.Attributes[dept] != "Sales" {
		t.Fatalf("user JSON: %+v", u)
	}
	for _, want := range []string{"Source:", "api", "External key:", u.ExternalKey} {
		if !strings.Contains(out, want) {
			t.Fatalf("add output lacks %q: %s", want, out)
		}
	}
	var list struct{ Items []userJSON }
	for src, n := range map[string]int{"api": 1, "ldap": 0} {
		if err := json.Unmarshal([]byte(c.ok("users", "list", "--source", src, "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != n {
			t.Fatalf("users of source %s: %+v", src, list.Items)
		}
	}
	out = c.ok("groups", "add", "Sales")
	var g groupJSON
	if err := json.Unmarshal([]byte(c.ok("groups", "get", "Sales", "-o", "json")), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.ExternalKey) != 36 || g.Source != "api" || !strings.Contains(out, g.ExternalKey) {
		t.Fatalf("group JSON %+v, add output: %s", g, out)
	}
	var groups struct{ Items []groupJSON }
	if err := json.Unmarshal([]byte(c.ok("groups", "list", "--source", "scim", "-o", "json")), &groups); err != nil || len(groups.Items) != 0 {
		t.Fatalf("scim groups: %+v, %v", groups.Items, err)
	}
}
