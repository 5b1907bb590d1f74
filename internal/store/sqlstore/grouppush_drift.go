package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// A pushed group's known members are compared with its directory group the
// way the planner does (planGroup): a member belongs in the Dropbox group
// when active or suspended in the directory, under the member id of the
// user's current live account. Known members Roster holds no account for
// (user_id 0) are left alone and never count as drift.

// knownStats classifies each known member: stale when its id is no longer
// its user's live account (Dropbox dropped it with the account), unexpected
// when it is and the directory does not want the user in the group.
const knownStats = `SELECT k.group_id,
	SUM(CASE WHEN k.user_id <> 0 AND (a.member_id IS NULL OR a.member_id <> k.member_id OR a.status = 'removed') THEN 1 ELSE 0 END),
	SUM(CASE WHEN k.user_id <> 0 AND a.member_id = k.member_id AND a.status <> 'removed' AND NOT EXISTS (
		SELECT 1 FROM group_members gm JOIN users u ON u.id = gm.user_id
		WHERE gm.group_id = k.group_id AND gm.user_id = k.user_id AND u.status IN (?, ?)) THEN 1 ELSE 0 END),
	COUNT(*)
	FROM pushed_group_members k LEFT JOIN app_accounts a ON a.app_id = k.app_id AND a.user_id = k.user_id
	WHERE k.app_id = ? GROUP BY k.group_id`

// missingStats counts wanted members without a live account, or whose
// account's id is not known in the group.
const missingStats = `SELECT p.group_id, COUNT(*) FROM pushed_groups p
	JOIN group_members gm ON gm.group_id = p.group_id JOIN users u ON u.id = gm.user_id
	LEFT JOIN app_accounts a ON a.app_id = p.app_id AND a.user_id = gm.user_id AND a.member_id <> '' AND a.status <> 'removed'
	WHERE p.app_id = ? AND u.status IN (?, ?) AND (a.user_id IS NULL OR NOT EXISTS (
		SELECT 1 FROM pushed_group_members k WHERE k.app_id = p.app_id AND k.group_id = p.group_id AND k.member_id = a.member_id))
	GROUP BY p.group_id`

// compareGroups fills in Members and Drift, and says drifted for a group no
// work waits for whose known members differ from the directory's.
func (s *DB) compareGroups(ctx context.Context, appID int64, ps []store.PushedGroup) error {
	wanted := []any{string(directory.StatusActive), string(directory.StatusSuspended)}
	members := map[int64]int{}
	drift := map[int64]*store.GroupDrift{}
	at := func(id int64) *store.GroupDrift {
		if drift[id] == nil {
			drift[id] = &store.GroupDrift{}
		}
		return drift[id]
	}
	rows, err := s.db.QueryContext(ctx, s.q(knownStats), append(wanted, appID)...)
	if err != nil {
		return fmt.Errorf("compare pushed groups: %w", err)
	}
	err = scanEach(rows, func(r scanner) error {
		var id int64
		var stale, unexpected, all int
		err := r.Scan(&id, &stale, &unexpected, &all)
		members[id] = all - stale
		if stale+unexpected > 0 {
			at(id).Stale, at(id).Unexpected = stale, unexpected
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("compare pushed groups: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, s.q(missingStats), append([]any{appID}, wanted...)...)
	if err != nil {
		return fmt.Errorf("compare pushed groups: %w", err)
	}
	err = scanEach(rows, func(r scanner) error {
		var id int64
		var n int
		err := r.Scan(&id, &n)
		at(id).Missing = n
		return err
	})
	if err != nil {
		return fmt.Errorf("compare pushed groups: %w", err)
	}
	for i := range ps {
		p := &ps[i]
		p.Members = members[p.GroupID]
		if p.Unlink || !p.InDirectory || p.RemoteID == "" {
			continue // nothing to compare: being unlinked, or not made yet
		}
		p.Drift = drift[p.GroupID]
		if p.Drift != nil && p.State == "in_step" {
			p.State = "drifted"
		}
	}
	return nil
}

// RecordGroupCheck stores what a read of a pushed group found. A group
// unlinked or linked to another Dropbox group meanwhile is left as it is.
func (s *DB) RecordGroupCheck(ctx context.Context, c store.GroupCheck) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.insertLogs(ctx, tx, c.Logs); err != nil {
			return err
		}
		var remote string
		var unlink int
		err := tx.QueryRowContext(ctx, s.q(`SELECT remote_id, unlink FROM pushed_groups WHERE app_id = ? AND group_id = ?`+s.d.ForUpdate),
			c.AppID, c.GroupID).Scan(&remote, &unlink)
		if isNoRows(err) || (err == nil && (remote != c.RemoteID || unlink == 1)) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check pushed group: %w", err)
		}
		out := store.GroupResult{Reset: true, Added: c.Members}
		set, args := `verified_at = ?`, []any{nanos(s.now())}
		if c.Gone {
			out.Added = nil
			set, args = `remote_id = '', remote_name = '', verified_at = 0`, nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE pushed_groups SET `+set+` WHERE app_id = ? AND group_id = ?`), append(args, c.AppID, c.GroupID)...); err != nil {
			return fmt.Errorf("record pushed group check: %w", err)
		}
		if err := s.storeGroupMembers(ctx, tx, c.AppID, c.GroupID, &out); err != nil {
			return err
		}
		if c.Queue || c.Gone {
			return s.enqueueGroup(ctx, tx, c.AppID, c.GroupID, "sync.full")
		}
		return nil
	})
}

// verifiedAt dates a read of a group's members; a group that is gone was not read.
func verifiedAt(remoteID string, now time.Time) int64 {
	if remoteID == "" {
		return 0
	}
	return nanos(now)
}

func timeOrNil(ns int64) *time.Time {
	if ns <= 0 {
		return nil
	}
	t := fromNanos(ns)
	return &t
}
