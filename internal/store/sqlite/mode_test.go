package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/store/sqlite"
)

// The database holds password hashes, token hashes and encrypted secrets:
// the file, its write-ahead log and shared-memory index are the owner's
// alone, like the key file, whether Open creates the file or finds it with
// looser permissions.
func TestFilesAreOwnerOnly(t *testing.T) {
	for _, pre := range []struct {
		name string
		mode os.FileMode // of a file already there; 0: none
	}{{"new file", 0}, {"existing 0644 file", 0o644}} {
		t.Run(pre.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "roster.db")
			if pre.mode != 0 {
				for _, p := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.WriteFile(p, nil, pre.mode); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(p, pre.mode); err != nil { // past the umask
						t.Fatal(err)
					}
				}
			}
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkOwnerOnly(t, "after open", path, path+"-wal", path+"-shm")
			a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
			if err := s.CreateApp(ctx, "t", &a); err != nil {
				t.Fatal(err)
			}
			checkOwnerOnly(t, "after a write", path, path+"-wal", path+"-shm")
		})
	}
}

func checkOwnerOnly(t *testing.T, when string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: %s has mode %o, want 600", when, filepath.Base(p), got)
		}
	}
}
