package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// tty stands in for a terminal on standard input.
type tty struct{ *bytes.Reader }

func (tty) IsTerminal() bool { return true }

// term runs a client command with answer typed on a terminal.
func (c *cli) term(answer string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--addr", c.addr, "--token", c.token}, args...), tty{bytes.NewReader([]byte(answer))}, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestCLIConfirmsOffboarding: an action the API answers with
// confirmation_required prints the impact, asks on a terminal (or takes
// --yes) and repeats the request confirmed; without either it exits 4.
func TestCLIConfirmsOffboarding(t *testing.T) {
	c := newCLI(t)
	team, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile, "provisioning=true")
	c.ok("groups", "add", "eng")
	for _, u := range []string{"ann", "bo", "cy"} {
		c.ok("users", "add", u, "--email", u+"@corp.example")
		c.ok("groups", "members", "add", "eng", u)
	}
	c.ok("assign", "dbx", "--group", "eng")
	c.ok("sync", "--app", "dbx")
	for _, u := range []string{"ann", "bo", "cy"} {
		team.Team("acme").Activate(u + "@corp.example")
	}

	// No terminal, no --yes: the impact, exit 4, nothing changed.
	_, errOut, code := c.exec(nil, "--addr", c.addr, "--token", c.token, "unassign", "dbx", "--group", "eng")
	if code != exitConflict || !strings.Contains(errOut, "APP  USER  ACTION") || !strings.Contains(errOut, "off-board 3 account(s) in dbx, 3 of them irreversibly") || !strings.Contains(errOut, "--yes") {
		t.Fatalf("unassign without a terminal: exit %d\n%s", code, errOut)
	}
	// A wrong answer on a terminal changes nothing either.
	if _, errOut, code := c.term("eng-typo\n", "unassign", "dbx", "--group", "eng"); code != exitConflict || !strings.Contains(errOut, "Type eng to confirm: ") || !strings.Contains(errOut, "not confirmed") {
		t.Fatalf("unassign with a wrong answer: exit %d\n%s", code, errOut)
	}
	// A reversible impact asks yes or no.
	if _, errOut, code := c.term("y\n", "users", "suspend", "ann"); code != 0 || !strings.Contains(errOut, "Proceed? [y/N]") || !strings.Contains(errOut, "ann   suspend") {
		t.Fatalf("suspend on a terminal: exit %d\n%s", code, errOut)
	}
	c.ok("users", "unsuspend", "ann")
	// Removing one member types the count.
	if out, errOut, code := c.term("1\n", "groups", "members", "remove", "eng", "bo"); code != 0 || !strings.Contains(errOut, "Type 1 to confirm: ") || !strings.Contains(out, "Members:") {
		t.Fatalf("remove member on a terminal: exit %d\n%s%s", code, out, errOut)
	}
	// --yes confirms for a script; the impact is still printed. bo is
	// already leaving, so only ann and cy remain.
	_, errOut, code = c.exec(nil, "--addr", c.addr, "--token", c.token, "unassign", "dbx", "--group", "eng", "--yes")
	if code != 0 || !strings.Contains(errOut, "off-board 2 account(s)") {
		t.Fatalf("unassign --yes: exit %d\n%s", code, errOut)
	}
	c.fails(exitNotFound, "not assigned", "unassign", "dbx", "--group", "eng", "--yes")
	if out := c.ok("apps", "offboardings", "dbx"); strings.Count(out, "token:tester") != 3 {
		t.Fatalf("confirmations recorded:\n%s", out)
	}
}
