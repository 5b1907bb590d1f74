package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// TestPrintPlanSaysWhereChangesStand: the plan table marks held, scheduled,
// in-flight and irreversible changes, and says how to release held ones.
func TestPrintPlanSaysWhereChangesStand(t *testing.T) {
	raw := `{"app":"dbx","members":40,"held":1,"scheduled":1,"summary":{"remove":1,"update":2},"changes":[
		{"user":"ann","op":"update","state":"due"},
		{"user":"bob","op":"update","state":"in_flight"},
		{"user":"cy","op":"remove","state":"held","irreversible":true,"detail":{"wipe_data":true}},
		{"user":"dee","op":"remove","state":"scheduled","due_at":"2026-12-13T09:00:00Z","irreversible":true}],
		"guard":{"percent":20,"irreversible":10,"window":"1h0m0s"}}`
	var p planJSON
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printPlan(&out, p)
	for _, want := range []string{
		"~ update ann\n", "~ update bob [in flight]", "- remove cy (wipe_data=true) IRREVERSIBLE [held by the deletion guard]",
		"- remove dee IRREVERSIBLE [scheduled: after the grace period, on 2026-12-13", "1 removal(s) scheduled",
		"Held by the deletion guard: 1 off-boarding(s)", "--allow-deletes",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCLIApplyRefusesAStalePlan: roster plan --out saves a plan; once the
// directory changes what a sync would do, roster apply FILE refuses it
// (exit 4, naming the new change) and applies nothing; a fresh plan applies.
func TestCLIApplyRefusesAStalePlan(t *testing.T) {
	c := newCLI(t)
	team, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile, "provisioning=true")
	for _, u := range []string{"ann", "bo"} {
		c.ok("users", "add", u, "--email", u+"@corp.example")
	}
	c.ok("assign", "dbx", "--user", "ann")
	file := filepath.Join(c.dir, "plan.json")
	if out := c.ok("plan", "--app", "dbx", "--out", file); !strings.Contains(out, "create ann") {
		t.Fatalf("plan --out:\n%s", out)
	}
	c.ok("assign", "dbx", "--user", "bo")
	c.fails(exitConflict, "create bo", "apply", file)
	if n := len(team.Team("acme").Snapshot().Members); n != 1 { // the admin only
		t.Fatalf("a stale plan was applied: %d members", n)
	}
	c.ok("plan", "--app", "dbx", "--out", file)
	if out := c.ok("apply", file); !strings.Contains(out, "Done") {
		t.Fatalf("apply:\n%s", out)
	}
	for _, u := range []string{"ann", "bo"} {
		if _, ok := team.Team("acme").Member(u + "@corp.example"); !ok {
			t.Fatalf("%s not in the team after apply", u)
		}
	}
}
