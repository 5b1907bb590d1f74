package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// OpenSQLite opens fresh SQLite files in a temporary folder.
func OpenSQLite(ctx context.Context) Open {
	return func() (*sqlstore.DB, func(), error) {
		dir, err := os.MkdirTemp("", "roster-bench-")
		if err != nil {
			return nil, nil, err
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return st, func() { st.Close(); os.RemoveAll(dir) }, nil
	}
}

// OpenDatabase opens the given database: a postgres:// DSN or, for anything
// else, fresh SQLite files. On PostgreSQL each store lives in a schema of its
// own, dropped when it is closed: every stage of a run starts empty, and the
// database's own tables are never touched.
func OpenDatabase(ctx context.Context, database string) Open {
	if !store.IsPostgres(database) {
		return OpenSQLite(ctx)
	}
	return func() (*sqlstore.DB, func(), error) {
		dsn, drop, err := PostgresSchema(ctx, database)
		if err != nil {
			return nil, nil, err
		}
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			drop()
			return nil, nil, err
		}
		return st, func() { st.Close(); drop() }, nil
	}
}

// PostgresSchema creates a fresh schema named roster_bench_<random> in the
// database and returns a DSN whose search_path selects it, and a function
// that drops it.
func PostgresSchema(ctx context.Context, database string) (dsn string, drop func(), err error) {
	u, err := url.Parse(database)
	if err != nil {
		return "", nil, fmt.Errorf("--database: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "roster_bench_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", database)
	if err != nil {
		return "", nil, fmt.Errorf("open postgres: %w", err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop = func() {
		// The run's context may be done by now; the schema must go anyway.
		_, _ = admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
