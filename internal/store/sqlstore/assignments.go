package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Assign creates an assignment or changes its role; every user it covers is queued.
func (s *DB) Assign(ctx context.Context, by store.Actor, a *directory.Assignment) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		kind, err := s.resolveAssignment(ctx, tx, a)
		if err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		role, err := s.kinds.ParseRole(kind, string(a.Role))
		if err != nil {
			return fmt.Errorf("%w: %w", directory.ErrInvalid, err)
		}
		a.Role = directory.Role(role)
		col, ref, target, kind := assignmentSubject(a)
		var existing string
		err = tx.QueryRowContext(ctx, s.q(`SELECT role FROM assignments WHERE app_id = ? AND `+col+` = ?`), a.AppID, ref).Scan(&existing)
		switch {
		case err == nil && existing == string(a.Role):
			return nil
		case err == nil:
			_, err = tx.ExecContext(ctx, s.q(`UPDATE assignments SET role = ? WHERE app_id = ? AND `+col+` = ?`), a.Role, a.AppID, ref)
		case isNoRows(err):
			a.CreatedAt = s.now().UTC()
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO assignments (app_id, `+col+`, role, created_at) VALUES (?, ?, ?, ?)`), a.AppID, ref, a.Role, nanos(a.CreatedAt))
		}
		if err != nil {
			return fmt.Errorf("assign %s %s to %s: %w", kind, target, a.AppName, err)
		}
		if err := s.enqueueAssignment(ctx, tx, a, "assign"); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "assign", kind, target, a.AppName, map[string]any{"role": a.Role, "previous_role": existing})
	})
}

// Unassign removes an assignment; the users it covered are queued so that their
// accounts are deactivated unless another assignment still holds them.
func (s *DB) Unassign(ctx context.Context, by store.Actor, appName, user, group string) error {
	a := &directory.Assignment{AppName: appName, Username: user, GroupName: group}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.resolveAssignment(ctx, tx, a); err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		col, ref, target, kind := assignmentSubject(a)
		// Queue first: afterwards the group's members can no longer be found through it.
		if err := s.enqueueAssignment(ctx, tx, a, "unassign"); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM assignments WHERE app_id = ? AND `+col+` = ?`), a.AppID, ref)
		if err != nil {
			return fmt.Errorf("unassign %s %s: %w", kind, target, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s %s is not assigned to %s", directory.ErrNotFound, kind, target, a.AppName)
		}
		return s.logChange(ctx, tx, by, "unassign", kind, target, a.AppName, nil)
	})
}

func assignmentSubject(a *directory.Assignment) (col string, ref int64, target, kind string) {
	if a.UserID != 0 {
		return "user_id", a.UserID, a.Username, "user"
	}
	return "group_id", a.GroupID, a.GroupName, "group"
}

func (s *DB) enqueueAssignment(ctx context.Context, tx *sql.Tx, a *directory.Assignment, reason string) error {
	if a.UserID != 0 {
		return s.enqueuePair(ctx, tx, a.AppID, a.UserID, reason)
	}
	return s.enqueueGroupMembers(ctx, tx, a.AppID, a.GroupID, reason)
}

// resolveAssignment fills in IDs from the names an admin gave.
func (s *DB) resolveAssignment(ctx context.Context, tx *sql.Tx, a *directory.Assignment) (kind string, err error) {
	if (a.Username == "") == (a.GroupName == "") {
		return "", fmt.Errorf("%w: name either a user or a group", directory.ErrInvalid)
	}
	ap, err := s.getApp(ctx, tx, a.AppName)
	if err != nil {
		return "", err
	}
	a.AppID, a.AppName = ap.ID, ap.Name
	if a.Username != "" {
		u, err := s.getUser(ctx, tx, `username_key = ?`, directory.Key(a.Username), a.Username)
		a.UserID, a.Username = u.ID, u.Username
		return ap.Kind, err
	}
	g, err := s.getGroup(ctx, tx, a.GroupName)
	a.GroupID, a.GroupName = g.ID, g.Name
	return ap.Kind, err
}

// ListAssignments lists assignments with app, user and group names.
func (s *DB) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]directory.Assignment, error) {
	var where []string
	var args []any
	for _, c := range []struct{ cond, v string }{
		{"p.name_key = ?", f.App}, {"u.username_key = ?", f.User}, {"g.name_key = ?", f.Group},
	} {
		if c.v != "" {
			where, args = append(where, c.cond), append(args, directory.Key(c.v))
		}
	}
	query := `SELECT a.id, a.app_id, p.name, COALESCE(a.user_id, 0), COALESCE(u.username, ''), COALESCE(a.group_id, 0), COALESCE(g.name, ''), a.role, a.created_at
		FROM assignments a JOIN apps p ON p.id = a.app_id LEFT JOIN users u ON u.id = a.user_id LEFT JOIN groups g ON g.id = a.group_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY a.id"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Assignment
	for rows.Next() {
		var a directory.Assignment
		var created int64
		if err := rows.Scan(&a.ID, &a.AppID, &a.AppName, &a.UserID, &a.Username, &a.GroupID, &a.GroupName, &a.Role, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// appKind returns the kind of the app with id appID.
func (s *DB) appKind(ctx context.Context, q querier, appID int64) (string, error) {
	var kind string
	if err := q.QueryRowContext(ctx, s.q(`SELECT kind FROM apps WHERE id = ?`), appID).Scan(&kind); err != nil {
		return "", fmt.Errorf("kind of app %d: %w", appID, err)
	}
	return kind, nil
}
