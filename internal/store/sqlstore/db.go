// Package sqlstore implements store.Store on database/sql for both SQLite and
// PostgreSQL. The SQL is shared; a Dialect covers the few differences.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"

	"github.com/roster-dev/roster/internal/directory"
)

// Dialect holds what differs between the backends.
type Dialect struct {
	Name string
	// NotifyWork tells the other processes sharing the database that work
	// was queued (PostgreSQL's pg_notify); empty: one process only.
	NotifyWork string
	// Rebind turns '?' placeholders into the backend's own.
	Rebind func(string) string
	// Schema replaces {{id}} and {{blob}} in migrations.
	Schema *strings.Replacer
	// UniqueViolation reports whether err is a unique-constraint violation and
	// names the constraint or column when it can.
	UniqueViolation func(err error) (string, bool)
	// SkipLocked ends a claiming subquery so concurrent claimers skip each other's rows.
	SkipLocked string
	// ForUpdate locks a row read inside a transaction (empty on SQLite,
	// whose transactions already hold the write lock).
	ForUpdate string
	// LockMigrations serialises migrations across processes sharing a database.
	LockMigrations string
	// SingleWriter says the database lets one transaction write at a time
	// (SQLite). Writers of one process then queue on a Go lock, handed over at
	// once, instead of on SQLite's busy handler, which polls by sleeping.
	SingleWriter bool
	// Checkpoint, when set, is run in the background after commits to copy
	// the write-ahead log into the database (SQLite; see checkpoint.go).
	Checkpoint string
	// StaleTables, when set, lists the tables of the store's schema whose
	// planner statistics are stale; they are analyzed in the background
	// (PostgreSQL; see analyze.go).
	StaleTables string
	// Arrays says a list of IDs is bound as one array parameter (PostgreSQL,
	// through pgx): Rebind then turns "IN {{any}}" into "= ANY(?)". With a
	// list of 500 bound parameters PostgreSQL re-planned every statement
	// and, estimating the list cheap to test row by row, read every
	// membership of the table to find 500 users' (issue 17).
	Arrays bool
}

