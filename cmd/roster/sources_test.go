package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCLISources(t *testing.T) {
	c := newCLI(t)
	var made sourceTokenJSON
	if err := json.Unmarshal([]byte(c.ok("-o", "json", "sources", "add", "scim", "okta")), &made); err != nil {
		t.Fatal(err)
	}
	if made.Name != "okta" || made.BaseURL != c.addr+"/scim/v2" || !strings.HasPrefix(made.Token, "rss_") {
		t.Fatalf("add -o json = %+v", made)
	}
	// The json answer holds exactly the three fields a script needs.
	var raw map[string]any
	_ = json.Unmarshal([]byte(c.ok("-o", "json", "sources", "rotate-token", "okta")), &raw)
	if len(raw) != 3 || raw["token"] == made.Token {
		t.Fatalf("rotate-token -o json = %v", raw)
	}
	out := c.ok("sources", "add", "scim", "entra", "--deactivate-as", "suspend")
	if !strings.Contains(out, "SCIM base URL: "+c.addr+"/scim/v2") || !strings.Contains(out, "Bearer token:  rss_") {
		t.Fatalf("add = %q", out)
	}
	if out := c.ok("sources", "get", "entra"); !strings.Contains(out, "suspend") || strings.Contains(out, "rss_") {
		t.Fatalf("get = %q", out)
	}
	c.ok("sources", "set", "okta", "--adopt=true")
	if out := c.ok("sources", "list"); !strings.Contains(out, "okta") || !strings.Contains(out, "entra") {
		t.Fatalf("list = %q", out)
	}
	c.fails(4, "already taken", "sources", "add", "scim", "okta")
	c.fails(2, "not one of scim", "sources", "add", "nope", "x")
	c.fails(2, "deactivate_as", "sources", "set", "okta", "--deactivate-as", "delete")
	if out := c.ok("sources", "remove", "okta"); !strings.Contains(out, "removed source okta") {
		t.Fatalf("remove = %q", out)
	}
	c.fails(3, "not found", "sources", "get", "okta")
}
