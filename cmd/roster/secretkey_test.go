package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestLostKeyRefusesToStart: with credentials sealed in the database, serve
// refuses to start with a missing or wrong key, says where the key came from
// and what to do, and never makes a new key; the right key starts; after
// forget-secrets --yes a new key is made and the secrets can be entered again.
func TestLostKeyRefusesToStart(t *testing.T) {
	for _, b := range []struct {
		name string
		db   func(t *testing.T, dir string) string
	}{
		{"sqlite", func(_ *testing.T, dir string) string { return filepath.Join(dir, "roster.db") }},
		{"postgres", func(t *testing.T, _ string) string { return storetest.PostgresDSN(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			db := dbFlags{database: b.db(t, dir), keyFile: filepath.Join(dir, "keys", "roster.key")}
			t.Setenv(secret.EnvKey, "")
			keyHex := sealSecrets(t, db)
			if err := os.Remove(db.keyFile); err != nil {
				t.Fatal(err)
			}
			serveFails(t, db, db.keyFile, "does not exist", "roster apps set APP --dropbox-token-file", "acme")
			if _, err := os.Stat(db.keyFile); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a key file was created although secrets are stored: %v", err)
			}

			wrong := strings.Repeat("ab", 32)
			t.Setenv(secret.EnvKey, wrong)
			serveFails(t, db, secret.EnvKey, "does not decrypt", "acme")
			t.Setenv(secret.EnvKey, "")
			writeKey(t, db.keyFile, wrong)
			serveFails(t, db, db.keyFile, "does not decrypt", "roster admin forget-secrets")

			writeKey(t, db.keyFile, keyHex)
			st, _, err := db.open(context.Background())
			if err != nil {
				t.Fatalf("the right key does not start: %v", err)
			}
			st.Close()

			forgetAndReenter(t, db)
		})
	}
}

// sealSecrets opens a fresh database (making its key), stores an app with a
// sealed token and OAuth client, and returns the key.
func sealSecrets(t *testing.T, db dbFlags) string {
	ctx := context.Background()
	st, box, err := db.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := app.Instance{Name: "acme", Kind: app.KindDropbox, BaseURL: "https://api.dropboxapi.com", Settings: app.DefaultSettings()}
	if err := st.CreateApp(ctx, "test", &a); err != nil {
		t.Fatal(err)
	}
	tok, _ := box.Seal([]byte("sl.team-token"), credential.AppSecretContext(a.ID))
	cs, _ := box.Seal([]byte("client-secret"), credential.OAuthSecretContext(a.ID))
	if err := st.SetAppCredential(ctx, "test", a.Name, tok); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOAuthClient(ctx, "test", a.Name, "app-key", cs); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(db.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func writeKey(t *testing.T, path, key string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveFails runs `roster serve`, which must exit at once (not serve) with
// an error naming each of want.
func serveFails(t *testing.T, db dbFlags, want ...string) {
	t.Helper()
	// Bounded: a serve that starts anyway runs until this ends, then exits 0.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut strings.Builder
	code := run(ctx, []string{"serve", "--database", db.database, "--secret-key-file", db.keyFile, "--listen", "127.0.0.1:0"},
		strings.NewReader(""), &out, &errOut)
	if code == 0 {
		t.Fatalf("serve started without a key that opens the stored secrets: %s", errOut.String())
	}
	for _, w := range want {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("serve's error does not mention %q:\n%s", w, errOut.String())
		}
	}
}

// forgetAndReenter loses the key, runs forget-secrets, and checks that Roster
// then starts with a new key and takes a new token.
func forgetAndReenter(t *testing.T, db dbFlags) {
	ctx := context.Background()
	if err := os.Remove(db.keyFile); err != nil {
		t.Fatal(err)
	}
	args := []string{"admin", "forget-secrets", "--database", db.database, "--secret-key-file", db.keyFile}
	var out, errOut strings.Builder
	if code := run(ctx, args, strings.NewReader(""), &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "--yes") {
		t.Fatalf("forget-secrets without --yes: exit %d, %s", code, errOut.String())
	}
	serveFails(t, db, "acme") // nothing was deleted without --yes
	out.Reset()
	errOut.Reset()
	if code := run(ctx, append(args, "--yes"), strings.NewReader(""), &out, &errOut); code != 0 || !strings.Contains(out.String(), "acme") {
		t.Fatalf("forget-secrets --yes: exit %d, %s %s", code, out.String(), errOut.String())
	}
	st, box, err := db.open(ctx)
	if err != nil {
		t.Fatalf("start after forget-secrets: %v", err)
	}
	defer st.Close()
	a, err := st.GetApp(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppCredential(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("credential after forget-secrets: %v", err)
	}
	if _, err := st.OAuthClient(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("OAuth client after forget-secrets: %v", err)
	}
	log, err := st.ListLog(ctx, audit.Filter{App: "acme"})
	if err != nil || len(log) == 0 || log[0].Action != "app.secrets.forget" {
		t.Fatalf("log after forget-secrets: %+v %v", log, err)
	}
	sealed, _ := box.Seal([]byte("sl.new"), credential.AppSecretContext(a.ID))
	if err := st.SetAppCredential(ctx, "test", a.Name, sealed); err != nil {
		t.Fatal(err)
	}
	st2, _, err := db.open(ctx)
	if err != nil {
		t.Fatalf("restart with the re-entered token: %v", err)
	}
	st2.Close()
}