// DB is a store.Store over database/sql.
type DB struct {
	db      *sql.DB // reads
	wdb     *sql.DB // write transactions; the same as db unless opened split
	d       Dialect
	now     func() time.Time
	kinds   *connector.Registry // the app kinds: their roles, to check and rank assignments
	queries sync.Map            // query text -> rebound text
	stmts   sync.Map            // rebound text -> *sql.Stmt on db, for hot statements
	wstmts  sync.Map            // the same on wdb, for statements inside transactions
	writer  chan struct{}       // held by the open write transaction when SingleWriter
	wantMu  sync.Mutex
	want    []string // statements to cache on wdb once its transaction ends
	combine combiner // FinishWork calls waiting for the writer, when SingleWriter

	ckptKick, ckptStop, ckptDone chan struct{} // the checkpointer, when the dialect has one
	anStop, anDone               chan struct{} // the analyzer, when the dialect has one
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open wraps an opened database and applies any pending migrations.
func Open(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	return OpenSplit(ctx, db, db, d)
}

// OpenSplit is Open with write transactions on their own handle. SQLite
// keeps a connection's page cache only while no other connection writes, so
// one connection that does all the writing keeps its cache warm.
func OpenSplit(ctx context.Context, read, write *sql.DB, d Dialect) (*DB, error) {
	s := &DB{db: read, wdb: write, d: d, now: time.Now, kinds: connectors.Registry()}
	if d.SingleWriter {
		s.writer = make(chan struct{}, 1)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate %s database: %w", d.Name, err)
	}
	s.startCheckpointer()
	s.startAnalyzer()
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *DB) SetClock(now func() time.Time) { s.now = now }

// SetKinds replaces the app kinds (default every kind of the binary) whose
// roles assignments are checked and ranked by; call it before any use.
func (s *DB) SetKinds(r *connector.Registry) { s.kinds = r }

// SQL returns the handle that writes, for packages that extend the schema.
func (s *DB) SQL() *sql.DB { return s.wdb }

// Close closes the database.
func (s *DB) Close() error {
	s.stopCheckpointer()
	s.stopAnalyzer()
	s.closeStmts()
	err := s.db.Close()
	if s.wdb != s.db {
		err = errors.Join(err, s.wdb.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *DB) q(query string) string {
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	r := s.d.Rebind(query)
	s.queries.Store(query, r)
	return r
}

func (s *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.d.LockMigrations != "" {
			if _, err := tx.ExecContext(ctx, s.d.LockMigrations); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		for _, name := range names {
			if err := s.applyMigration(ctx, tx, name); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	})
}

func (s *DB) applyMigration(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE name = ?`), name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	for _, stmt := range strings.Split(s.d.Schema.Replace(string(body)), ";\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %q", err, strings.TrimSpace(stmt))
		}
	}
	switch name {
	case "migrations/0009_member_key.sql":
		if err := s.fillMemberKeys(ctx, tx); err != nil {
			return err
		}
	case "migrations/0011_offboarding.sql":
		if err := s.freezeAllLeavers(ctx, tx); err != nil {
			return err
		}
	case "migrations/0014_directory_identity.sql":
		if err := s.fillExternalKeys(ctx, tx); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`), name, s.now().UnixNano())
	return err
}

func stripComments(stmt string) string {
	var b strings.Builder
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// inTx runs fn in a transaction, committing on nil and rolling back otherwise.
func (s *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.inTxLocked(ctx, fn)
}

// inTxLocked is inTx for a caller that already holds the writer lock.
func (s *DB) inTxLocked(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer s.prepareWanted(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.mapErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.mapErr(fmt.Errorf("commit: %w", err))
	}
	s.committed()
	return nil
}

// constraintFields turns constraint names into words an admin understands,
// longest first so that "users_username_key" wins over "username_key".
var constraintFields = []struct{ key, field string }{
	{"users_username_key", "username"}, {"users_email_key", "email"},
	{"groups_name_key", "group name"}, {"apps_name_key", "app name"}, {"sources_name_key", "source name"}, {"web_admins_name_key", "admin name"},
	{"username_key", "username"}, {"email_key", "email"},
	{"external_key", "external key"},
	{"assignments_user", "assignment"}, {"assignments_group", "assignment"},
}

// constraintField names the field a unique violation is about, or "".
// PostgreSQL gives the constraint's name (groups_name_key); SQLite a message
// naming the column ("UNIQUE constraint failed: groups.name_key (2067)") or
// the index ("index 'assignments_user'").
func constraintField(name string) string {
	n := strings.ToLower(name)
	if _, after, ok := strings.Cut(n, "unique constraint failed: "); ok {
		n = after
	}
	n = strings.NewReplacer(".", "_", "'", "", "index ", "").Replace(n)
	for _, c := range constraintFields {
		if strings.Contains(n, c.key) {
			return c.field
		}
	}
	return ""
}

// mapErr turns a unique violation into directory.ErrConflict with a clear message.
func (s *DB) mapErr(err error) error {
	name, ok := s.d.UniqueViolation(err)
	if !ok {
		return err
	}
	if field := constraintField(name); field != "" {
		return fmt.Errorf("%w: that %s is already taken", directory.ErrConflict, field)
	}
	return fmt.Errorf("%w: that value is already taken", directory.ErrConflict)
}

// taken names the value a unique violation is about: values maps the field
// (as constraintField names it) to what was asked for. Names and emails are
// compared without regard to case, so "sales" is taken by "Sales".
func (s *DB) taken(err error, values map[string]string) error {
	name, ok := s.d.UniqueViolation(err)
	if !ok {
		return err
	}
	field := constraintField(name)
	v, ok := values[field]
	if !ok {
		return s.mapErr(err)
	}
	return fmt.Errorf("%w: %s %q is already taken (compared without regard to case); choose another", directory.ErrConflict, field, v)
}

func notFound(what, name string) error {
	return fmt.Errorf("%w: %s %q", directory.ErrNotFound, what, name)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// optNanos stores an optional time: 0 for the zero time.
func optNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromOptNanos reads an optional time: the zero time for 0.
func fromOptNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return fromNanos(n)
}

// NotifyWork tells the other processes sharing the database (a fleet's
// workers) that work was queued, where the backend can; they claim it at
// once instead of at their next idle tick. A failure only delays the work.
func (s *DB) NotifyWork(ctx context.Context) error {
	if s.d.NotifyWork == "" {
		return nil
	}
	_, err := s.db.ExecContext(ctx, s.d.NotifyWork)
	return err
}
