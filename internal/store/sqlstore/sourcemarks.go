package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// SourceMark returns where the source's last read ended.
func (s *DB) SourceMark(ctx context.Context, id int64) (store.SourceMark, error) {
	var m store.SourceMark
	var full int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT high_water, full_sync_at FROM sources WHERE id = ?`), id).Scan(&m.HighWater, &full)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%w: source %d", directory.ErrNotFound, id)
	}
	if err != nil {
		return m, fmt.Errorf("read mark of source %d: %w", id, err)
	}
	if full != 0 {
		m.FullSyncAt = fromNanos(full)
	}
	return m, nil
}

// SetSourceMark records where a read that was applied ended.
func (s *DB) SetSourceMark(ctx context.Context, id int64, m store.SourceMark) error {
	q := `UPDATE sources SET high_water = ? WHERE id = ?`
	args := []any{m.HighWater, id}
	if !m.FullSyncAt.IsZero() {
		q = `UPDATE sources SET high_water = ?, full_sync_at = ? WHERE id = ?`
		args = []any{m.HighWater, nanos(m.FullSyncAt), id}
	}
	if _, err := s.wdb.ExecContext(ctx, s.q(q), args...); err != nil {
		return fmt.Errorf("record mark of source %d: %w", id, err)
	}
	return nil
}
