package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/audit"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func (s *DB) failItem(ctx context.Context, tx *sql.Tx, owner string, o *store.Outcome) error {
	state := "queued"
	if o.GiveUp {
		state = "task"
	}
	_, err := s.execPrepared(ctx, tx, s.q(`UPDATE work_items SET attempts = attempts + 1, last_error = ?, due_at = ?, state = ?,
		lease_owner = '', lease_until = 0 WHERE app_id = ? AND kind = ? AND ref_id = ? AND lease_owner = ?`),
		truncate(o.Err.Error(), 2000), nanos(o.RetryAt), state, o.Item.AppID, o.Item.Kind, o.Item.RefID, owner)
	if err != nil {
		return fmt.Errorf("reschedule work item: %w", err)
	}
	return nil
}

// putAccounts upserts known accounts with multi-row statements.
func (s *DB) putAccounts(ctx context.Context, tx *sql.Tx, accts []*store.Account) error {
	now := s.now().UTC()
	args := make([]any, 0, len(accts)*14)
	for _, a := range accts {
		a.UpdatedAt = now
		removed, removedAt := a.Status == "removed", int64(0)
		if removed {
			removedAt = optNanos(a.RemovedAt)
		}
		args = append(args, a.AppID, a.UserID, a.MemberID, a.Email, a.GivenName, a.Surname, a.ExternalID, a.Role, a.Status,
			flag01(a.Silent), nanos(now), flag01(a.Recoverable && removed), removedAt, memberKey(a.MemberID))
	}
	err := s.insertRows(ctx, tx, `INSERT INTO app_accounts (`+accountCols+`, member_key) VALUES `,
		` ON CONFLICT (app_id, user_id) DO UPDATE SET member_id = excluded.member_id, email = excluded.email,
			given_name = excluded.given_name, surname = excluded.surname, external_id = excluded.external_id,
			role = excluded.role, status = excluded.status, silent = excluded.silent, updated_at = excluded.updated_at,
			recoverable = excluded.recoverable, removed_at = excluded.removed_at, member_key = excluded.member_key`, 14, args)
	if err != nil {
		return fmt.Errorf("store accounts: %w", err)
	}
	return nil
}

func flag01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

const accountCols = `app_id, user_id, member_id, email, given_name, surname, external_id, role, status, silent, updated_at, recoverable, removed_at`

func scanAccount(r scanner) (store.Account, error) {
	var a store.Account
	var silent, recoverable int
	var updated, removed int64
	err := r.Scan(&a.AppID, &a.UserID, &a.MemberID, &a.Email, &a.GivenName, &a.Surname, &a.ExternalID, &a.Role, &a.Status, &silent, &updated, &recoverable, &removed)
	a.Silent, a.UpdatedAt, a.Recoverable, a.RemovedAt = silent == 1, fromNanos(updated), recoverable == 1, fromOptNanos(removed)
	return a, err
}

