package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/store"
)

const offboardCols = `app_id, user_id, settings, started_at, phase, remove_due_at, held, confirmed_by, kept`

func scanOffboarding(r scanner) (store.Offboarding, error) {
	var o store.Offboarding
	var settings string
	var started, due int64
	var held, kept int
	if err := r.Scan(&o.AppID, &o.UserID, &settings, &started, &o.Phase, &due, &held, &o.ConfirmedBy, &kept); err != nil {
		return o, err
	}
	if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
		return o, fmt.Errorf("decode off-boarding settings of user %d: %w", o.UserID, err)
	}
	o.StartedAt, o.Held, o.Kept = fromNanos(started), held == 1, kept == 1
	if due > 0 {
		o.RemoveDue = fromNanos(due)
	}
	return o, nil
}

// Offboardings loads the records of the given users of an app.
func (s *DB) Offboardings(ctx context.Context, appID int64, userIDs []int64) (map[int64]store.Offboarding, error) {
	out := map[int64]store.Offboarding{}
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT `+offboardCols+` FROM offboardings WHERE app_id = ? AND user_id IN `+in), append([]any{appID}, args...)...)
		list, err := collect(rows, err, scanOffboarding)
		if err != nil {
			return nil, fmt.Errorf("load off-boardings: %w", err)
		}
		for _, o := range list {
			out[o.UserID] = o
		}
	}
	return out, nil
}

// ListOffboardings lists an app's records, or every app's for appID 0.
func (s *DB) ListOffboardings(ctx context.Context, appID int64) ([]store.Offboarding, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+offboardCols+` FROM offboardings WHERE (? = 0 OR app_id = ?) ORDER BY app_id, user_id`), appID, appID)
	return collect(rows, err, scanOffboarding)
}

// putOffboardings creates records, or updates the phase, due time and hold
// of existing ones: the intent and an admin's confirmation or cancellation
// are never overwritten by a worker, and a confirmed one is never held.
func (s *DB) putOffboardings(ctx context.Context, tx *sql.Tx, obs []*store.Offboarding) error {
	args := make([]any, 0, 9*len(obs))
	for _, o := range obs {
		settings, err := json.Marshal(o.Settings)
		if err != nil {
			return err
		}
		due := int64(0)
		if !o.RemoveDue.IsZero() {
			due = nanos(o.RemoveDue)
		}
		args = append(args, o.AppID, o.UserID, string(settings), nanos(o.StartedAt), o.Phase, due, flag01(o.Held && o.ConfirmedBy == ""), o.ConfirmedBy, flag01(o.Kept))
	}
	err := s.insertRows(ctx, tx, `INSERT INTO offboardings (`+offboardCols+`) VALUES `,
		` ON CONFLICT (app_id, user_id) DO UPDATE SET phase = excluded.phase, remove_due_at = excluded.remove_due_at,
			held = CASE WHEN offboardings.confirmed_by <> '' THEN 0 ELSE excluded.held END`, 9, args)
	if err != nil {
		return fmt.Errorf("store off-boardings: %w", err)
	}
	return nil
}

// holdItems parks the items of held off-boardings; an item whose
// off-boarding an admin confirmed meanwhile is queued again instead.
func (s *DB) holdItems(ctx context.Context, tx *sql.Tx, owner string, appID int64, ids []int64) error {
	return s.execIDs(ctx, tx, `UPDATE work_items SET state = CASE WHEN EXISTS (SELECT 1 FROM offboardings o
			WHERE o.app_id = work_items.app_id AND o.user_id = work_items.ref_id AND o.held = 1) THEN 'held' ELSE 'queued' END,
		lease_owner = '', lease_until = 0 WHERE app_id = ? AND kind = 'user' AND lease_owner = ? AND ref_id IN `, []any{appID, owner}, ids)
}

// ReserveOffboards counts the app's window and records the events when they fit.
func (s *DB) ReserveOffboards(ctx context.Context, appID int64, since time.Time, maxAll, maxIrreversible int, evs []store.OffboardEvent) (bool, error) {
	if len(evs) == 0 {
		return true, nil
	}
	ok := true
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The app's row serialises reservations of one app across processes.
		var id int64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM apps WHERE id = ?`+s.d.ForUpdate), appID).Scan(&id); err != nil {
			return fmt.Errorf("lock app %d: %w", appID, err)
		}
		var all, irr sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), SUM(irreversible) FROM offboard_events WHERE app_id = ? AND at > ?`),
			appID, nanos(since)).Scan(&all, &irr); err != nil {
			return fmt.Errorf("count off-boardings: %w", err)
		}
		n, ni, unconfirmed := int(all.Int64), int(irr.Int64), false
		for _, e := range evs {
			n++
			if e.Irreversible {
				ni++
			}
			unconfirmed = unconfirmed || !e.Confirmed
		}
		if unconfirmed && (n > maxAll || ni > maxIrreversible) {
			ok = false
			return nil
		}
		now := nanos(s.now())
		args := make([]any, 0, 5*len(evs))
		for _, e := range evs {
			args = append(args, appID, e.UserID, now, flag01(e.Irreversible), flag01(e.Confirmed))
		}
		if err := s.insertRows(ctx, tx, `INSERT INTO offboard_events (app_id, user_id, at, irreversible, confirmed) VALUES `, "", 5, args); err != nil {
			return fmt.Errorf("record off-boardings: %w", err)
		}
		// Events older than a week serve no window.
		_, err := tx.ExecContext(ctx, s.q(`DELETE FROM offboard_events WHERE app_id = ? AND at < ?`), appID, now-int64(7*24*time.Hour))
		return err
	})
	return ok, err
}

// ConfirmOffboardings records an admin's confirmation for these users.
func (s *DB) ConfirmOffboardings(ctx context.Context, by store.Actor, appID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, settings, err := s.appIntent(ctx, tx, appID)
		if err != nil {
			return err
		}
		now := nanos(s.now())
		args := make([]any, 0, 5*len(userIDs))
		for _, id := range userIDs {
			args = append(args, appID, id, settings, now, string(by))
		}
		if err := s.insertRows(ctx, tx, `INSERT INTO offboardings (app_id, user_id, settings, started_at, confirmed_by) VALUES `,
			` ON CONFLICT (app_id, user_id) DO UPDATE SET confirmed_by = excluded.confirmed_by, held = 0`, 5, args); err != nil {
			return fmt.Errorf("record confirmation: %w", err)
		}
		return s.execIDsWith(ctx, tx, `UPDATE work_items SET state = 'queued', due_at = ?
			WHERE app_id = ? AND kind = 'user' AND state = 'held' AND ref_id IN `, []any{now, appID}, userIDs)
	})
}

// ReleaseHeld releases held off-boardings as confirmed by the admin.
func (s *DB) ReleaseHeld(ctx context.Context, by store.Actor, appID int64, userIDs []int64) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.appByID(ctx, tx, appID)
		if err != nil {
			return err
		}
		if userIDs == nil {
			if userIDs, err = s.int64s(ctx, tx, `SELECT user_id FROM offboardings WHERE app_id = ? AND held = 1`, appID); err != nil {
				return err
			}
		}
		if userIDs, err = s.heldAmong(ctx, tx, appID, userIDs); err != nil || len(userIDs) == 0 {
			return err
		}
		n = len(userIDs)
		if err := s.execIDsWith(ctx, tx, `UPDATE offboardings SET held = 0, confirmed_by = ? WHERE app_id = ? AND held = 1 AND user_id IN `,
			[]any{string(by), appID}, userIDs); err != nil {
			return err
		}
		if err := s.execIDsWith(ctx, tx, `UPDATE work_items SET state = 'queued', due_at = ?
			WHERE app_id = ? AND kind = 'user' AND state = 'held' AND ref_id IN `, []any{nanos(s.now()), appID}, userIDs); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "offboard.release", "app", a.Name, a.Name, map[string]any{"users": n})
	})
	return n, err
}

// heldAmong keeps the users whose off-boarding the guard holds.
func (s *DB) heldAmong(ctx context.Context, tx *sql.Tx, appID int64, userIDs []int64) ([]int64, error) {
	var out []int64
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		ids, err := s.int64s(ctx, tx, `SELECT user_id FROM offboardings WHERE app_id = ? AND held = 1 AND user_id IN `+in, append([]any{appID}, args...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, ids...)
	}
	return out, nil
}

// HeldOffboardings counts what the guard holds in an app.
func (s *DB) HeldOffboardings(ctx context.Context, appID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM offboardings WHERE app_id = ? AND held = 1`), appID).Scan(&n)
	return n, err
}

