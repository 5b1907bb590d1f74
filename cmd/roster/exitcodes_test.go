package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// TestExitCodesOfCommandLineMistakes: what the README documents for bad
// input (2) and a missing file (3), whatever finds the mistake.
func TestExitCodesOfCommandLineMistakes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "people.csv")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"unknown subcommand", []string{"users", "frobnicate"}, exitUsage},
		{"unknown flag", []string{"users", "list", "--bogus"}, exitUsage},
		{"flag without its value", []string{"users", "list", "--addr"}, exitUsage},
		{"missing CSV file", []string{"--addr", "http://127.0.0.1:1", "--token", "rst_x", "users", "import-csv", missing}, exitNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tc.args, nil, &out, &errOut); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut.String())
			}
		})
	}
}
