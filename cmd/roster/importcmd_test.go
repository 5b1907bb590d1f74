package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// TestCLIImport drives the import review from the command line against a
// served Roster and an emulated team.
func TestCLIImport(t *testing.T) {
	c := newCLI(t)
	srvEmu, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
	if _, err := srvEmu.Team("acme").Seed([]emu.SeedMember{
		{Email: "ann@corp.example", GivenName: "Ann", Surname: "Lee", Status: "active"},
		{Email: "robert@home.example", GivenName: "Bob", Surname: "Stone"},
		{Email: "mono@corp.example", GivenName: "Mono"},
	}); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile, "import.auto_confirm_exact=true")
	c.ok("users", "add", "ann", "--email", "ann@corp.example", "--first-name", "Ann", "--last-name", "Lee")
	c.ok("users", "add", "bob", "--email", "bob@corp.example", "--first-name", "Bob", "--last-name", "Stone")

	if out := c.ok("import", "run", "dbx", "--plan"); !strings.Contains(out, "Would confirm:") || !strings.Contains(out, "mono@corp.example: cannot become a new directory user") {
		t.Fatalf("plan: %s", out)
	}
	var res struct{ Members, Confirmed, Partial int }
	if err := json.Unmarshal([]byte(c.ok("import", "run", "dbx", "-o", "json")), &res); err != nil || res.Members != 4 || res.Confirmed != 1 || res.Partial != 1 {
		t.Fatalf("run: %+v %v", res, err)
	}
	out := c.ok("import", "list", "dbx", "--state", "matched")
	if !strings.Contains(out, "robert@home.example") || !strings.Contains(out, "partial") || !strings.Contains(out, "bob") || strings.Contains(out, "ann@") {
		t.Fatalf("list matched: %s", out)
	}
	var l struct{ Items []appUserJSON }
	if err := json.Unmarshal([]byte(c.ok("import", "list", "dbx", "--state", "unmatched", "-o", "json")), &l); err != nil || len(l.Items) != 2 {
		t.Fatalf("list unmatched: %+v %v", l, err)
	}
	c.fails(exitUsage, "not one of", "import", "list", "dbx", "--state", "lost")
	c.fails(exitUsage, "no last name", "import", "confirm", "dbx", "robert@home.example", "mono@corp.example")
	c.fails(exitNotFound, "no app user", "import", "confirm", "dbx", "ghost@corp.example")
	if out := c.ok("import", "confirm", "dbx", "robert@home.example"); !strings.Contains(out, "Linked:") || !strings.Contains(out, "1") {
		t.Fatalf("confirm: %s", out)
	}
	c.ok("import", "ignore", "dbx", "mono@corp.example")
	c.ok("users", "add", "itadmin", "--email", "itadmin@corp.example")
	var id string
	for _, au := range l.Items {
		if au.Email == "it@corp.example" {
			id = strconv.FormatInt(au.ID, 10)
		}
	}
	if out := c.ok("import", "link", "dbx", id, "itadmin"); !strings.Contains(out, "itadmin") || !strings.Contains(out, "confirmed") {
		t.Fatalf("link: %s", out)
	}
	c.fails(exitConflict, "already linked", "import", "link", "dbx", "it@corp.example", "ann")
	if out := c.ok("import", "list", "dbx", "--state", "ignored"); !strings.Contains(out, "mono@corp.example") {
		t.Fatalf("ignored: %s", out)
	}
	if w := len(srvEmu.Team("acme").Snapshot().Welcome); w != 0 || srvEmu.Calls()["team/members/add_v2"] != 0 {
		t.Fatalf("the review reached Dropbox: %d welcome emails, %v", w, srvEmu.Calls())
	}
}
