package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// TestCLIGroupPush pushes a group from the command line to an emulated team,
// syncs, lists it, renames it and unlinks it with delete.
func TestCLIGroupPush(t *testing.T) {
	c := newCLI(t)
	srvEmu, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile, "provisioning=true")
	c.ok("users", "add", "ann", "--email", "ann@corp.example", "--first-name", "Ann", "--last-name", "Lee")
	c.ok("groups", "add", "eng-web")
	c.ok("groups", "members", "add", "eng-web", "ann")

	for _, tc := range []struct {
		code int
		want string
		args []string
	}{
		{exitUsage, "exactly one of --group NAME and --pattern GLOB", []string{"groups", "push", "dbx"}},
		{exitUsage, "exactly one of", []string{"groups", "unpush", "dbx", "--group", "a", "--pattern", "b"}},
		{exitUsage, "APP", []string{"groups", "pushed"}},
		{exitNotFound, "not found", []string{"groups", "push", "dbx", "--group", "nope"}},
		{exitNotFound, "no rule pushes", []string{"groups", "unpush", "dbx", "--pattern", "ops-*"}},
	} {
		c.fails(tc.code, tc.want, tc.args...)
	}
	_, errOut, code := c.exec(nil, "--addr", c.addr, "--token", c.token, "groups", "push", "dbx", "--pattern", "eng-*")
	if code != 0 || !strings.Contains(errOut, "features.push_groups=true") {
		t.Fatalf("push with the feature off: %d %q", code, errOut)
	}
	c.ok("apps", "set", "dbx", "features.push_groups=true")
	c.ok("sync", "--app", "dbx")

	var l struct {
		Items []pushedJSON `json:"items"`
	}
	if err := json.Unmarshal([]byte(c.ok("groups", "pushed", "dbx", "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].State != "in_step" || l.Items[0].Members != 1 || l.Items[0].RemoteID == "" {
		t.Fatalf("pushed: %+v", l.Items)
	}
	if out := c.ok("groups", "pushed", "dbx"); !strings.Contains(out, "eng-web") || !strings.Contains(out, "in_step") || !strings.Contains(out, "rule: pattern eng-*") {
		t.Fatalf("pushed table: %s", out)
	}
	c.ok("groups", "rename", "eng-web", "eng-website")
	c.ok("sync", "--app", "dbx")
	if sn := srvEmu.Team("acme").Snapshot(); len(sn.Groups) != 1 || sn.Groups[0].Name != "eng-website" {
		t.Fatalf("after rename: %+v", sn.Groups)
	}
	if out := c.ok("groups", "unpush", "dbx", "--pattern", "eng-*", "--delete-in-app"); !strings.Contains(out, "unlinking 1 group(s): eng-website") {
		t.Fatalf("unpush: %s", out)
	}
	c.ok("sync", "--app", "dbx")
	if sn := srvEmu.Team("acme").Snapshot(); len(sn.Groups) != 0 {
		t.Fatalf("after unpush --delete-in-app: %+v", sn.Groups)
	}
}

// TestPushedStateText: the table says what drifted and when Dropbox was last read.
func TestPushedStateText(t *testing.T) {
	var in struct {
		Items []pushedJSON `json:"items"`
	}
	raw := `{"items":[
		{"group":"a","state":"in_step","verified_at":"2026-03-01T10:20:30.123456789Z"},
		{"group":"b","state":"drifted","drift":{"missing":2,"unexpected":0,"stale":1}},
		{"group":"c","state":"queued","drift":{"missing":1}},
		{"group":"d","state":"in_step","unlink":true,"delete_in_app":true}]}`
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]string{
		{"in_step", "2026-03-01T10:20:30Z"},
		{"drifted (2 missing, 1 stale)", "-"},
		{"queued", "-"},
		{"unlinking (delete in Dropbox)", "-"},
	} {
		p := in.Items[i]
		if got := [2]string{p.stateText(), p.verifiedText()}; got != want {
			t.Errorf("%s: %q, want %q", p.Group, got, want)
		}
	}
}
