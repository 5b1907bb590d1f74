package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/store"
)

var _ store.Fleet = (*DB)(nil)

// deadWorkerGrace is how long a silent worker's row is kept, so a short
// database outage does not erase the fleet's memory of who was there.
const deadWorkerGrace = time.Hour

// Heartbeat upserts owner's row and lists the workers alive now.
func (s *DB) Heartbeat(ctx context.Context, owner string, ttl time.Duration) ([]store.FleetWorker, error) {
	now := s.now()
	var out []store.FleetWorker
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO fleet_workers (owner, started_at, alive_until) VALUES (?, ?, ?)
			ON CONFLICT (owner) DO UPDATE SET alive_until = excluded.alive_until`), owner, nanos(now), nanos(now.Add(ttl))); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM fleet_workers WHERE alive_until < ?`), nanos(now.Add(-deadWorkerGrace))); err != nil {
			return fmt.Errorf("forget dead workers: %w", err)
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT owner, started_at, alive_until FROM fleet_workers WHERE alive_until >= ? ORDER BY owner`), nanos(now))
		if err != nil {
			return fmt.Errorf("list workers: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var w store.FleetWorker
			var started, until int64
			if err := rows.Scan(&w.Owner, &started, &until); err != nil {
				return err
			}
			w.StartedAt, w.AliveUntil = fromNanos(started), fromNanos(until)
			out = append(out, w)
		}
		return rows.Err()
	})
	return out, err
}

// LeaveFleet drops owner's row and frees the lanes it still holds without a
// cooldown (a worker leaves after its calls have ended); lanes it released
// earlier keep theirs.
func (s *DB) LeaveFleet(ctx context.Context, owner string) error {
	now := nanos(s.now())
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM fleet_workers WHERE owner = ?`), owner); err != nil {
			return fmt.Errorf("leave fleet: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE app_lanes SET owner = '', lease_until = ? WHERE owner = ?`), now, owner); err != nil {
			return fmt.Errorf("free lanes: %w", err)
		}
		return nil
	})
}

// AcquireLane takes or renews a lane in one statement: the conflict clause
// updates only a row that is owner's or has expired, and on PostgreSQL it
// re-checks that under the row lock, so two claimants never both win.
func (s *DB) AcquireLane(ctx context.Context, appID int64, owner string, ttl time.Duration) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("acquire lane of app %d: empty owner", appID)
	}
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO app_lanes (app_id, owner, lease_until, since) VALUES (?, ?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until,
				since = CASE WHEN app_lanes.owner = excluded.owner THEN app_lanes.since ELSE excluded.since END
			WHERE app_lanes.owner = excluded.owner OR app_lanes.lease_until <= ?`),
			appID, owner, nanos(now.Add(ttl)), nanos(now), nanos(now))
		if err != nil {
			return fmt.Errorf("acquire lane of app %d: %w", appID, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// ReleaseLane frees owner's lane after cooldown; another's lane is untouched.
func (s *DB) ReleaseLane(ctx context.Context, appID int64, owner string, cooldown time.Duration) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE app_lanes SET owner = '', lease_until = ? WHERE app_id = ? AND owner = ?`),
			nanos(s.now().Add(cooldown)), appID, owner)
		if err != nil {
			return fmt.Errorf("release lane of app %d: %w", appID, err)
		}
		return nil
	})
}

// SetPace saves the app's pace with its lane, if owner still holds it.
func (s *DB) SetPace(ctx context.Context, appID int64, owner string, p store.Pace) error {
	js, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("save pace of app %d: %w", appID, err)
	}
	_, err = s.db.ExecContext(ctx, s.q(`UPDATE app_lanes SET pace = ? WHERE app_id = ? AND owner = ?`), string(js), appID, owner)
	if err != nil {
		return fmt.Errorf("save pace of app %d: %w", appID, err)
	}
	return nil
}

// Lanes lists every lane, held or not.
func (s *DB) Lanes(ctx context.Context) ([]store.Lane, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app_id, owner, lease_until, since, pace FROM app_lanes ORDER BY app_id`)
	if err != nil {
		return nil, fmt.Errorf("list lanes: %w", err)
	}
	defer rows.Close()
	var out []store.Lane
	for rows.Next() {
		var l store.Lane
		var until, since int64
		var pace string
		if err := rows.Scan(&l.AppID, &l.Owner, &until, &since, &pace); err != nil {
			return nil, err
		}
		if pace != "" {
			if err := json.Unmarshal([]byte(pace), &l.Pace); err != nil {
				return nil, fmt.Errorf("pace of app %d: %w", l.AppID, err)
			}
		}
		l.Until, l.Since = fromNanos(until), fromNanos(since)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ReleaseWork clears owner's leases; attempts and due times stay as they are.
func (s *DB) ReleaseWork(ctx context.Context, appID int64, owner string) (int, error) {
	return s.clearLeases(ctx, `UPDATE work_items SET lease_owner = '', lease_until = 0
		WHERE (? = 0 OR app_id = ?) AND lease_owner = ?`, appID, appID, owner)
}

// ReclaimWork clears the app's leases held by others.
func (s *DB) ReclaimWork(ctx context.Context, appID int64, owner string) (int, error) {
	return s.clearLeases(ctx, `UPDATE work_items SET lease_owner = '', lease_until = 0
		WHERE app_id = ? AND lease_owner <> '' AND lease_owner <> ?`, appID, owner)
}

func (s *DB) clearLeases(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(query), args...)
		if err != nil {
			return fmt.Errorf("hand back work: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// QueueStats counts each app's items in one pass over the queue.
func (s *DB) QueueStats(ctx context.Context) ([]store.QueueStat, error) {
	now := nanos(s.now())
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT app_id,
			SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END),
			SUM(CASE WHEN state = 'queued' AND due_at <= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN state = 'queued' AND lease_until >= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN state = 'task' THEN 1 ELSE 0 END),
			MIN(CASE WHEN state = 'queued' THEN created_at END),
			SUM(CASE WHEN state = 'queued' AND attempts > 0 THEN 1 ELSE 0 END)
		FROM work_items GROUP BY app_id ORDER BY app_id`), now, now)
	if err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	defer rows.Close()
	var out []store.QueueStat
	for rows.Next() {
		var q store.QueueStat
		var oldest sql.NullInt64
		if err := rows.Scan(&q.AppID, &q.Queued, &q.Due, &q.Leased, &q.Tasks, &oldest, &q.Retries); err != nil {
			return nil, err
		}
		if oldest.Valid {
			q.Oldest = fromNanos(oldest.Int64)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
