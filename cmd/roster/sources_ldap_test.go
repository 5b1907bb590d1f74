package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/ldapsource/ldaptest"
)

func TestCLILDAPSource(t *testing.T) {
	seed := ""
	for i, u := range []string{"ann", "bob", "cid", "dan", "eve", "fay"} {
		seed += fmt.Sprintf("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: S\ngivenName: %s\nmail: %s@corp.example\nmodifyTimestamp: 2025010100000%dZ\n\n",
			u, ldaptest.BaseDN, u, u, u, u, i)
	}
	seed += "dn: cn=eng,ou=groups," + ldaptest.BaseDN + "\nobjectClass: groupOfNames\ncn: eng\nmember: uid=ann,ou=people," + ldaptest.BaseDN + "\nmodifyTimestamp: 20240101000000Z\n\n"
	s := ldaptest.StartT(t, ldaptest.Options{SizeLimit: 2, Seed: seed})
	c := newCLI(t)
	pw, ca := filepath.Join(c.dir, "bind.pw"), filepath.Join(c.dir, "ca.pem")
	if err := os.WriteFile(pw, []byte(ldaptest.BindPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, s.CA, 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("sources", "add", "ldap", "corp", "--url", s.URL, "--bind-dn", ldaptest.BindDN, "--bind-password-file", pw,
		"--base-dn", ldaptest.BaseDN, "--start-tls", "--ca-file", ca, "--every", "15m", "--page-size", "2")
	get := c.ok("sources", "get", "corp")
	if !strings.Contains(get, "set (sealed)") || strings.Contains(get, ldaptest.BindPassword) || !strings.Contains(get, `"every":"15m"`) {
		t.Fatalf("get = %q", get)
	}
	out := c.ok("sources", "sync", "corp", "--plan")
	if !strings.Contains(out, "Plan only, nothing changed: create 6, group.create 1, members.add 1") || !strings.Contains(out, "create          ann") {
		t.Fatalf("sync --plan = %q", out)
	}
	if users := c.ok("users", "list"); strings.Contains(users, "ann") {
		t.Fatalf("--plan created users: %q", users)
	}
	if out := c.ok("sources", "sync", "corp"); !strings.Contains(out, "Applied 8 changes") {
		t.Fatalf("sync = %q", out)
	}
	var res sourceSyncJSON
	if err := json.Unmarshal([]byte(c.ok("-o", "json", "sources", "sync", "corp", "--incremental")), &res); err != nil || res.Full || res.Applied != 0 {
		t.Fatalf("incremental: %+v %v", res, err)
	}
	// A filter that matches nobody: held, with the way out named.
	c.ok("sources", "set", "corp", "--user-filter", "(uid=nobody)")
	c.fails(4, "--allow-deletes", "sources", "sync", "corp")
	if users := c.ok("users", "list", "--status", "deprovisioned"); strings.Contains(users, "ann") {
		t.Fatalf("a held sync deactivated: %q", users)
	}
	c.fails(2, "only apply to ldap sources", "sources", "add", "scim", "okta", "--url", "ldap://x")
	c.fails(2, "user_filter", "sources", "set", "corp", "--user-filter", "(uid=")
	if out := c.ok("sources", "sync", "corp", "--allow-deletes"); !strings.Contains(out, "gone 6") {
		t.Fatalf("allow-deletes = %q", out)
	}
	s.Kill()
	c.fails(1, "nothing was applied", "sources", "sync", "corp")
}
