package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// Log rows written before actions became neutral read as the engine writes
// them now, so filters by action find old and new rows alike; actions of
// other writers are left alone.
func TestMigrationNeutralActions(t *testing.T) {
	type backend struct {
		name, driver string
		target       func(t *testing.T) string
		open         func(ctx context.Context, target string) (*sqlstore.DB, error)
	}
	backends := []backend{{"sqlite", "sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "r.db") }, sqlite.Open}}
	if len(storetest.Backends()) > 1 {
		backends = append(backends, backend{"postgres", "pgx", func(t *testing.T) string { return storetest.PostgresDSN(t) }, postgres.Open})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx, target := context.Background(), b.target(t)
			s, err := b.open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"dropbox.create", "dropbox.group.add_members", "dropbox.remove", "user.create"} {
				if err := s.AppendLog(ctx, audit.Entry{Actor: "engine", Action: a, TargetKind: "user", Target: "ann", App: "dbx", Outcome: audit.Success}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			raw, err := sql.Open(b.driver, target)
			if err != nil {
				t.Fatal(err)
			}
			// As if the database predates the migration: it runs at the next open.
			if _, err := raw.Exec(`DELETE FROM schema_migrations WHERE name = 'migrations/0013_neutral_actions.sql'`); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			if s, err = b.open(ctx, target); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			all, err := s.ListLog(ctx, audit.Filter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, e := range all {
				got[e.Action] = true
			}
			for _, want := range []string{"account.create", "app_group.add_members", "account.remove", "user.create"} {
				if !got[want] {
					t.Errorf("after the migration no %s row: %v", want, got)
				}
			}
			if len(got) != 4 {
				t.Errorf("actions = %v, want exactly the four renamed ones", got)
			}
		})
	}
}