// OffboardsSince counts the guard's window so far.
func (s *DB) OffboardsSince(ctx context.Context, appID int64, since time.Time) (int, int, error) {
	var all, irr sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*), SUM(irreversible) FROM offboard_events WHERE app_id = ? AND at > ?`),
		appID, nanos(since)).Scan(&all, &irr)
	return int(all.Int64), int(irr.Int64), err
}

// KeepOffboarded cancels a pending removal.
func (s *DB) KeepOffboarded(ctx context.Context, by store.Actor, appID, userID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.appByID(ctx, tx, appID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE offboardings SET kept = 1, held = 0, phase = 'final', remove_due_at = 0 WHERE app_id = ? AND user_id = ?`), appID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("off-boarding of user", fmt.Sprint(userID))
		}
		if err := s.enqueuePair(ctx, tx, appID, userID, "offboard.keep"); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "offboard.keep", "user", fmt.Sprint(userID), a.Name, map[string]any{"user_id": userID})
	})
}

// ReapplyOffboardings makes the settings in force now the intent of past leavers.
func (s *DB) ReapplyOffboardings(ctx context.Context, by store.Actor, appID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, settings, err := s.appIntent(ctx, tx, appID)
		if err != nil {
			return err
		}
		now := nanos(s.now())
		if err := s.execIDsWith(ctx, tx, `UPDATE offboardings SET settings = ?, started_at = ?, phase = 'final', remove_due_at = 0,
			kept = 0, held = 0, confirmed_by = ? WHERE app_id = ? AND user_id IN `, []any{settings, now, string(by), appID}, userIDs); err != nil {
			return err
		}
		for _, id := range userIDs {
			if err := s.enqueuePair(ctx, tx, appID, id, "offboard.reapply"); err != nil {
				return err
			}
		}
		return s.logChange(ctx, tx, by, "offboard.reapply", "app", a.Name, a.Name, map[string]any{"users": len(userIDs), "settings": a.Settings.Deactivation})
	})
}

