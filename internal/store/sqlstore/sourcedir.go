package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// AdoptUser takes a user over for a source and applies fn, in one transaction.
func (s *DB) AdoptUser(ctx context.Context, by store.Actor, username, to string, fn func(*directory.User) error) (directory.User, error) {
	if !directory.ValidSource(to) {
		return directory.User{}, fmt.Errorf("%w: source %q is not a valid source name", directory.ErrInvalid, to)
	}
	var out directory.User
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		out, err = s.updateUserTx(ctx, tx, by, userWhere{`username_key = ?`, directory.Key(username), username}, "user.adopt", func(u *directory.User) error {
			u.Source = to
			return fn(u)
		}, true)
		return err
	})
	return out, err
}

// UpdateSourceUser applies fn to a user the source owns.
func (s *DB) UpdateSourceUser(ctx context.Context, by store.Actor, source, key, action string, fn func(*directory.User) error, detach bool) (directory.User, error) {
	var out directory.User
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		out, err = s.updateUserTx(ctx, tx, by, userWhere{`external_key = ?`, lookupKey(key), key}, action, func(u *directory.User) error {
			if u.Source != source {
				return notFound("user", key) // another source's user is none of this one's business
			}
			if detach {
				u.Source = directory.SourceAPI
			}
			return fn(u)
		}, detach)
		return err
	})
	return out, err
}

// UsersByAttribute finds a source's users by one attribute's value. The
// attributes are JSON text: a LIKE on the encoded pair narrows the rows,
// and the decoded value decides.
func (s *DB) UsersByAttribute(ctx context.Context, source, key, value string) ([]directory.User, error) {
	pair := encodeAttrs(map[string]string{key: value})
	pair = pair[1 : len(pair)-1] // "key":"value"
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE source = ? AND attributes LIKE ? ESCAPE '\' ORDER BY id LIMIT 100`),
		source, "%"+escapeLike(pair)+"%")
	if err != nil {
		return nil, fmt.Errorf("find users by %s: %w", key, err)
	}
	var out []directory.User
	err = scanEach(rows, func(r scanner) error {
		u, err := scanUser(r)
		if err == nil && u.Attributes[key] == value {
			out = append(out, u)
		}
		return err
	})
	return out, err
}

const sourceGroupSelect = `SELECT g.id, g.external_key, g.source, g.name, g.description, g.created_at,
	(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id), g.source_external_id FROM groups g`

func scanSourceGroup(r scanner) (store.SourceGroup, error) {
	var g store.SourceGroup
	var created int64
	err := r.Scan(&g.ID, &g.ExternalKey, &g.Source, &g.Name, &g.Description, &created, &g.Members, &g.ExternalID)
	g.CreatedAt = fromNanos(created)
	return g, err
}

func (s *DB) sourceGroupWhere(ctx context.Context, q querier, cond string, name string, args ...any) (store.SourceGroup, error) {
	g, err := scanSourceGroup(q.QueryRowContext(ctx, s.q(sourceGroupSelect+` WHERE `+cond), args...))
	if isNoRows(err) {
		return g, notFound("group", name)
	}
	return g, err
}

// GetSourceGroup finds a group the source owns by its external key.
func (s *DB) GetSourceGroup(ctx context.Context, source, key string) (store.SourceGroup, error) {
	return s.sourceGroupWhere(ctx, s.db, `g.external_key = ? AND g.source = ?`, key, lookupKey(key), source)
}

// SourceGroupByName finds a group the source owns by its name.
func (s *DB) SourceGroupByName(ctx context.Context, source, name string) (store.SourceGroup, error) {
	return s.sourceGroupWhere(ctx, s.db, `g.name_key = ? AND g.source = ?`, name, directory.Key(name), source)
}

