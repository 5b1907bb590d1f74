package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
)

// memberKey is the indexed 64-bit hash of a member id (migration 0009).
func memberKey(memberID string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(memberID))
	return int64(h.Sum64())
}

// memberKeys returns the distinct keys of member ids, as query arguments.
func memberKeys(memberIDs []string) []int64 {
	seen := make(map[int64]bool, len(memberIDs))
	out := make([]int64, 0, len(memberIDs))
	for _, id := range memberIDs {
		if k := memberKey(id); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// fillMemberKeys computes member_key for accounts stored before migration 0009.
func (s *DB) fillMemberKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT app_id, user_id, member_id FROM app_accounts`)
	if err != nil {
		return err
	}
	type row struct {
		app, user int64
		member    string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.app, &r.user, &r.member); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE app_accounts SET member_key = ? WHERE app_id = ? AND user_id = ?`), memberKey(r.member), r.app, r.user); err != nil {
			return fmt.Errorf("fill member keys: %w", err)
		}
	}
	return nil
}
