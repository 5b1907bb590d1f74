package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestMain lets this test binary stand in for roster when a test starts it
// as a child process (bench e2e runs os.Executable).
func TestMain(m *testing.M) {
	if os.Getenv("ROSTER_TEST_AS_ROSTER") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBenchE2ESmall runs bench e2e for real at a small size: an emulator
// and a server process, users through the API, and every user a member of
// the team at the end, on each store.
func TestBenchE2ESmall(t *testing.T) {
	t.Setenv("ROSTER_TEST_AS_ROSTER", "1")
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			db := "sqlite"
			if be.Name == "postgres" {
				db = os.Getenv("ROSTER_TEST_POSTGRES")
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"bench", "e2e", "--users", "300", "--budget", "1000", "--database", db, "-o", "json"}, nil, &out, &errOut)
			if code != 0 {
				t.Fatalf("bench e2e: exit %d: %s", code, errOut.String())
			}
			var res struct {
				Store   string  `json:"store"`
				Users   int     `json:"users"`
				Seconds float64 `json:"all_members_seconds"`
				Rate    float64 `json:"members_per_sec"`
			}
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if res.Store != be.Name || res.Users != 300 || res.Seconds <= 0 || res.Rate <= 0 {
				t.Fatalf("bench e2e result: %+v", res)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench", "e2e", "--users", "0"}, nil, &out, &errOut); code != exitUsage {
		t.Fatalf("--users 0: exit %d", code)
	}
}