// ListSourceGroups lists a source's groups in id order.
func (s *DB) ListSourceGroups(ctx context.Context, source string, after int64, limit int) ([]store.SourceGroup, error) {
	rows, err := s.db.QueryContext(ctx, s.q(sourceGroupSelect+` WHERE g.source = ? AND g.id > ? ORDER BY g.id LIMIT ?`), source, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list groups of source %s: %w", source, err)
	}
	out := []store.SourceGroup{}
	err = scanEach(rows, func(r scanner) error {
		g, err := scanSourceGroup(r)
		out = append(out, g)
		return err
	})
	return out, err
}

// GroupMemberRefs lists a group's members by external key.
func (s *DB) GroupMemberRefs(ctx context.Context, groupID int64) ([]store.MemberRef, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT u.external_key, u.username FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? ORDER BY u.id`), groupID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	out := []store.MemberRef{}
	err = scanEach(rows, func(r scanner) error {
		var m store.MemberRef
		err := r.Scan(&m.Key, &m.Username)
		out = append(out, m)
		return err
	})
	return out, err
}

// DeleteSourceGroup deletes a group the source owns.
func (s *DB) DeleteSourceGroup(ctx context.Context, by store.Actor, source, key string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.sourceGroupWhere(ctx, tx, `g.external_key = ? AND g.source = ?`, key, lookupKey(key), source)
		if err != nil {
			return err
		}
		return s.deleteGroupTx(ctx, tx, by, g.Group)
	})
}

// WriteSourceGroup creates or changes a source's group, its name, external
// id and members, in one transaction.
func (s *DB) WriteSourceGroup(ctx context.Context, by store.Actor, w store.GroupWrite) (store.SourceGroup, error) {
	var out store.SourceGroup
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.sourceGroupForWrite(ctx, tx, by, w)
		if err != nil {
			return err
		}
		if w.ExternalID != nil && *w.ExternalID != g.ExternalID {
			if len(*w.ExternalID) > 255 {
				return fmt.Errorf("%w: externalId is longer than 255 characters", directory.ErrInvalid)
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE groups SET source_external_id = ? WHERE id = ?`), *w.ExternalID, g.ID); err != nil {
				return fmt.Errorf("set the external id of group %s: %w", g.Name, err)
			}
		}
		if err := s.writeMembers(ctx, tx, by, g.Group, w); err != nil {
			return err
		}
		out, err = s.sourceGroupWhere(ctx, tx, `g.id = ?`, g.Name, g.ID)
		return err
	})
	return out, err
}

