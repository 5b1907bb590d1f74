package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoOnce(t *testing.T) {
	t.Setenv("ROSTER_SECRET_KEY", "")
	dir := filepath.Join(t.TempDir(), "demo")
	for range 2 { // a second run starts from scratch instead of failing on the first one's data
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"demo", "--once", "--users", "120", "--dir", dir}, nil, &out, &errOut)
		if code != 0 {
			t.Fatalf("demo: exit %d: %s", code, errOut.String())
		}
		for _, want := range []string{"120 people", "Provisioned: 120 members created", "suspended in Dropbox", "surname updated", "1 suspended members"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("demo output lacks %q:\n%s", want, out.String())
			}
		}
	}
}

func TestBenchPushSmall(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "push", "--users", "1000", "--changes", "10", "--rate", "20", "--rate-seconds", "1", "-o", "json"}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut.String())
	}
	var res struct {
		Push struct {
			Users       int     `json:"users"`
			UsersPerSec float64 `json:"users_per_sec"`
			CeilingPS   float64 `json:"emulator_ceiling_per_sec"`
		} `json:"push"`
		Incremental struct {
			Calls map[string]int64 `json:"calls_by_app_size"`
		} `json:"incremental"`
		Rate struct {
			Calls int64 `json:"calls"`
		} `json:"rate_limited"`
	}
	// One object per stage, each printed as it finishes.
	dec := json.NewDecoder(&out)
	for dec.More() {
		if err := dec.Decode(&res); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
	}
	if res.Push.Users != 1000 || res.Push.UsersPerSec <= 0 || res.Push.CeilingPS <= 0 || res.Incremental.Calls["1000"] < 10 || res.Rate.Calls < 20 {
		t.Fatalf("bench result: %+v", res)
	}
	if code := run(context.Background(), []string{"bench", "push", "--users", "10"}, nil, &out, &errOut); code != exitUsage {
		t.Fatalf("bad flags: exit %d", code)
	}
}
