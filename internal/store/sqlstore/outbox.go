package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/store"
)

// upsertWork makes a repeated change to the same target coalesce into one item:
// the generation grows, the item becomes due now, and a failing item (or a
// task) gets a fresh set of attempts because the desired state has changed.
const upsertWork = ` ON CONFLICT (app_id, kind, ref_id) DO UPDATE SET
	generation = work_items.generation + 1, reason = excluded.reason,
	due_at = excluded.due_at, attempts = 0, last_error = '', state = 'queued'`

// userApps selects the apps a user (bound twice) is assigned to, directly or
// through a group. CROSS JOIN keeps SQLite's join order: from the user's
// memberships to their groups' assignments, never every assignment first.
const userApps = `SELECT a.app_id FROM assignments a WHERE a.user_id = ?
	UNION SELECT a.app_id FROM group_members m CROSS JOIN assignments a WHERE m.user_id = ? AND a.group_id = m.group_id`

// enqueueUser writes a work item for every app the user is assigned to.
func (s *DB) enqueueUser(ctx context.Context, tx *sql.Tx, userID int64, reason string) error {
	now := nanos(s.now())
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		SELECT app_id, 'user', ?, ?, 1, ?, ? FROM (`+userApps+`) x WHERE true`+upsertWork),
		userID, reason, now, now, userID, userID)
	if err != nil {
		return fmt.Errorf("enqueue user %d: %w", userID, err)
	}
	// A status change moves the user in or out of the pushed groups it is in.
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		SELECT p.app_id, 'group', p.group_id, ?, 1, ?, ? FROM pushed_groups p JOIN group_members m ON m.group_id = p.group_id
		WHERE m.user_id = ? AND p.unlink = 0`+upsertWork), reason, now, now, userID)
	if err != nil {
		return fmt.Errorf("enqueue pushed groups of user %d: %w", userID, err)
	}
	return nil
}

// enqueueInGroupApps queues users in every app their group is assigned to.
func (s *DB) enqueueInGroupApps(ctx context.Context, tx *sql.Tx, groupID int64, userIDs []int64, reason string) error {
	apps, err := s.int64s(ctx, tx, `SELECT app_id FROM assignments WHERE group_id = ?`, groupID)
	if err != nil {
		return fmt.Errorf("enqueue members of group %d: %w", groupID, err)
	}
	now := nanos(s.now())
	for _, appID := range apps {
		args := make([]any, 0, 7*len(userIDs))
		for _, id := range userIDs {
			args = append(args, appID, store.WorkUser, id, reason, 1, now, now)
		}
		err := s.insertRows(ctx, tx, `INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at) VALUES `, upsertWork, 7, args)
		if err != nil {
			return fmt.Errorf("enqueue members of group %d: %w", groupID, err)
		}
	}
	return nil
}

// enqueueGroupMembers writes items for every member of a group in one app, or
// in every app the group is assigned to when appID is 0.
func (s *DB) enqueueGroupMembers(ctx context.Context, tx *sql.Tx, appID, groupID int64, reason string) error {
	now := nanos(s.now())
	query := `INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		SELECT a.app_id, 'user', m.user_id, ?, 1, ?, ? FROM group_members m JOIN assignments a ON a.group_id = m.group_id
		WHERE m.group_id = ? AND (? = 0 OR a.app_id = ?)` + upsertWork
	if _, err := tx.ExecContext(ctx, s.q(query), reason, now, now, groupID, appID, appID); err != nil {
		return fmt.Errorf("enqueue members of group %d: %w", groupID, err)
	}
	return nil
}

// enqueuePair writes one item for one user in one app.
func (s *DB) enqueuePair(ctx context.Context, tx *sql.Tx, appID, userID int64, reason string) error {
	now := nanos(s.now())
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		VALUES (?, 'user', ?, ?, 1, ?, ?)`+upsertWork), appID, userID, reason, now, now)
	if err != nil {
		return fmt.Errorf("enqueue user %d in app %d: %w", userID, appID, err)
	}
	return nil
}

// PendingWork lists an app's queued items, oldest due first; appID 0 lists all apps.
func (s *DB) PendingWork(ctx context.Context, appID int64, limit int) ([]store.WorkItem, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT app_id, kind, ref_id, reason, generation, attempts, due_at, created_at, lease_owner, lease_until, state
		FROM work_items WHERE (? = 0 OR app_id = ?) ORDER BY due_at, app_id, ref_id LIMIT ?`), appID, appID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.WorkItem
	for rows.Next() {
		var w store.WorkItem
		var due, created, until int64
		if err := rows.Scan(&w.AppID, &w.Kind, &w.RefID, &w.Reason, &w.Generation, &w.Attempts, &due, &created, &w.LeaseOwner, &until, &w.State); err != nil {
			return nil, err
		}
		w.DueAt, w.CreatedAt = fromNanos(due), fromNanos(created)
		if until > 0 {
			w.LeaseUntil = fromNanos(until)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
