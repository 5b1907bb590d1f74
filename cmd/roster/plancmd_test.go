package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
