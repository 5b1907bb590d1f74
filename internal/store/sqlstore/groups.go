package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// CreateGroup adds an empty group.
func (s *DB) CreateGroup(ctx context.Context, by store.Actor, g *directory.Group) error {
	g.Normalize()
	if err := g.Validate(); err != nil {
		return err
	}
	g.CreatedAt = s.now().UTC()
	if g.ExternalKey == "" {
		g.ExternalKey = directory.NewExternalKey(g.CreatedAt)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO groups (external_key, source, name, name_key, description, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
			g.ExternalKey, g.Source, g.Name, directory.Key(g.Name), g.Description, nanos(g.CreatedAt)).Scan(&g.ID)
		if err != nil {
			return fmt.Errorf("insert group %s: %w", g.Name, err)
		}
		if err := s.logChange(ctx, tx, by, "group.create", "group", g.Name, "", nil); err != nil {
			return err
		}
		return s.repushGroup(ctx, tx, by, g.ID, g.Name, true, "group.create") // pattern rules cover new groups
	})
}

// RenameGroup renames a group. Apps it is pushed to rename their group, and
// pattern rules are applied to the new name: a group may start or stop
// being pushed.
func (s *DB) RenameGroup(ctx context.Context, by store.Actor, name, newName string) (directory.Group, error) {
	var g directory.Group
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = s.getGroup(ctx, tx, name); err != nil {
			return err
		}
		old := g.Name
		g.Name = newName
		g.Normalize()
		if err := g.Validate(); err != nil {
			return err
		}
		if g.Name == old {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE groups SET name = ?, name_key = ? WHERE id = ?`), g.Name, directory.Key(g.Name), g.ID); err != nil {
			return fmt.Errorf("rename group %s: %w", old, err)
		}
		if err := s.logChange(ctx, tx, by, "group.rename", "group", g.Name, "", map[string]any{"from": old, "to": g.Name}); err != nil {
			return err
		}
		return s.repushGroup(ctx, tx, by, g.ID, g.Name, true, "group.rename")
	})
	return g, err
}

const groupSelect = `SELECT g.id, g.external_key, g.source, g.name, g.description, g.created_at,
	(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) FROM groups g`

func scanGroup(r scanner) (directory.Group, error) {
	var g directory.Group
	var created int64
	err := r.Scan(&g.ID, &g.ExternalKey, &g.Source, &g.Name, &g.Description, &created, &g.Members)
	g.CreatedAt = fromNanos(created)
	return g, err
}

// GetGroup finds a group by name, case-insensitively.
func (s *DB) GetGroup(ctx context.Context, name string) (directory.Group, error) {
	return s.getGroup(ctx, s.db, name)
}

func (s *DB) getGroup(ctx context.Context, q querier, name string) (directory.Group, error) {
	return s.getGroupWhere(ctx, q, `g.name_key = ?`, directory.Key(name), name)
}

// GetGroupByExternalKey finds a group by its external key, in any case.
func (s *DB) GetGroupByExternalKey(ctx context.Context, key string) (directory.Group, error) {
	return s.getGroupWhere(ctx, s.db, `g.external_key = ?`, lookupKey(key), key)
}

func (s *DB) getGroupWhere(ctx context.Context, q querier, cond string, arg any, name string) (directory.Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, s.q(groupSelect+` WHERE `+cond), arg))
	if isNoRows(err) {
		return g, notFound("group", name)
	}
	return g, err
}

// groupRef finds a group's ID and stored name without counting its
// members, which costs a pass over them in a large group.
func (s *DB) groupRef(ctx context.Context, q querier, name string) (directory.Group, error) {
	var g directory.Group
	err := q.QueryRowContext(ctx, s.q(`SELECT id, name FROM groups WHERE name_key = ?`), directory.Key(name)).Scan(&g.ID, &g.Name)
	if isNoRows(err) {
		return g, notFound("group", name)
	}
	return g, err
}

// ListGroups returns one page of groups in ID order.
func (s *DB) ListGroups(ctx context.Context, p store.Page) ([]directory.Group, error) {
	return s.FilterGroups(ctx, store.GroupFilter{Page: p})
}

// FilterGroups returns one page of the groups f selects, in ID order.
func (s *DB) FilterGroups(ctx context.Context, f store.GroupFilter) ([]directory.Group, error) {
	where, args := `g.id > ?`, []any{f.After}
	if f.Source != "" {
		where, args = where+` AND g.source = ?`, append(args, f.Source)
	}
	rows, err := s.db.QueryContext(ctx, s.q(groupSelect+` WHERE `+where+` ORDER BY g.id LIMIT ?`), append(args, limitOr(f.Limit, 100, 1000))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeleteGroup removes a group; its members are queued in the apps the group gave them.
func (s *DB) DeleteGroup(ctx context.Context, by store.Actor, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getGroup(ctx, tx, name)
		if err != nil {
			return err
		}
		return s.deleteGroupTx(ctx, tx, by, g)
	})
}

// deleteGroupTx is DeleteGroup within tx, of a group already read.
func (s *DB) deleteGroupTx(ctx context.Context, tx *sql.Tx, by store.Actor, g directory.Group) error {
	if err := s.enqueueGroupMembers(ctx, tx, 0, g.ID, "group.delete"); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM group_members WHERE group_id = ?`, `DELETE FROM assignments WHERE group_id = ?`,
		`DELETE FROM group_push_rules WHERE group_id = ? AND pattern = ''`, `DELETE FROM groups WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, s.q(q), g.ID); err != nil {
			return fmt.Errorf("delete group %s: %w", g.Name, err)
		}
	}
	// Apps it was pushed to unlink it; its Dropbox group is left alone.
	if err := s.repushGroup(ctx, tx, by, g.ID, g.Name, false, "group.delete"); err != nil {
		return err
	}
	return s.logChange(ctx, tx, by, "group.delete", "group", g.Name, "", map[string]any{"members": g.Members})
}

// AddGroupMembers adds users to a group; adding a member twice is not an error.
func (s *DB) AddGroupMembers(ctx context.Context, by store.Actor, group string, usernames []string) error {
	return s.changeMembers(ctx, by, group, usernames, true)
}

// RemoveGroupMembers removes users from a group; removing a non-member is not an error.
func (s *DB) RemoveGroupMembers(ctx context.Context, by store.Actor, group string, usernames []string) error {
	return s.changeMembers(ctx, by, group, usernames, false)
}

func (s *DB) changeMembers(ctx context.Context, by store.Actor, group string, usernames []string, add bool) error {
	action := "group.member.remove"
	if add {
		action = "group.member.add"
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.groupRef(ctx, tx, group)
		if err != nil {
			return err
		}
		users, err := s.userRefs(ctx, tx, usernames)
		if err != nil {
			return err
		}
		changed, err := s.setMembership(ctx, tx, g.ID, users, add)
		if err != nil || len(changed) == 0 {
			return err // already as asked: nothing changed, nothing to queue or log
		}
		ids := make([]int64, len(changed))
		logs := make([]audit.Entry, len(changed))
		for i, u := range changed {
			ids[i] = u.id
			logs[i] = audit.Entry{At: s.now(), Actor: string(by), Action: action, TargetKind: "group", Target: g.Name,
				Outcome: audit.Success, Detail: map[string]any{"user": u.name}}
		}
		if err := s.enqueueInGroupApps(ctx, tx, g.ID, ids, action); err != nil {
			return err
		}
		if err := s.insertLogs(ctx, tx, logs); err != nil {
			return err
		}
		return s.enqueuePushedGroup(ctx, tx, g.ID, action) // one item per app, however many members changed
	})
}

// setMembership adds users to (or removes them from) a group with a few
// statements per 500 users, and returns those whose membership changed.
func (s *DB) setMembership(ctx context.Context, tx *sql.Tx, groupID int64, users []userRef, add bool) ([]userRef, error) {
	var changed []userRef
	for start := 0; start < len(users); start += usersPerInsert {
		chunk := users[start:min(start+usersPerInsert, len(users))]
		ids := make([]int64, len(chunk))
		for i, u := range chunk {
			ids[i] = u.id
		}
		in, args := inIDs(ids)
		member, err := s.int64s(ctx, tx, `SELECT user_id FROM group_members WHERE group_id = ? AND user_id IN `+in, append([]any{groupID}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("read members: %w", err)
		}
		was := make(map[int64]bool, len(member))
		for _, id := range member {
			was[id] = true
		}
		var rows []any
		var gone []int64
		for _, u := range chunk {
			if was[u.id] != add {
				changed = append(changed, u)
				rows, gone = append(rows, groupID, u.id), append(gone, u.id)
			}
		}
		switch {
		case add && len(rows) > 0:
			err = s.insertRows(ctx, tx, `INSERT INTO group_members (group_id, user_id) VALUES `, ` ON CONFLICT DO NOTHING`, 2, rows)
		case !add && len(gone) > 0:
			in, args := inIDs(gone)
			_, err = s.execPrepared(ctx, tx, s.q(`DELETE FROM group_members WHERE group_id = ? AND user_id IN `+in), append([]any{groupID}, args...)...)
		}
		if err != nil {
			return nil, fmt.Errorf("change members: %w", err)
		}
	}
	return changed, nil
}
