package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/store"
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// logChange records a successful change inside the transaction that made it.
func (s *DB) logChange(ctx context.Context, tx *sql.Tx, by store.Actor, action, kind, target, app string, detail map[string]any) error {
	return s.insertLog(ctx, tx, audit.Entry{
		At: s.now(), Actor: string(by), Action: action, TargetKind: kind, Target: target,
		App: app, Outcome: audit.Success, Detail: detail,
	})
}

func (s *DB) insertLog(ctx context.Context, ex execer, e audit.Entry) error {
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("encode log detail: %w", err)
		}
		detail = string(b)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := ex.ExecContext(ctx, s.q(`INSERT INTO audit_log (at, actor, action, target_kind, target, app, outcome, message, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), nanos(e.At), e.Actor, e.Action, e.TargetKind, e.Target, e.App, e.Outcome, e.Message, detail)
	if err != nil {
		return fmt.Errorf("write system log: %w", err)
	}
	return nil
}

// insertLogs writes many entries with multi-row statements.
func (s *DB) insertLogs(ctx context.Context, tx *sql.Tx, es []audit.Entry) error {
	rows, err := s.logRows(es)
	if err != nil {
		return err
	}
	return s.insertLogRows(ctx, tx, rows)
}

// logRows encodes entries as insertLogRows's arguments. Callers holding the
// single writer encode before they take it.
func (s *DB) logRows(es []audit.Entry) ([]any, error) {
	args := make([]any, 0, len(es)*9)
	for _, e := range es {
		detail := "{}"
		if len(e.Detail) > 0 {
			b, err := json.Marshal(e.Detail)
			if err != nil {
				return nil, fmt.Errorf("encode log detail: %w", err)
			}
			detail = string(b)
		}
		if e.At.IsZero() {
			e.At = s.now()
		}
		args = append(args, nanos(e.At), e.Actor, e.Action, e.TargetKind, e.Target, e.App, e.Outcome, e.Message, detail)
	}
	return args, nil
}

func (s *DB) insertLogRows(ctx context.Context, tx *sql.Tx, rows []any) error {
	if err := s.insertRows(ctx, tx, `INSERT INTO audit_log (at, actor, action, target_kind, target, app, outcome, message, detail) VALUES `, "", 9, rows); err != nil {
		return fmt.Errorf("write system log: %w", err)
	}
	return nil
}

// AppendLog records an entry on its own, for outcomes that are not a stored change.
func (s *DB) AppendLog(ctx context.Context, e audit.Entry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.insertLog(ctx, tx, e) })
}

// ListLog returns entries matching f, newest first.
func (s *DB) ListLog(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	where, args := logWhere(f)
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	query := `SELECT id, at, actor, action, target_kind, target, app, outcome, message, detail FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limitOr(f.Limit, 100, 1000))
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.TargetKind, &e.Target, &e.App, &e.Outcome, &e.Message, &detail); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		if detail != "{}" {
			if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
				return nil, fmt.Errorf("decode log detail of entry %d: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// logWhere is the condition of a log query, without its paging.
func logWhere(f audit.Filter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	for _, c := range []struct{ col, v string }{
		{"actor", f.Actor}, {"action", f.Action}, {"target_kind", f.TargetKind},
		{"target", f.Target}, {"app", f.App}, {"outcome", f.Outcome},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if !f.Since.IsZero() {
		add("at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", nanos(f.Until))
	}
	return where, args
}

// limitOr clamps a requested page size.
func limitOr(n, def, max int) int {
	switch {
	case n <= 0:
		return def
	case n > max:
		return max
	}
	return n
}
