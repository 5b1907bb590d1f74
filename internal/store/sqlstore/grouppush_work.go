package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/store"
)

const pushedSelect = `SELECT p.app_id, p.group_id, COALESCE(g.name, p.group_name), CASE WHEN g.id IS NULL THEN 0 ELSE 1 END,
	p.remote_id, p.remote_name, p.link_existing, p.unlink, p.delete_in_app, p.pending, p.last_error, p.synced_at, p.verified_at,
	COALESCE(w.state, ''), COALESCE(w.attempts, 0), COALESCE(w.last_error, '')
	FROM pushed_groups p LEFT JOIN groups g ON g.id = p.group_id
	LEFT JOIN work_items w ON w.app_id = p.app_id AND w.kind = 'group' AND w.ref_id = p.group_id`

func scanPushed(r scanner) (store.PushedGroup, error) {
	var p store.PushedGroup
	var exists, link, unlink, del, attempts int
	var synced, verified int64
	var state, workErr string
	err := r.Scan(&p.AppID, &p.GroupID, &p.Group, &exists, &p.RemoteID, &p.RemoteName, &link, &unlink, &del, &p.Pending, &p.LastError,
		&synced, &verified, &state, &attempts, &workErr)
	p.InDirectory, p.LinkExisting, p.Unlink, p.DeleteInApp = exists == 1, link == 1, unlink == 1, del == 1
	p.SyncedAt, p.VerifiedAt = timeOrNil(synced), timeOrNil(verified)
	switch {
	case state == "task":
		p.State = "task"
	case state == "queued" && attempts > 0:
		p.State = "retrying"
	case state == "queued":
		p.State = "queued"
	default:
		p.State = "in_step"
	}
	if workErr != "" {
		p.LastError = workErr
	}
	return p, err
}

func (s *DB) queryPushed(ctx context.Context, query string, args ...any) ([]store.PushedGroup, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	return collect(rows, err, scanPushed)
}

// ListPushedGroups lists an app's pushed groups by name, each compared with
// its directory group.
func (s *DB) ListPushedGroups(ctx context.Context, appID int64) ([]store.PushedGroup, error) {
	ps, err := s.queryPushed(ctx, pushedSelect+` WHERE p.app_id = ? ORDER BY COALESCE(g.name_key, p.group_name), p.group_id`, appID)
	if err != nil {
		return nil, err
	}
	return ps, s.compareGroups(ctx, appID, ps)
}

// PushedGroups loads some of an app's pushed groups.
func (s *DB) PushedGroups(ctx context.Context, appID int64, groupIDs []int64) (map[int64]store.PushedGroup, error) {
	out := make(map[int64]store.PushedGroup, len(groupIDs))
	for start := 0; start < len(groupIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, groupIDs[start:min(start+s.idsPerStmt(), len(groupIDs))])
		ps, err := s.queryPushed(ctx, pushedSelect+` WHERE p.app_id = ? AND p.group_id IN `+in, append([]any{appID}, args...)...)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out[p.GroupID] = p
		}
	}
	return out, nil
}

// GroupTargets lists the pushed groups a plan covers, in ID order.
func (s *DB) GroupTargets(ctx context.Context, appID int64, full bool) ([]int64, error) {
	query := `SELECT ref_id FROM work_items WHERE app_id = ? AND kind = 'group' AND state = 'queued' ORDER BY ref_id`
	if full {
		query = `SELECT group_id FROM pushed_groups WHERE app_id = ? ORDER BY group_id`
	}
	return s.int64s(ctx, nil, query, appID)
}

