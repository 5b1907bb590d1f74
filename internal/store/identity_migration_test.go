package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// Users and groups stored before migration 0014 get distinct external keys,
// dated by their creation, and the api source; the keys are then unique and
// found, on both backends.
func TestIdentityMigrationFillsOldRows(t *testing.T) {
	ctx := context.Background()
	backends := map[string]func(t *testing.T) func() (*sqlstore.DB, error){
		"sqlite": func(t *testing.T) func() (*sqlstore.DB, error) {
			path := filepath.Join(t.TempDir(), "roster.db")
			return func() (*sqlstore.DB, error) { return sqlite.Open(ctx, path) }
		},
		"postgres": func(t *testing.T) func() (*sqlstore.DB, error) {
			dsn := storetest.PostgresDSN(t)
			return func() (*sqlstore.DB, error) { return postgres.Open(ctx, dsn) }
		},
	}
	for name, opener := range backends {
		t.Run(name, func(t *testing.T) {
			open := opener(t)
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			const n = 700 // more than one fill statement's worth
			users := make([]directory.User, n)
			for i := range users {
				users[i] = directory.User{Username: fmt.Sprintf("old%04d", i), Email: fmt.Sprintf("old%04d@corp.example", i)}
			}
			if err := s.CreateUsers(ctx, "t", users); err != nil {
				t.Fatal(err)
			}
			for _, g := range []string{"Sales", "Legal"} {
				if err := s.CreateGroup(ctx, "t", &directory.Group{Name: g}); err != nil {
					t.Fatal(err)
				}
			}
			unmigrate(t, s)
			s.Close()

			if s, err = open(); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkFilled(t, s, n)
		})
	}
}

// unmigrate puts the schema back as it was before 0014.
func unmigrate(t *testing.T, s *sqlstore.DB) {
	t.Helper()
	qs := []string{`DROP INDEX users_external_key`, `DROP INDEX groups_external_key`, `DROP INDEX users_source`, `DROP INDEX groups_source`}
	for _, table := range []string{"users", "groups"} {
		qs = append(qs, `ALTER TABLE `+table+` DROP COLUMN external_key`, `ALTER TABLE `+table+` DROP COLUMN source`)
	}
	qs = append(qs, `DELETE FROM schema_migrations WHERE name = 'migrations/0014_directory_identity.sql'`)
	for _, q := range qs {
		if _, err := s.SQL().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func checkFilled(t *testing.T, s *sqlstore.DB, n int) {
	ctx := context.Background()
	users, err := s.ListUsers(ctx, store.UserFilter{Page: store.Page{Limit: 1000}})
	if err != nil || len(users) != n {
		t.Fatalf("users after migration: %d, %v", len(users), err)
	}
	seen := map[string]bool{}
	for _, u := range users {
		if !directory.ValidExternalKey(u.ExternalKey) || u.Source != directory.SourceAPI || seen[u.ExternalKey] {
			t.Fatalf("user %s after migration: key %q, source %q (or a key given twice)", u.Username, u.ExternalKey, u.Source)
		}
		seen[u.ExternalKey] = true
		if want := directory.NewExternalKey(u.CreatedAt)[:13]; u.ExternalKey[:13] != want {
			t.Fatalf("user %s: key %s is not dated by its creation (%s…)", u.Username, u.ExternalKey, want)
		}
	}
	last := users[n-1]
	if got, err := s.GetUserByExternalKey(ctx, last.ExternalKey); err != nil || got.ID != last.ID {
		t.Fatalf("GetUserByExternalKey after migration = %+v, %v", got, err)
	}
	groups, err := s.FilterGroups(ctx, store.GroupFilter{})
	if err != nil || len(groups) != 2 || groups[0].ExternalKey == groups[1].ExternalKey {
		t.Fatalf("groups after migration = %+v, %v", groups, err)
	}
	for _, g := range groups {
		if !directory.ValidExternalKey(g.ExternalKey) || g.Source != directory.SourceAPI {
			t.Fatalf("group after migration = %+v", g)
		}
	}
	dup := directory.User{Username: "new", Email: "new@corp.example", ExternalKey: last.ExternalKey}
	if err := s.CreateUser(ctx, "t", &dup); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("a key taken by an old row: %v, want a conflict (the unique index)", err)
	}
	if fresh, err := s.ListUsers(ctx, store.UserFilter{Source: directory.SourceAPI, Page: store.Page{Limit: 1000}}); err != nil || len(fresh) != n {
		t.Fatalf("api users after migration = %d, %v", len(fresh), err)
	}
}
