// Package sqlite opens Roster's embedded default store: a SQLite file through a
// pure-Go driver, so no C toolchain is needed.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"modernc.org/sqlite"

	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// SQLite's extended result codes for unique and primary-key violations.
const (
	constraintUnique     = 2067
	constraintPrimaryKey = 1555
)

var dialect = sqlstore.Dialect{
	Name:         "sqlite",
	SingleWriter: true,
	Checkpoint:   "PRAGMA wal_checkpoint(PASSIVE)",
	Rebind:       func(q string) string { return q },
	Schema:       strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{blob}}", "BLOB"),
	UniqueViolation: func(err error) (string, bool) {
		var e *sqlite.Error
		if errors.As(err, &e) && (e.Code() == constraintUnique || e.Code() == constraintPrimaryKey) {
			return e.Error(), true
		}
		return "", false
	},
}

// Open opens (creating if needed) the SQLite database at path and migrates it.
// WAL lets readers run beside the writer; immediate transactions make writers
// queue on the busy timeout instead of failing with "database is locked".
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	q := url.Values{}
	// temp_store(MEMORY): a multi-row statement inside a large transaction
	// keeps a statement journal of the pages it changes, spilled to a
	// temporary file past 64 KiB; kept in memory instead, confirming an
	// import of 100,000 members spends about a fifth less CPU (no write
	// syscalls for it). Temporary files are short-lived and small here.
	// cache_size(-8000): an 8 MiB page cache per connection instead of 2 MiB,
	// so the import's one large transaction stops spilling pages: 100,000
	// members import in 4.5 s instead of 5.1 s (same run), peak RSS +15 MiB.
	// wal_autocheckpoint(16000): checkpoints run in the background (see
	// sqlstore/checkpoint.go); a commit checkpoints only if the log still
	// passes 64 MiB. An initial push writes about 40 MB of log a second: at
	// 16 MiB commits kept checkpointing themselves, and commits took twice
	// as long (BenchmarkQueue: 24.5 against 26.8 us per user).
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)", "cache_size(-8000)", "wal_autocheckpoint(16000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	dsn := "file:" + path + "?" + q.Encode()
	// All writes go through one connection: SQLite allows one writer at a
	// time anyway, and a connection keeps its page cache only while no other
	// connection writes. Reads use a pool of their own.
	write, err := openPool(ctx, dsn, 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read, err := openPool(ctx, dsn, 8)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s, err := sqlstore.OpenSplit(ctx, read, write, dialect)
	if err != nil {
		read.Close()
		write.Close()
		return nil, err
	}
	return s, nil
}

// ownerOnly creates the database file, if needed, readable by its owner alone
// (it holds password and token hashes and encrypted secrets), and takes group
// and other permissions off a file, and any log beside it, that an older
// Roster created 0644. SQLite gives the -wal and -shm files it creates the
// database file's permissions.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

func openPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