func (s *DB) int64s(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]int64, error) {
	rows, err := s.queryPrepared(ctx, tx, s.q(query), args...)
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

// DirectoryMembers lists the members of directory groups with their status.
func (s *DB) DirectoryMembers(ctx context.Context, groupIDs []int64) (map[int64][]store.DirectoryMember, error) {
	out := make(map[int64][]store.DirectoryMember, len(groupIDs))
	for start := 0; start < len(groupIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, groupIDs[start:min(start+s.idsPerStmt(), len(groupIDs))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT m.group_id, u.id, u.username, u.status FROM group_members m JOIN users u ON u.id = m.user_id
			WHERE m.group_id IN `+in+` ORDER BY m.group_id, u.id`), args...)
		if err != nil {
			return nil, err
		}
		err = scanEach(rows, func(r scanner) error {
			var gid int64
			var m store.DirectoryMember
			err := r.Scan(&gid, &m.UserID, &m.Username, &m.Status)
			out[gid] = append(out[gid], m)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// KnownGroupMembers returns what Roster knows of pushed groups' Dropbox members.
func (s *DB) KnownGroupMembers(ctx context.Context, appID int64, groupIDs []int64) (map[int64][]store.GroupMember, error) {
	out := make(map[int64][]store.GroupMember, len(groupIDs))
	for start := 0; start < len(groupIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, groupIDs[start:min(start+s.idsPerStmt(), len(groupIDs))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT group_id, member_id, user_id FROM pushed_group_members
			WHERE app_id = ? AND group_id IN `+in+` ORDER BY group_id, member_id`), append([]any{appID}, args...)...)
		if err != nil {
			return nil, err
		}
		err = scanEach(rows, func(r scanner) error {
			var gid int64
			var m store.GroupMember
			err := r.Scan(&gid, &m.MemberID, &m.UserID)
			out[gid] = append(out[gid], m)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UsersByMemberID maps member ids to the users whose known accounts they are.
func (s *DB) UsersByMemberID(ctx context.Context, appID int64, memberIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(memberIDs))
	want := make(map[string]bool, len(memberIDs))
	for _, id := range memberIDs {
		want[id] = true
	}
	keys := memberKeys(memberIDs)
	for start := 0; start < len(keys); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, keys[start:min(start+s.idsPerStmt(), len(keys))])
		rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT member_id, user_id FROM app_accounts WHERE app_id = ? AND member_key IN `+in), append([]any{appID}, args...)...)
		if err != nil {
			return nil, err
		}
		err = scanEach(rows, func(r scanner) error {
			var mid string
			var uid int64
			err := r.Scan(&mid, &uid)
			if want[mid] { // keys can collide: compare the ids themselves
				out[mid] = uid
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanEach calls fn for every row and closes rows.
func scanEach(rows *sql.Rows, fn func(scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// storeGroupState records a group's known state; it reports whether an
// unlinked group was dropped. A group pushed again while it was being
// unlinked is kept (with what the unlink did to it) and runs again.
func (s *DB) storeGroupState(ctx context.Context, tx *sql.Tx, o *store.Outcome) (bool, error) {
	key := []any{o.Item.AppID, o.Item.RefID}
	if o.Group.Forget {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM pushed_groups WHERE app_id = ? AND group_id = ? AND unlink = 1`), key...)
		if err != nil {
			return false, fmt.Errorf("drop pushed group: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err = tx.ExecContext(ctx, s.q(`DELETE FROM pushed_group_members WHERE app_id = ? AND group_id = ?`), key...)
			return true, err
		}
	}
	g := o.Group.Row
	set, args := `remote_id = ?, remote_name = ?, pending = ?, last_error = ?`, []any{g.RemoteID, g.RemoteName, g.Pending, ""}
	if o.Group.Reset { // created (empty), linked (read) or gone: the known members are Dropbox's
		set, args = set+`, verified_at = ?`, append(args, verifiedAt(g.RemoteID, s.now()))
	}
	if o.Err != nil {
		args[3] = truncate(o.Err.Error(), 2000)
	} else {
		set, args = set+`, synced_at = ?`, append(args, nanos(s.now()))
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE pushed_groups SET `+set+` WHERE app_id = ? AND group_id = ?`), append(args, key...)...); err != nil {
		return false, fmt.Errorf("store pushed group: %w", err)
	}
	return false, s.storeGroupMembers(ctx, tx, o.Item.AppID, o.Item.RefID, &o.Group)
}

func (s *DB) storeGroupMembers(ctx context.Context, tx *sql.Tx, appID, groupID int64, o *store.GroupResult) error {
	if o.Reset {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM pushed_group_members WHERE app_id = ? AND group_id = ?`), appID, groupID); err != nil {
			return fmt.Errorf("reset group members: %w", err)
		}
	}
	for _, mid := range o.Removed {
		if _, err := s.execPrepared(ctx, tx, s.q(`DELETE FROM pushed_group_members WHERE app_id = ? AND group_id = ? AND member_id = ?`), appID, groupID, mid); err != nil {
			return fmt.Errorf("store group members: %w", err)
		}
	}
	args := make([]any, 0, 4*len(o.Added))
	for _, m := range o.Added {
		args = append(args, appID, groupID, m.MemberID, m.UserID)
	}
	err := s.insertRows(ctx, tx, `INSERT INTO pushed_group_members (app_id, group_id, member_id, user_id) VALUES `,
		` ON CONFLICT (app_id, group_id, member_id) DO UPDATE SET user_id = excluded.user_id`, 4, args)
	if err != nil {
		return fmt.Errorf("store group members: %w", err)
	}
	return nil
}

var _ store.GroupPush = (*DB)(nil)
