package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// `roster apps set APP base_url=…` drops the stored token unless a token is
// given with it, and refuses plain http but to this machine.
func TestCLIBaseURLDropsToken(t *testing.T) {
	c := newCLI(t)
	tokFile := filepath.Join(c.dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("sl.TOPSECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dropbox", "--base-url", "http://127.0.0.1:1", "--dropbox-token-file", tokFile)
	if out := c.ok("apps", "set", "dropbox", "base_url=http://127.0.0.1:2"); !strings.Contains(out, "not set") {
		t.Fatalf("a new base_url kept the token:\n%s", out)
	}
	c.fails(exitUsage, "token", "apps", "test", "dropbox")
	if out := c.ok("apps", "set", "dropbox", "base_url=http://localhost:3", "--dropbox-token-file", tokFile); !strings.Contains(out, "set (encrypted)") {
		t.Fatalf("the token given with the new base_url was not kept:\n%s", out)
	}
	if out := c.ok("apps", "set", "dropbox", "provisioning=true"); !strings.Contains(out, "set (encrypted)") {
		t.Fatalf("a change of settings dropped the token:\n%s", out)
	}
	c.fails(exitUsage, "only for a loopback address", "apps", "set", "dropbox", "base_url=http://example.com")
	c.fails(exitUsage, "only for a loopback address", "apps", "add", "other", "--base-url", "http://example.com")
}

// An app stored before plain http was limited to loopback addresses gets no
// connector: its token is not sent in the clear.
func TestConnectRefusesPlainHTTPElsewhere(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	if err := st.CreateApp(ctx, "t", &a); err != nil {
		t.Fatal(err)
	}
	sealed, _ := box.Seal([]byte("sl.TOPSECRET"), credential.AppSecretContext(a.ID))
	if err := st.SetAppCredential(ctx, "t", "dbx", sealed); err != nil {
		t.Fatal(err)
	}
	connect := newConnect(st, box, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := connect(ctx, a, nil); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	a.BaseURL = "http://dropbox.corp.example"
	if _, err := connect(ctx, a, nil); !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("plain http elsewhere: %v", err)
	}
}

// budget.calls_per_second is auto by default, takes a number or auto back,
// auto takes a cap, and anything else is refused naming the setting.
func TestCLIBudgetSetting(t *testing.T) {
	c := newCLI(t)
	c.ok("apps", "add", "dropbox", "--base-url", "http://127.0.0.1:1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Call rate:                auto\n"},
		{[]string{"budget.calls_per_second=50"}, "fixed, 50 calls/s"},
		{[]string{"budget.calls_per_second=0.5"}, "fixed, 0.5 calls/s"},
		{[]string{"budget.calls_per_second=auto", "budget.max_calls_per_second=200"}, "auto, at most 200 calls/s"},
		{[]string{"budget.max_calls_per_second=0"}, "Call rate:                auto\n"},
	} {
		var out string
		if tc.args == nil {
			out = c.ok("apps", "show", "dropbox")
		} else {
			out = c.ok(append([]string{"apps", "set", "dropbox"}, tc.args...)...)
		}
		if !strings.Contains(out, tc.want) {
			t.Fatalf("after %v:\n%s\nwant %q", tc.args, out, tc.want)
		}
	}
	c.fails(exitUsage, "budget.calls_per_second must be auto or a number", "apps", "set", "dropbox", "budget.calls_per_second=fast")
	c.fails(exitUsage, "budget.max_calls_per_second caps budget.calls_per_second=auto", "apps", "set", "dropbox", "budget.calls_per_second=20", "budget.max_calls_per_second=100")
	c.fails(exitUsage, "budget.calls_per_second must be auto (the default) or a number", "apps", "set", "dropbox", "budget.calls_per_second=-3")
}
