package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/engine"
)

// cli runs roster commands in-process against a real server on a SQLite file.
type cli struct {
	t     *testing.T
	addr  string
	token string
	dir   string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	db := filepath.Join(dir, "roster.db")
	t.Setenv("ROSTER_SECRET_KEY", "")
	c := &cli{t: t, dir: dir}
	out, errOut, code := c.exec(nil, "admin", "token", "create", "--name", "tester", "--database", db)
	if code != 0 || !strings.HasPrefix(out, "rst_") || !strings.Contains(errOut, "shown only now") {
		t.Fatalf("token create: %d %q %q", code, out, errOut)
	}
	c.token = strings.TrimSpace(out)
	if fi, err := os.Stat(filepath.Join(dir, "roster.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}
	st, box, err := (&dbFlags{database: db}).open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := newServices(st, box, log, engine.Config{})
	go func() { done <- serve(ctx, log, svc, "127.0.0.1:0", ready, nil) }()
	c.addr = "http://" + <-ready
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	})
	return c
}

func (c *cli) exec(stdin []byte, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, bytes.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// ok runs a client command and fails the test unless it exits 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.exec(nil, append([]string{"--addr", c.addr, "--token", c.token}, args...)...)
	if code != 0 {
		c.t.Fatalf("roster %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fails runs a client command that must exit with code and mention want.
func (c *cli) fails(code int, want string, args ...string) {
	c.t.Helper()
	_, errOut, got := c.exec(nil, append([]string{"--addr", c.addr, "--token", c.token}, args...)...)
	if got != code || !strings.Contains(errOut, want) {
		c.t.Fatalf("roster %s: exit %d (want %d), stderr %q (want %q)", strings.Join(args, " "), got, code, errOut, want)
	}
}

func TestCLIUsers(t *testing.T) {
	c := newCLI(t)
	out := c.ok("users", "add", "ann@corp.example", "--email", "ann@corp.example", "--first-name", "Ann", "--last-name", "Lee", "--attr", "department=Sales")
	if !strings.Contains(out, "Status:") || !strings.Contains(out, "active") || !strings.Contains(out, "Sales") {
		t.Fatalf("add output: %s", out)
	}
	c.fails(exitConflict, "already taken", "users", "add", "ANN@corp.example", "--email", "x@corp.example")
	c.fails(exitUsage, "not a valid address", "users", "add", "bob", "--email", "bob")
	c.fails(exitNotFound, "not found", "users", "get", "nobody")
	c.fails(exitUsage, "nothing to change", "users", "update", "ann@corp.example")
	c.ok("users", "update", "ann@corp.example", "--last-name", "Lee-Smith", "--unset-attr", "department")
	var u userJSON
	if err := json.Unmarshal([]byte(c.ok("users", "get", "ann@corp.example", "-o", "json")), &u); err != nil {
		t.Fatal(err)
	}
	if u.LastName != "Lee-Smith" || len(u.Attributes) != 0 {
		t.Fatalf("after update: %+v", u)
	}
	c.ok("users", "suspend", "ann@corp.example")
	c.fails(exitConflict, "cannot suspend", "users", "suspend", "ann@corp.example")
	c.fails(exitConflict, "deactivate", "users", "delete", "ann@corp.example")
	c.ok("users", "deactivate", "ann@corp.example")
	c.ok("users", "delete", "ann@corp.example")
	c.fails(exitNotFound, "not found", "users", "get", "ann@corp.example")

	csvPath := filepath.Join(c.dir, "people.csv")
	bad := "username,email,first_name\nok,ok@corp.example,Ok\nbad,bad-address,Bad\n"
	if err := os.WriteFile(csvPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(exitUsage, "line 3", "users", "import-csv", csvPath)
	if out := c.ok("users", "list"); strings.Contains(out, "ok@corp.example") {
		t.Fatalf("a bad CSV was half loaded: %s", out)
	}
	good := "username,email,first_name,last_name,status\nc1,c1@corp.example,C,One,staged\nc2,c2@corp.example,C,Two,active\n"
	if err := os.WriteFile(csvPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("users", "import-csv", csvPath); !strings.Contains(out, "2") {
		t.Fatalf("import output: %s", out)
	}
	var list struct{ Items []userJSON }
	if err := json.Unmarshal([]byte(c.ok("users", "list", "--status", "staged", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Username != "c1" {
		t.Fatalf("staged users: %+v", list.Items)
	}
	if out := c.ok("log", "--target", "ann@corp.example"); !strings.Contains(out, "user.delete") || !strings.Contains(out, "token:tester") {
		t.Fatalf("log: %s", out)
	}
}

func TestCLIAppsGroupsAssign(t *testing.T) {
	c := newCLI(t)
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("sl.TOPSECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.ok("apps", "add", "dropbox", "--base-url", "http://127.0.0.1:1", "--dropbox-token-file", tokFile, "provisioning=true", "deactivation.type=suspend")
	if strings.Contains(out, "TOPSECRET") || !strings.Contains(out, "set (encrypted)") || !strings.Contains(out, "suspend") {
		t.Fatalf("apps add: %s", out)
	}
	c.fails(exitUsage, "needs both a destination member and an admin-notification account",
		"apps", "set", "dropbox", "deactivation.type=remove", "deactivation.file_management=transfer")
	c.fails(exitUsage, `file management "bogus" is not one of manage_in_dropbox, transfer`,
		"apps", "set", "dropbox", "deactivation.file_management=bogus")
	c.fails(exitUsage, `unknown setting "deactivation.wipe"`, "apps", "set", "dropbox", "deactivation.wipe=true")
	// Transfer accounts are checked with Dropbox when saved; an unreachable
	// Dropbox means the setting is refused, not saved unchecked.
	c.fails(exitFailure, "cannot reach Dropbox", "apps", "set", "dropbox", "deactivation.type=remove", "deactivation.file_management=transfer",
		"deactivation.transfer_dest_email=keeper@corp.example", "deactivation.transfer_admin_email=it@corp.example")
	if out := c.ok("apps", "show", "dropbox"); strings.Contains(out, "keeper@corp.example") {
		t.Fatalf("unchecked transfer settings were saved: %s", out)
	}
	for _, args := range [][]string{{"apps", "list"}, {"apps", "show", "dropbox", "-o", "json"}, {"log", "-o", "json"}} {
		if out := c.ok(args...); strings.Contains(out, "TOPSECRET") {
			t.Fatalf("%v shows the Dropbox token", args)
		}
	}
	c.ok("users", "add", "dee", "--email", "dee@corp.example")
	c.ok("groups", "add", "Sales", "--description", "sellers")
	c.fails(exitNotFound, "not found", "groups", "members", "add", "Sales", "dee", "ghost")
	c.ok("groups", "members", "add", "Sales", "dee")
	if out := c.ok("groups", "members", "list", "sales"); !strings.Contains(out, "dee@corp.example") {
		t.Fatalf("members: %s", out)
	}
	c.fails(exitUsage, "exactly one", "assign", "dropbox")
	c.fails(exitUsage, "not one of", "assign", "dropbox", "--group", "Sales", "--role", "owner")
	if out := c.ok("assign", "dropbox", "--group", "Sales", "--role", "team_admin"); !strings.Contains(out, "team_admin") {
		t.Fatalf("assign: %s", out)
	}
	c.ok("unassign", "dropbox", "--group", "Sales")
	c.fails(exitNotFound, "not assigned", "unassign", "dropbox", "--group", "Sales")
}

func TestCLIWithoutServer(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--addr", "http://127.0.0.1:1", "--token", "rst_x", "users", "list"}, nil, &out, &errOut)
	if code != exitFailure || !strings.Contains(errOut.String(), "cannot reach Roster") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	code = run(context.Background(), []string{"--addr", "http://127.0.0.1:1", "--token", "rst_x", "-o", "yaml", "users", "list"}, nil, &out, &errOut)
	if code != exitUsage {
		t.Fatalf("bad --output: exit %d", code)
	}
}

// The bootstrap command refuses a world-readable key file rather than using it.
func TestCLIRefusesOpenKeyFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ROSTER_SECRET_KEY", "")
	if err := os.WriteFile(filepath.Join(dir, "roster.key"), bytes.Repeat([]byte("a"), 64), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"admin", "token", "create", "--database", filepath.Join(dir, "roster.db")}, nil, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "chmod 600") || out.Len() != 0 {
		t.Fatalf("exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
}