// QueueDueRemovals queues users whose grace period has ended.
func (s *DB) QueueDueRemovals(ctx context.Context, appID int64, now time.Time) (int, error) {
	const due = `SELECT user_id FROM offboardings WHERE phase = 'grace' AND remove_due_at <= ? AND app_id = ?`
	// Most passes find none: look before taking the writer.
	var one int64
	if err := s.db.QueryRowContext(ctx, s.q(due+` LIMIT 1`), nanos(now), appID).Scan(&one); isNoRows(err) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("find removals due: %w", err)
	}
	var n int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ids, err := s.int64s(ctx, tx, due, nanos(now), appID)
		if err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		if err := s.execIDs(ctx, tx, `UPDATE offboardings SET phase = 'final' WHERE app_id = ? AND user_id IN `, []any{appID}, ids); err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.enqueuePair(ctx, tx, appID, id, "offboard.due"); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// goneAccounts selects (appID bound once) the accounts of users the app no
// longer wants: deleted, deactivated or unassigned, and not yet removed.
// Whether a group still holds a user is asked from the user's memberships,
// so that each account costs its user's groups, not the app's: a scalar
// subquery, which PostgreSQL does not turn into a join that reads the app's
// assignments first, as it did EXISTS while the tables had no statistics.
const goneAccounts = `SELECT acc.app_id, acc.user_id FROM app_accounts acc
	WHERE acc.app_id = ? AND acc.status <> 'removed'
	AND NOT EXISTS (SELECT 1 FROM offboardings o WHERE o.app_id = acc.app_id AND o.user_id = acc.user_id)
	AND (NOT EXISTS (SELECT 1 FROM users u WHERE u.id = acc.user_id AND u.status <> 'deprovisioned')
		OR (NOT EXISTS (SELECT 1 FROM assignments a WHERE a.app_id = acc.app_id AND a.user_id = acc.user_id)
			AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = acc.user_id
				AND (SELECT a.id FROM assignments a WHERE a.app_id = acc.app_id AND a.group_id = m.group_id) IS NOT NULL)))`

// freezeLeavers records the settings in force until now as the intent of
// every leaver not yet off-boarded: a change of settings applies to future
// leavers only.
func (s *DB) freezeLeavers(ctx context.Context, tx *sql.Tx, appID int64, d app.Deactivation) error {
	settings, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO offboardings (app_id, user_id, settings, started_at)
		SELECT x.app_id, x.user_id, ?, ? FROM (`+goneAccounts+`) x`), string(settings), nanos(s.now()), appID)
	if err != nil {
		return fmt.Errorf("record the intent of past leavers: %w", err)
	}
	return nil
}

// freezeAllLeavers runs freezeLeavers for every app, when the table is new.
func (s *DB) freezeAllLeavers(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, appSelect)
	apps, err := collect(rows, err, scanApp)
	if err != nil {
		return err
	}
	for _, a := range apps {
		if err := s.freezeLeavers(ctx, tx, a.ID, a.Settings.Deactivation); err != nil {
			return err
		}
	}
	return nil
}

// appIntent reads an app and its deactivation settings in force now, as
// stored in an off-boarding record.
func (s *DB) appIntent(ctx context.Context, tx *sql.Tx, appID int64) (app.Instance, string, error) {
	a, err := s.appByID(ctx, tx, appID)
	if err != nil {
		return a, "", err
	}
	settings, err := json.Marshal(a.Settings.Deactivation)
	return a, string(settings), err
}

func (s *DB) appByID(ctx context.Context, q querier, id int64) (app.Instance, error) {
	a, err := scanApp(q.QueryRowContext(ctx, s.q(appSelect+` WHERE a.id = ?`), id))
	if isNoRows(err) {
		return a, notFound("app", fmt.Sprint(id))
	}
	return a, err
}

// execIDsWith runs query (ending in "IN ") for the IDs in chunks, binding head first.
func (s *DB) execIDsWith(ctx context.Context, tx *sql.Tx, query string, head []any, ids []int64) error {
	for start := 0; start < len(ids); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, ids[start:min(start+s.idsPerStmt(), len(ids))])
		if _, err := tx.ExecContext(ctx, s.q(query+in), append(append([]any{}, head...), args...)...); err != nil {
			return err
		}
	}
	return nil
}