// Accounts returns the known accounts of the given users in an app.
func (s *DB) Accounts(ctx context.Context, appID int64, userIDs []int64) (map[int64]store.Account, error) {
	out := make(map[int64]store.Account, len(userIDs))
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT `+accountCols+` FROM app_accounts WHERE app_id = ? AND user_id IN `+in), append([]any{appID}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[a.UserID] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListAccounts pages through an app's known accounts by user ID.
func (s *DB) ListAccounts(ctx context.Context, appID int64, p store.Page) ([]store.Account, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+accountCols+` FROM app_accounts WHERE app_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`),
		appID, p.After, limitOr(p.Limit, 1000, 10000))
	return collect(rows, err, scanAccount)
}

// EffectiveRoles resolves each user's role in the app from its assignments:
// a direct one wins, else the most privileged of its groups' in the app
// kind's order, read only when two group roles differ.
func (s *DB) EffectiveRoles(ctx context.Context, appID int64, userIDs []int64) (map[int64]directory.Role, error) {
	out := make(map[int64]directory.Role, len(userIDs))
	direct := map[int64]bool{}
	var tied []int64                       // users with two different group roles
	groups := map[int64][]directory.Role{} // their group roles
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		rows, err := s.queryPrepared(ctx, nil, s.q(userRoles(in)), append(append([]any{appID}, args...), append([]any{appID}, args...)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var grant sql.NullString
			var isDirect int
			if err := rows.Scan(&id, &grant, &isDirect); err != nil {
				rows.Close()
				return nil, err
			}
			role := directory.Role(grant.String)
			switch cur, seen := out[id]; {
			case !grant.Valid: // a group of the user's that the app is not assigned
			case isDirect == 1:
				out[id], direct[id] = role, true
			case direct[id]:
			case !seen:
				out[id] = role
			case cur != role:
				if groups[id] == nil {
					tied, groups[id] = append(tied, id), []directory.Role{cur}
				}
				groups[id] = append(groups[id], role)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, s.rankTied(ctx, appID, out, direct, tied, groups)
}

// userRoles selects (app ID, user IDs, app ID, user IDs) each user's direct
// assignment (flag 1) and one row per group of the user's (flag 0) with the
// role the app's assignment of that group gives, or NULL where the app does
// not assign it. An inner join let planners turn it round into a scan of
// every group the app assigns with a probe per user each, which made a sync
// over many assigned groups quadratic (issue 17); in a LEFT JOIN the
// memberships are the outer side, so SQLite reads the user's own groups and
// probes the app's (app_id, group_id) index for each, and PostgreSQL does
// that or hashes the app's group assignments once per statement. (A
// correlated subquery forces the same order, but PostgreSQL runs one
// subplan per membership: 220 ms for 2,000 users in 11 groups each, against
// 13 ms joined.) DISTINCT sends one row per user and role, not one per
// group: a tenth of the rows when each user sits in ten groups of one role.
func userRoles(in string) string {
	return `SELECT user_id, role, 1 FROM assignments WHERE app_id = ? AND user_id IN ` + in + `
		UNION ALL SELECT DISTINCT m.user_id, a.role, 0 FROM group_members m
		LEFT JOIN assignments a ON a.app_id = ? AND a.group_id = m.group_id
		WHERE m.user_id IN ` + in
}

// rankTied gives each tied user not assigned directly its most privileged group role.
func (s *DB) rankTied(ctx context.Context, appID int64, out map[int64]directory.Role, direct map[int64]bool, tied []int64, groups map[int64][]directory.Role) error {
	if len(tied) == 0 {
		return nil
	}
	kind, err := s.appKind(ctx, s.db, appID)
	if err != nil {
		return err
	}
	rank := s.kinds.RoleRank(kind)
	for _, id := range tied {
		if direct[id] {
			continue
		}
		best := groups[id][0]
		for _, r := range groups[id][1:] {
			best = morePrivileged(rank, best, r)
		}
		out[id] = best
	}
	return nil
}

// morePrivileged returns the higher ranked of two roles; of two the kind
// does not rank, the first, as the old order did.
func morePrivileged(rank func(string) int, a, b directory.Role) directory.Role {
	if rank(string(b)) > rank(string(a)) {
		return b
	}
	return a
}

// UsersByID loads users by ID; missing ones are absent from the map.
func (s *DB) UsersByID(ctx context.Context, ids []int64) (map[int64]directory.User, error) {
	out := make(map[int64]directory.User, len(ids))
	for start := 0; start < len(ids); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, ids[start:min(start+s.idsPerStmt(), len(ids))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT `+userCols+` FROM users WHERE id IN `+in), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[u.ID] = u
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListTasks lists the items that wait for an admin; appID 0 lists all apps.
func (s *DB) ListTasks(ctx context.Context, appID int64) ([]store.Task, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT app_id, kind, ref_id, reason, attempts, last_error, due_at FROM work_items
		WHERE state = 'task' AND (? = 0 OR app_id = ?) ORDER BY app_id, ref_id`), appID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Task
	for rows.Next() {
		var t store.Task
		var since int64
		if err := rows.Scan(&t.AppID, &t.Kind, &t.RefID, &t.Reason, &t.Attempts, &t.LastError, &since); err != nil {
			return nil, err
		}
		t.Since = fromNanos(since)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RetryTask returns a task to the queue with fresh attempts, due now.
func (s *DB) RetryTask(ctx context.Context, by store.Actor, appID int64, kind string, refID int64) error {
	return s.changeTask(ctx, by, appID, kind, refID, "task.retry",
		`UPDATE work_items SET state = 'queued', attempts = 0, due_at = ?, last_error = '' WHERE app_id = ? AND kind = ? AND ref_id = ? AND state = 'task'`,
		nanos(s.now()))
}

// DismissTask drops a task; the next change to its target queues it afresh.
func (s *DB) DismissTask(ctx context.Context, by store.Actor, appID int64, kind string, refID int64) error {
	return s.changeTask(ctx, by, appID, kind, refID, "task.dismiss",
		`DELETE FROM work_items WHERE app_id = ? AND kind = ? AND ref_id = ? AND state = 'task'`)
}

func (s *DB) changeTask(ctx context.Context, by store.Actor, appID int64, kind string, refID int64, action, stmt string, first ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(stmt), append(first, appID, kind, refID)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no task for %s %d in app %d", directory.ErrNotFound, kind, refID, appID)
		}
		var app string
		_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&app)
		return s.logChange(ctx, tx, by, action, kind, fmt.Sprint(refID), app, nil)
	})
}

// EnqueueAll queues every user the app holds or should hold: assigned users and
// users with a known account, so that unassigned leftovers are reconciled too.
func (s *DB) EnqueueAll(ctx context.Context, appID int64, reason string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.enqueueApp(ctx, tx, appID, reason); err != nil {
			return err
		}
		now := nanos(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
			SELECT app_id, 'user', user_id, ?, 1, ?, ? FROM app_accounts WHERE app_id = ?`+upsertWork), reason, now, now, appID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM work_items WHERE app_id = ? AND state = 'queued'`), appID).Scan(&n)
	})
	return int(n), err
}

var _ store.Engine = (*DB)(nil)

// EnqueueUsers queues the given users of one app in multi-row statements.
func (s *DB) EnqueueUsers(ctx context.Context, appID int64, userIDs []int64, reason string) error {
	if len(userIDs) == 0 {
		return nil
	}
	now := nanos(s.now())
	args := make([]any, 0, len(userIDs)*7)
	seen := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if !seen[id] { // PostgreSQL refuses one upsert touching a row twice
			seen[id] = true
			args = append(args, appID, store.WorkUser, id, reason, 1, now, now)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := s.insertRows(ctx, tx, `INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at) VALUES `, upsertWork, 7, args)
		if err != nil {
			return fmt.Errorf("queue users of app %d: %w", appID, err)
		}
		return nil
	})
}

// CorrectAccounts stores a reconciliation's findings atomically.
func (s *DB) CorrectAccounts(ctx context.Context, appID int64, put []store.Account, forget []int64, logs []audit.Entry) error {
	accts := make([]*store.Account, len(put))
	for i := range put {
		if put[i].AppID != appID {
			return fmt.Errorf("%w: account of user %d belongs to app %d, not %d", directory.ErrInvalid, put[i].UserID, put[i].AppID, appID)
		}
		accts[i] = &put[i]
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertLogs(ctx, tx, logs); err != nil {
			return err
		}
		if err := s.putAccounts(ctx, tx, accts); err != nil {
			return err
		}
		return s.execIDs(ctx, tx, `DELETE FROM app_accounts WHERE app_id = ? AND user_id IN `, []any{appID}, forget)
	})
}

// TargetUsers lists the users a plan covers, in ID order.
func (s *DB) TargetUsers(ctx context.Context, appID int64, full bool) ([]int64, error) {
	query := `SELECT ref_id FROM work_items WHERE app_id = ? AND kind = 'user' AND state IN ('queued', 'held') ORDER BY ref_id`
	args := []any{appID}
	if full {
		query = `SELECT user_id FROM assignments WHERE app_id = ? AND user_id IS NOT NULL
			UNION SELECT m.user_id FROM assignments a JOIN group_members m ON m.group_id = a.group_id WHERE a.app_id = ?
			UNION SELECT user_id FROM app_accounts WHERE app_id = ? ORDER BY 1`
		args = []any{appID, appID, appID}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CountAccounts counts an app's known accounts that still exist.
func (s *DB) CountAccounts(ctx context.Context, appID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM app_accounts WHERE app_id = ? AND status <> 'removed'`), appID).Scan(&n)
	return n, err
}
