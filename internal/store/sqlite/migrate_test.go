package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlite"
)

// An account stored before migration 0009 is found by member id after it.
func TestMemberKeyMigrationFillsOldAccounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	if err := s.CreateApp(ctx, "t", &a); err != nil {
		t.Fatal(err)
	}
	acct := store.Account{AppID: a.ID, UserID: 7, MemberID: "dbmid:AAold", Email: "old@corp.example", Role: "member", Status: "active"}
	if err := s.CorrectAccounts(ctx, a.ID, []store.Account{acct}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Put the schema back as it was before 0009.
	for _, q := range []string{
		`DROP INDEX app_accounts_member_key`,
		`ALTER TABLE app_accounts DROP COLUMN member_key`,
		`CREATE UNIQUE INDEX app_accounts_member ON app_accounts(app_id, member_id)`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/0009_member_key.sql'`,
	} {
		if _, err := s.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.UsersByMemberID(ctx, a.ID, []string{"dbmid:AAold", "dbmid:AAnone"})
	if err != nil || len(got) != 1 || got["dbmid:AAold"] != 7 {
		t.Fatalf("UsersByMemberID after migration = %v, %v", got, err)
	}
}

// A removed account stored before migration 0010 dates its removal from its
// last write, so the recovery window has a start; other accounts have none.
func TestRemovedAtMigrationDatesOldRemovals(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	if err := s.CreateApp(ctx, "t", &a); err != nil {
		t.Fatal(err)
	}
	accts := []store.Account{
		{AppID: a.ID, UserID: 7, MemberID: "dbmid:AAgone", Email: "gone@corp.example", Role: "member", Status: "removed", Recoverable: true},
		{AppID: a.ID, UserID: 8, MemberID: "dbmid:AAhere", Email: "here@corp.example", Role: "member", Status: "active"},
	}
	if err := s.CorrectAccounts(ctx, a.ID, accts, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Put the schema back as it was before 0010.
	for _, q := range []string{
		`ALTER TABLE app_accounts DROP COLUMN removed_at`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/0010_removed_at.sql'`,
	} {
		if _, err := s.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Accounts(ctx, a.ID, []int64{7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if gone := got[7]; gone.RemovedAt.IsZero() || !gone.RemovedAt.Equal(gone.UpdatedAt) || !gone.Recoverable {
		t.Fatalf("removed account after migration = %+v, want removed_at = updated_at", gone)
	}
	if here := got[8]; !here.RemovedAt.IsZero() {
		t.Fatalf("active account after migration = %+v, want no removed_at", here)
	}
}

// Commits are copied from the write-ahead log into the database file in the
// background, though the log stays far below SQLite's own checkpoint limit.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	users := make([]directory.User, 3000)
	for i := range users {
		users[i] = directory.User{Username: fmt.Sprintf("ck%04d", i), Email: fmt.Sprintf("ck%04d@corp.example", i), FirstName: "C", LastName: "K"}
	}
	before := size()
	if err := s.CreateUsers(ctx, "t", users); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); size() < before+200<<10; {
		if time.Now().After(deadline) {
			t.Fatalf("database file stayed at %d bytes (was %d): the log was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
