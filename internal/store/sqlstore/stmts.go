package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/roster-dev/roster/internal/store"
)

// The engine's hot statements run thousands of times a second. Each is
// prepared once per connection and reused: modernc's SQLite otherwise parses
// the SQL on every call, which cost about a sixth of a push's CPU. Statements
// over lists of IDs or rows come in a few fixed shapes so that few texts are
// prepared.

// prepared returns the cached prepared statement for query (already rebound)
// on the reading handle, or on the writing one for use inside transactions.
func (s *DB) prepared(ctx context.Context, query string, write bool) (*sql.Stmt, error) {
	db, cache := s.db, &s.stmts
	if write {
		db, cache = s.wdb, &s.wstmts
	}
	if st, ok := cache.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := cache.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// stmtIn returns query's prepared statement bound to tx, or to the pool when tx is nil.
func (s *DB) stmtIn(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if tx != nil {
		return s.writeStmt(ctx, tx, query)
	}
	return s.prepared(ctx, query, false)
}

// writeStmt serves a transaction. A statement not yet cached is prepared on
// tx for this use only, and on the handle (for later transactions) once tx
// has ended: preparing on the handle needs a free connection, and when every
// connection is held by a transaction waiting for one, none would come.
func (s *DB) writeStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.wstmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	s.wantMu.Lock()
	s.want = append(s.want, query)
	s.wantMu.Unlock()
	return tx.PrepareContext(ctx, query)
}

// prepareWanted caches the statements writeStmt could not; it runs between
// transactions, when the writing connection is free.
func (s *DB) prepareWanted(ctx context.Context) {
	s.wantMu.Lock()
	want := s.want
	s.want = nil
	s.wantMu.Unlock()
	for _, q := range want {
		_, _ = s.prepared(ctx, q, true) // a failure only means preparing it again next time
	}
}

func (s *DB) execPrepared(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.stmtIn(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (s *DB) queryPrepared(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmtIn(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// closeStmts releases every cached statement.
func (s *DB) closeStmts() {
	for _, cache := range []*sync.Map{&s.stmts, &s.wstmts} {
		cache.Range(func(k, v any) bool {
			_ = v.(*sql.Stmt).Close()
			cache.Delete(k)
			return true
		})
	}
}

// inIDs renders what follows "IN " for a list of IDs (or keys), with its
// arguments: "(?,?,…)" padded to a power of two by repeating the last ID
// (harmless in an IN list) so that a query over any number of IDs has one
// of a few texts, or, where the dialect binds arrays, anyMarker and the
// list as one argument.
func inIDs[T int64 | string](arrays bool, ids []T) (string, []any) {
	if arrays {
		return anyMarker, []any{ids}
	}
	n := 1
	for n < len(ids) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return "(?" + strings.Repeat(",?", n-1) + ")", args
}

// anyMarker stands for the list after "IN " on a dialect that binds a whole
// list as one array (Dialect.Arrays): its Rebind turns "IN " + anyMarker
// into "= ANY(?)". One statement text then serves every list length, and
// PostgreSQL plans a 2,000-id list as index probes rather than weighing
// 500 bound parameters each time (see Dialect.Arrays).
const anyMarker = "{{any}}"

// idsPerStmt is how many IDs one statement takes: 500 bound parameters at
// most, or one array of any length.
func (s *DB) idsPerStmt() int {
	if s.d.Arrays {
		return maxIDsPerArray
	}
	return usersPerInsert
}

// maxIDsPerArray bounds one array parameter: a claim's batch, and more.
const maxIDsPerArray = 10_000

// insertRows runs head + VALUES rows + tail for rows of width cols whose
// arguments are flattened in args, in statements of 100, 10 and 1 rows.
func (s *DB) insertRows(ctx context.Context, tx *sql.Tx, head, tail string, cols int, args []any) error {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	for rows := len(args) / cols; rows > 0; {
		size := 1
		switch {
		case rows >= 500:
			size = 500
		case rows >= 100:
			size = 100
		case rows >= 10:
			size = 10
		}
		q := head + row + strings.Repeat(","+row, size-1) + tail
		if _, err := s.execPrepared(ctx, tx, s.q(q), args[:size*cols]...); err != nil {
			return err
		}
		args, rows = args[size*cols:], rows-size
	}
	if len(args) != 0 {
		return fmt.Errorf("insert rows: %d arguments left over for %d columns", len(args), cols)
	}
	return nil
}

// putAccount upserts one known account.
func (s *DB) putAccount(ctx context.Context, tx *sql.Tx, a *store.Account) error {
	return s.putAccounts(ctx, tx, []*store.Account{a})
}

// collect scans every row of a query into a slice and closes the rows.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
