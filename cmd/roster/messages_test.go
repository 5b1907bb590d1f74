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

// rawWords are internal words that must never reach an admin.
var rawWords = []string{"json:", "Go struct", "constraint", "name_key", "invalid: invalid", `{"error"`, "(2067)", "error: invalid:", "error: conflict:"}

// TestCLIMessagesAndExitCodes: every exit code the README documents, each
// with a sentence that names the field, the value and what is allowed.
func TestCLIMessagesAndExitCodes(t *testing.T) {
	c := newCLI(t)
	c.ok("apps", "add", "dbx", "--base-url", "http://127.0.0.1:1")
	c.ok("groups", "add", "Sales")
	c.ok("users", "add", "ann", "--email", "ann@corp.example")
	people := filepath.Join(c.dir, "people.csv")
	if err := os.WriteFile(people, []byte("username,email\nbob,bob@corp.example\ncy,cy@corp.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("users", "import-csv", people)
	noFolder := filepath.Join(c.dir, "nonexistent", "dir", "x.db")
	authed := func(args ...string) []string { return append([]string{"--addr", c.addr, "--token", c.token}, args...) }
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // all in stdout+stderr
		not  []string // none of them, beside rawWords
	}{
		{"ok", authed("users", "get", "ann"), 0, []string{"ann@corp.example"}, nil},
		{"server unreachable", []string{"--addr", "http://127.0.0.1:1", "--token", "rst_x", "users", "list"}, exitFailure, []string{"cannot reach Roster"}, nil},
		{"unknown command", []string{"frobnicate"}, exitUsage, []string{"unknown command"}, nil},
		{"bool setting as text", authed("apps", "set", "dbx", "provisioning=yes"), exitUsage,
			[]string{`setting provisioning must be true or false, got "yes"`}, nil},
		{"unknown setting", authed("apps", "set", "dbx", "typo=1"), exitUsage,
			[]string{`unknown setting "typo"`, "provisioning", "deactivation.type", "budget.calls_per_second", "full_sync.every", "import.match_on"}, nil},
		{"number setting as text", authed("apps", "set", "dbx", "budget.calls_per_second=fast"), exitUsage,
			[]string{`budget.calls_per_second must be auto or a number of calls a second`, `got "fast"`}, nil},
		{"deactivation type", authed("apps", "set", "dbx", "deactivation.type=delete"), exitUsage,
			[]string{`deactivation type "delete" is not one of suspend, remove`}, []string{"transfer"}},
		{"missing CSV", authed("users", "import-csv", filepath.Join(c.dir, "nope.csv")), exitNotFound, []string{"no such file"}, nil},
		{"missing database folder", []string{"serve", "--database", noFolder, "--listen", "127.0.0.1:0"}, exitNotFound,
			[]string{"the folder " + filepath.Dir(noFolder) + " does not exist"}, nil},
		{"no such user", authed("users", "get", "nobody"), exitNotFound, []string{`user "nobody"`}, nil},
		{"no such task", authed("tasks", "retry", "dbx", "ann"), exitNotFound, []string{`user "ann" has no open task in app dbx`}, []string{"user 1", "app 1"}},
		{"duplicate group", authed("groups", "add", "sales"), exitConflict, []string{`group name "sales" is already taken`}, nil},
		{"duplicate username", authed("users", "add", "ANN", "--email", "x@corp.example"), exitConflict, []string{`username "ANN" is already taken`}, nil},
		{"CSV imported twice", authed("users", "import-csv", people), exitConflict,
			[]string{"2 problem(s)", `line 2: username "bob" and email "bob@corp.example" already exist`, `line 3: username "cy" and email`, "--update"}, nil},
		{"wrong token", []string{"--addr", c.addr, "--token", "rst_wrong", "users", "list"}, exitUnauthorized, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := c.exec(nil, tc.args...)
			all := out + errOut
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, n := range append(tc.not, rawWords...) {
				if strings.Contains(all, n) {
					t.Errorf("output says %q:\n%s", n, all)
				}
			}
			// Each CSV problem is said once.
			if strings.Count(all, `"bob"`) > 1 {
				t.Errorf("a problem is listed twice:\n%s", all)
			}
		})
	}
	if _, err := os.Stat(filepath.Dir(noFolder)); !os.IsNotExist(err) {
		t.Fatalf("serve created the missing folder: %v", err)
	}
}

