// Package storetest holds the store conformance suite and helpers that open a
// fresh store of each backend for tests. PostgreSQL runs when ROSTER_TEST_POSTGRES
// holds a DSN; each test gets a schema of its own, dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver, for schema set-up

	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// Backend opens a fresh, empty store for one test.
type Backend struct {
	Name string
	Open func(t testing.TB) *sqlstore.DB
}

// Backends lists SQLite always and PostgreSQL when ROSTER_TEST_POSTGRES is set.
func Backends() []Backend {
	b := []Backend{{"sqlite", OpenSQLite}}
	if os.Getenv("ROSTER_TEST_POSTGRES") != "" {
		b = append(b, Backend{"postgres", OpenPostgres})
	}
	return b
}

// OpenSQLite opens a store in a new file under the test's temporary directory.
func OpenSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenPostgres opens a store in a new schema of the ROSTER_TEST_POSTGRES database.
func OpenPostgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN creates a fresh schema and returns a DSN whose search_path selects it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ROSTER_TEST_POSTGRES")
	if base == "" {
		t.Skip("ROSTER_TEST_POSTGRES is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "rt_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("ROSTER_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
