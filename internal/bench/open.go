package bench

import (
	"context"
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

// OpenDatabase opens the given database: a postgres:// DSN (whose tables must
// be empty; use a scratch database) or, for anything else, fresh SQLite files.
func OpenDatabase(ctx context.Context, database string) Open {
	if !store.IsPostgres(database) {
		return OpenSQLite(ctx)
	}
	return func() (*sqlstore.DB, func(), error) {
		st, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	}
}