// import-csv --update adds and updates in one step and says what it did.
func TestCLIImportUpdate(t *testing.T) {
	c := newCLI(t)
	c.ok("users", "add", "ann", "--email", "ann@corp.example", "--first-name", "Ann")
	file := filepath.Join(c.dir, "people.csv")
	if err := os.WriteFile(file, []byte("\ufeffusername,email,last_name\nann,ann@corp.example,Lee\nbob,bob@corp.example,Stone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.ok("users", "import-csv", "--update", file)
	for _, want := range []string{"Created:   1", "Updated:   1", "Unchanged: 0"} {
		if !strings.Contains(out, want) {
			t.Fatalf("summary lacks %q:\n%s", want, out)
		}
	}
	if out := c.ok("users", "get", "ann"); !strings.Contains(out, "Lee") || !strings.Contains(out, "Ann") {
		t.Fatalf("ann not updated:\n%s", out)
	}
	if out := c.ok("users", "import-csv", "--update", file); !strings.Contains(out, "Unchanged: 2") {
		t.Fatalf("again:\n%s", out)
	}
	if err := os.WriteFile(file, []byte("username,email,status\nann,ann@corp.example,suspended\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(exitUsage, "line 2: status of \"ann\" would change from active to suspended", "users", "import-csv", "--update", file)
}

// emuApp starts an emulated team with an admin and the given members, and
// adds it as app dbx.
func emuApp(t *testing.T, c *cli, settings ...string) (*emu.Server, string) {
	t.Helper()
	srv, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(append([]string{"apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile}, settings...)...)
	return srv, base
}

// Choosing suspend or manage_in_dropbox switches file transfer off and
// clears the transfer accounts with it, saying so.
func TestCLISwitchingTransferOff(t *testing.T) {
	for _, off := range []string{"deactivation.type=suspend", "deactivation.file_management=manage_in_dropbox"} {
		t.Run(off, func(t *testing.T) {
			c := newCLI(t)
			srv, _ := emuApp(t, c)
			if _, err := srv.Team("acme").Seed([]emu.SeedMember{{Email: "keeper@corp.example", GivenName: "K", Surname: "Eeper", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			c.ok("apps", "set", "dbx", "deactivation.type=remove", "deactivation.file_management=transfer",
				"deactivation.transfer_dest_email=keeper@corp.example", "deactivation.transfer_admin_email=it@corp.example")
			out := c.ok("apps", "set", "dbx", off)
			if !strings.Contains(out, "Note: file transfer is off, so the transfer accounts") || !strings.Contains(out, "manage_in_dropbox") ||
				strings.Contains(out, "keeper@corp.example") {
				t.Fatalf("apps set %s:\n%s", off, out)
			}
			if out := c.ok("apps", "show", "dbx", "-o", "json"); strings.Contains(out, "keeper@") {
				t.Fatalf("transfer accounts kept:\n%s", out)
			}
		})
	}
}

// apps show shows every setting the README's table names.
func TestCLIAppsShowsEverySetting(t *testing.T) {
	c := newCLI(t)
	c.ok("apps", "add", "dbx", "--base-url", "http://127.0.0.1:1", "budget.calls_per_second=5", "full_sync.every=24h",
		"import.app_sourced=first_name,email", "import.auto_confirm_exact=true")
	out := c.ok("apps", "show", "dbx")
	for _, want := range []string{"Base URL:", "http://127.0.0.1:1", "Call rate:", "fixed, 5 calls/s", "Full sync:", "every 24h",
		"match_on:", "username_or_email", "auto_confirm_exact:", "safeguard_percent:", "20%", "app_sourced:", "first_name, email"} {
		if !strings.Contains(out, want) {
			t.Errorf("apps show lacks %q:\n%s", want, out)
		}
	}
}

// plan --full lists the members Roster does not know, as its JSON does.
func TestCLIPlanFullAndGuard(t *testing.T) {
	c := newCLI(t)
	srv, _ := emuApp(t, c, "provisioning=true")
	if _, err := srv.Team("acme").Seed([]emu.SeedMember{{Email: "stranger@corp.example", GivenName: "S", Surname: "Tranger", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	out := c.ok("plan", "--app", "dbx", "--full")
	if !strings.Contains(out, "Unknown to Roster") || !strings.Contains(out, "? stranger@corp.example (active)") {
		t.Fatalf("plan --full:\n%s", out)
	}
}

// The deletion guard's refusal reads as its sentence (how many are held,
// how to release them), not as the API's JSON envelope, and exits 4. The
// off-boardings are made unconfirmed, in the store, as a directory change
// that came from elsewhere would be: what an admin confirmed is never held.
func TestCLIGuardRefusalIsASentence(t *testing.T) {
	c := newCLI(t)
	emuApp(t, c, "provisioning=true", "deletion_guard.min=1", "deletion_guard.percent=10")
	c.ok("groups", "add", "Staff")
	for _, u := range []string{"u1", "u2", "u3"} {
		c.ok("users", "add", u, "--email", u+"@corp.example")
		c.ok("groups", "members", "add", "Staff", u)
	}
	c.ok("assign", "dbx", "--group", "Staff")
	c.ok("sync", "--app", "dbx")
	st, _, err := (&dbFlags{database: filepath.Join(c.dir, "roster.db")}).open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Unassign(context.Background(), "test", "dbx", "", "Staff"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := c.exec(nil, "--addr", c.addr, "--token", c.token, "sync", "--app", "dbx")
	if code != exitConflict || !strings.Contains(errOut, "off-boardings of dbx are held") || !strings.Contains(errOut, "roster sync --app dbx --allow-deletes") {
		t.Fatalf("sync under the guard: exit %d\n%s", code, errOut)
	}
	for _, n := range rawWords {
		if strings.Contains(errOut, n) {
			t.Fatalf("sync under the guard says %q:\n%s", n, errOut)
		}
	}
}

// A sync that finds nothing due while changes wait for a retry says so,
// not "Processed: 0".
func TestCLISyncSaysWhatIsRetrying(t *testing.T) {
	c := newCLI(t)
	srv, _ := emuApp(t, c, "provisioning=true")
	c.ok("users", "add", "ann", "--email", "ann@corp.example")
	c.ok("assign", "dbx", "--user", "ann")
	f, err := emu.ParseFaults("rate5xx=1,code5xx=500")
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(f)
	c.ok("sync", "--app", "dbx") // fails and schedules a retry
	out := c.ok("sync", "--app", "dbx")
	if strings.Contains(out, "Processed:  0") || !strings.Contains(out, "nothing due now") || !strings.Contains(out, "1 retrying after an error") {
		t.Fatalf("second sync:\n%s", out)
	}
}

// Help texts: unassign has its own words; the emulator's manual (faults,
// seeding, the admin token) is reachable from the binary.
func TestCLIHelpTexts(t *testing.T) {
	help := func(args ...string) string {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append(args, "--help"), nil, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut.String())
		}
		return out.String()
	}
	un := help("unassign")
	if strings.Contains(un, "to assign") || !strings.Contains(un, "off-boarded") || !strings.Contains(un, "remove the app's assignment of this user") {
		t.Fatalf("unassign --help:\n%s", un)
	}
	em := help("emulate", "dropbox")
	for _, want := range []string{"PUT /_emulator/faults", `{"spec":"rate429=0.05,writes_per_sec=100"}`, "POST /_emulator/teams/{team}/members",
		"{members: [{email, given_name", "Authorization: Bearer ADMIN-TOKEN", "--base-url http://ADDR", "rate429=", "writes_per_sec="} {
		if !strings.Contains(em, want) {
			t.Errorf("emulate dropbox --help lacks %q", want)
		}
	}
	// Every fault the help names is one the emulator takes.
	_, spec, _ := strings.Cut(em, "SPEC is comma-separated key=value, all optional:\n")
	n := 0
	for _, line := range strings.Split(spec, "\n") {
		kv, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !strings.Contains(kv, "=") || strings.HasPrefix(line, "Injected") {
			continue
		}
		n++
		if _, err := emu.ParseFaults(kv); err != nil {
			t.Errorf("help names fault %q the emulator refuses: %v", kv, err)
		}
	}
	if n < 15 {
		t.Errorf("help lists %d faults", n)
	}
}

// As the README says: with provisioning off, assignments queue work that
// roster plan shows and nothing is sent; enabling provisioning makes it.
func TestCLIPlanBeforeProvisioning(t *testing.T) {
	c := newCLI(t)
	srv, _ := emuApp(t, c)
	c.ok("users", "add", "ann", "--email", "ann@corp.example")
	c.ok("assign", "dbx", "--user", "ann")
	if out := c.ok("plan", "--app", "dbx"); !strings.Contains(out, "create ann") {
		t.Fatalf("plan with provisioning off:\n%s", out)
	}
	c.fails(exitUsage, "provisioning is not enabled for app dbx", "sync", "--app", "dbx")
	if _, ok := srv.Team("acme").Member("ann@corp.example"); ok {
		t.Fatal("ann was invited while provisioning was off")
	}
	c.ok("apps", "set", "dbx", "provisioning=true")
	c.ok("sync", "--app", "dbx")
	if _, ok := srv.Team("acme").Member("ann@corp.example"); !ok {
		t.Fatal("ann was not invited once provisioning was on")
	}
}
