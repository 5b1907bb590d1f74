package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal([]byte("sl.team-token"), "app:1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("team-token")) {
		t.Fatal("sealed value holds the plaintext")
	}
	again, _ := b.Seal([]byte("sl.team-token"), "app:1")
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	got, err := b.Open(sealed, "app:1")
	if err != nil || string(got) != "sl.team-token" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other context": func() ([]byte, error) { return b.Open(sealed, "app:2") },
		"other key":     func() ([]byte, error) { return other.Open(sealed, "app:1") },
		"tampered":      func() ([]byte, error) { return b.Open(tampered, "app:1") },
		"truncated":     func() ([]byte, error) { return b.Open(sealed[:5], "app:1") },
	} {
		if _, err := try(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "roster.key")
	noEnv := func(string) string { return "" }
	b1, err := Load(noEnv, path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v", fi.Mode(), err)
	}
	sealed, _ := b1.Seal([]byte("x"), "c")
	b2, err := Load(noEnv, path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed, "c"); err != nil || string(got) != "x" {
		t.Fatalf("reloaded key does not open: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(noEnv, path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file accepted: %v", err)
	}
}

func TestLoadFromEnv(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvKey {
				return v
			}
			return ""
		}
	}
	path := filepath.Join(t.TempDir(), "unused.key")
	b, err := Load(env(hex.EncodeToString(key)), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a key file was written although the key came from the environment")
	}
	ref, _ := New(key)
	sealed, _ := ref.Seal([]byte("v"), "c")
	if _, err := b.Open(sealed, "c"); err != nil {
		t.Fatal("env key differs from the given key")
	}
	for _, bad := range []string{"short", strings.Repeat("zz", 32)} {
		_, err := Load(env(bad), path)
		if err == nil || strings.Contains(err.Error(), bad) {
			t.Fatalf("bad key %q: err = %v (must fail without echoing the key)", bad, err)
		}
	}
}

// TestReadDoesNotCreate: Read fails on a missing key file, with an error
// that says so, and writes nothing; Source names where the key comes from.
func TestReadDoesNotCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.key")
	noEnv := func(string) string { return "" }
	if _, err := Read(noEnv, path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Read of a missing key file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read created the key file: %v", err)
	}
	if got := Source(noEnv, path); !strings.Contains(got, path) {
		t.Fatalf("Source = %q, want the file", got)
	}
	env := func(string) string { return strings.Repeat("ab", 32) }
	if got := Source(env, path); !strings.Contains(got, EnvKey) {
		t.Fatalf("Source = %q, want %s", got, EnvKey)
	}
	if _, err := Read(env, path); err != nil {
		t.Fatalf("Read from the environment: %v", err)
	}
}