// sourceGroupForWrite creates, adopts or renames the group of a write.
func (s *DB) sourceGroupForWrite(ctx context.Context, tx *sql.Tx, by store.Actor, w store.GroupWrite) (store.SourceGroup, error) {
	if w.Key != "" {
		g, err := s.sourceGroupWhere(ctx, tx, `g.external_key = ? AND g.source = ?`, w.Key, lookupKey(w.Key), w.Source)
		if err != nil || w.Name == nil {
			return g, err
		}
		return g, s.renameGroupTx(ctx, tx, by, &g.Group, *w.Name)
	}
	if w.Name == nil {
		return store.SourceGroup{}, fmt.Errorf("%w: displayName is required", directory.ErrInvalid)
	}
	ng := directory.Group{Name: *w.Name, Source: w.Source}
	ng.Normalize()
	if err := ng.Validate(); err != nil {
		return store.SourceGroup{}, err
	}
	old, err := s.sourceGroupWhere(ctx, tx, `g.name_key = ?`, ng.Name, directory.Key(ng.Name))
	switch {
	case err == nil && (old.Source == w.Source || !w.Adopt):
		return old, fmt.Errorf("%w: group %s exists already (owned by %s)", directory.ErrConflict, old.Name, old.Source)
	case err == nil:
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE groups SET source = ? WHERE id = ?`), w.Source, old.ID); err != nil {
			return old, fmt.Errorf("adopt group %s: %w", old.Name, err)
		}
		if err := s.logChange(ctx, tx, by, "group.adopt", "group", old.Name, "", map[string]any{"source": []string{old.Source, w.Source}}); err != nil {
			return old, err
		}
		old.Source = w.Source
		return old, nil
	case !isNotFound(err):
		return old, err
	}
	ng.CreatedAt = s.now().UTC()
	ng.ExternalKey = directory.NewExternalKey(ng.CreatedAt)
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO groups (external_key, source, name, name_key, description, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		ng.ExternalKey, ng.Source, ng.Name, directory.Key(ng.Name), ng.Description, nanos(ng.CreatedAt)).Scan(&ng.ID)
	if err != nil {
		return store.SourceGroup{}, fmt.Errorf("insert group %s: %w", ng.Name, err)
	}
	if err := s.logChange(ctx, tx, by, "group.create", "group", ng.Name, "", map[string]any{"source": ng.Source}); err != nil {
		return store.SourceGroup{}, err
	}
	return store.SourceGroup{Group: ng}, s.repushGroup(ctx, tx, by, ng.ID, ng.Name, true, "group.create")
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, directory.ErrNotFound) }

// renameGroupTx renames a group within tx; pushed groups follow.
func (s *DB) renameGroupTx(ctx context.Context, tx *sql.Tx, by store.Actor, g *directory.Group, newName string) error {
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
}

// writeMembers applies a write's member changes: a replacement, then
// additions and removals.
func (s *DB) writeMembers(ctx context.Context, tx *sql.Tx, by store.Actor, g directory.Group, w store.GroupWrite) error {
	if w.Members == nil && len(w.Add) == 0 && len(w.Remove) == 0 {
		return nil
	}
	var add, remove []userRef
	if w.Members != nil {
		want, err := s.userRefsByKey(ctx, tx, *w.Members)
		if err != nil {
			return err
		}
		have, err := s.int64s(ctx, tx, `SELECT user_id FROM group_members WHERE group_id = ?`, g.ID)
		if err != nil {
			return err
		}
		keep := map[int64]bool{}
		for _, u := range want {
			keep[u.id] = true
		}
		add = want
		for _, id := range have {
			if !keep[id] {
				remove = append(remove, userRef{id: id})
			}
		}
	}
	more, err := s.userRefsByKey(ctx, tx, w.Add)
	if err != nil {
		return err
	}
	add = append(add, more...)
	less, err := s.userRefsByKey(ctx, tx, w.Remove)
	if err != nil {
		return err
	}
	remove = append(remove, less...)
	var changed []int64
	var logs []audit.Entry
	for _, step := range []struct {
		users  []userRef
		add    bool
		action string
	}{{remove, false, "group.member.remove"}, {add, true, "group.member.add"}} {
		done, err := s.setMembership(ctx, tx, g.ID, step.users, step.add)
		if err != nil {
			return err
		}
		for _, u := range done {
			changed = append(changed, u.id)
			logs = append(logs, audit.Entry{At: s.now(), Actor: string(by), Action: step.action, TargetKind: "group", Target: g.Name,
				Outcome: audit.Success, Detail: map[string]any{"user_id": u.id}})
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := s.enqueueInGroupApps(ctx, tx, g.ID, changed, "group.members"); err != nil {
		return err
	}
	if err := s.insertLogs(ctx, tx, logs); err != nil {
		return err
	}
	return s.enqueuePushedGroup(ctx, tx, g.ID, "group.members")
}

// userRefsByKey finds users by external key, without repeats; a key that
// matches no user is refused.
func (s *DB) userRefsByKey(ctx context.Context, tx *sql.Tx, keys []string) ([]userRef, error) {
	return s.userRefsBy(ctx, tx, "external_key", keys, lookupKey, func(k string) error {
		return fmt.Errorf("%w: no user has the id %q", directory.ErrInvalid, k)
	})
}

var _ store.SourceDirectory = (*DB)(nil)
