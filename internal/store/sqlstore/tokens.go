package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// CreateToken stores the hash of a new admin token.
func (s *DB) CreateToken(ctx context.Context, by store.Actor, name string, hash []byte) (store.Token, error) {
	t := store.Token{Name: strings.TrimSpace(name), CreatedAt: s.now().UTC()}
	if t.Name == "" || len(t.Name) > 100 {
		return t, fmt.Errorf("%w: a token needs a name of 1–100 characters", directory.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?) RETURNING id`),
			t.Name, hash, nanos(t.CreatedAt)).Scan(&t.ID); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return s.logChange(ctx, tx, by, "token.create", "token", t.Name, "", map[string]any{"id": t.ID})
	})
	return t, err
}

// TokenByHash finds a token by its hash and notes when it was last used.
func (s *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	var t store.Token
	var created, used int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, name, created_at, last_used_at FROM api_tokens WHERE hash = ?`), hash).Scan(&t.ID, &t.Name, &created, &used)
	if isNoRows(err) {
		return t, fmt.Errorf("%w: token", directory.ErrNotFound)
	}
	if err != nil {
		return t, err
	}
	t.CreatedAt = fromNanos(created)
	now := s.now()
	// Record use at most once a minute, so that authentication is not a write per request.
	if now.UnixNano()-used > 60e9 {
		if _, err := s.wdb.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), nanos(now), t.ID); err != nil {
			return t, err
		}
		used = nanos(now)
	}
	lu := fromNanos(used)
	t.LastUsed = &lu
	return t, nil
}

// ListTokens lists tokens without their hashes.
func (s *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		var t store.Token
		var created, used int64
		if err := rows.Scan(&t.ID, &t.Name, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt = fromNanos(created)
		if used > 0 {
			lu := fromNanos(used)
			t.LastUsed = &lu
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes a token.
func (s *DB) DeleteToken(ctx context.Context, by store.Actor, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM api_tokens WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: token %d", directory.ErrNotFound, id)
		}
		return s.logChange(ctx, tx, by, "token.delete", "token", fmt.Sprint(id), "", nil)
	})
}

var _ store.Store = (*DB)(nil)
