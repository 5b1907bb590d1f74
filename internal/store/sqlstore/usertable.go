package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// userOrder maps a sort column to its SQL; u.id breaks ties so that pages
// never overlap.
var userOrder = map[string][]string{
	store.SortUsername: {"u.username_key"},
	store.SortName:     {"LOWER(u.last_name)", "LOWER(u.first_name)"},
	store.SortEmail:    {"u.email_key"},
	store.SortStatus:   {"u.status"},
	store.SortCreated:  {"u.created_at"},
	store.SortAppState: {"COALESCE(ac.status, '')"},
}

// QueryUsers returns one page of users, sorted and filtered by the
// database, and the number of users matching in all.
func (s *DB) QueryUsers(ctx context.Context, q store.UserQuery) ([]store.UserRow, int, error) {
	if q.Sort == "" {
		q.Sort = store.SortUsername
	}
	cols, ok := userOrder[q.Sort]
	if !ok {
		return nil, 0, fmt.Errorf("%w: sort %q is not one of %s", directory.ErrInvalid, q.Sort, strings.Join(store.UserSorts, ", "))
	}
	if (q.AppState != "" || q.Role != "" || q.Sort == store.SortAppState) && q.AppID == 0 {
		return nil, 0, fmt.Errorf("%w: choose an app to filter or sort by its account state or role", directory.ErrInvalid)
	}
	from, where, args, err := s.userWhere(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM `+from+` WHERE `+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	order := strings.Join(append(slices.Clone(cols), "u.id"), dir+", ") + dir
	sel := "u." + strings.ReplaceAll(userCols, ", ", ", u.") + ", COALESCE(ac.status, ''), COALESCE(ac.silent, 0)"
	page := append(append([]any{}, args...), limitOr(q.Limit, 50, 1000), max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+sel+` FROM `+from+` WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`), page...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.UserRow
	for rows.Next() {
		var r store.UserRow
		var silent int
		u, err := scanUser(rowScanner{rows, []any{&r.AppState, &silent}})
		if err != nil {
			return nil, 0, err
		}
		r.User, r.Silent = u, silent != 0
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// rowScanner scans a user's columns and then extra ones from one row.
type rowScanner struct {
	r     scanner
	extra []any
}

func (s rowScanner) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra...)...) }

// userWhere builds the FROM and WHERE of a user query.
func (s *DB) userWhere(ctx context.Context, q store.UserQuery) (string, []string, []any, error) {
	from := "users u LEFT JOIN app_accounts ac ON ac.app_id = ? AND ac.user_id = u.id"
	args := []any{q.AppID}
	where := []string{"1 = 1"}
	add := func(cond string, vs ...any) { where, args = append(where, cond), append(args, vs...) }
	if q.Status != "" {
		if !q.Status.Valid() {
			return "", nil, nil, fmt.Errorf("%w: status %q is not one of staged, active, suspended, deprovisioned", directory.ErrInvalid, q.Status)
		}
		add("u.status = ?", q.Status)
	}
	if q.Search != "" {
		like := "%" + escapeLike(strings.ToLower(q.Search)) + "%"
		add(`(u.username_key LIKE ? ESCAPE '\' OR u.email_key LIKE ? ESCAPE '\' OR LOWER(u.first_name || ' ' || u.last_name) LIKE ? ESCAPE '\')`, like, like, like)
	}
	if q.Group != "" {
		add(`EXISTS (SELECT 1 FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id AND g.name_key = ?)`, directory.Key(q.Group))
	}
	switch q.AppState {
	case "":
	case store.AppStateNone:
		add("ac.user_id IS NULL")
	case store.AppStatePendingSSO:
		add("ac.status = 'invited' AND ac.silent <> 0")
	case "active", "invited", "suspended", "removed":
		add("ac.status = ?", q.AppState)
	default:
		return "", nil, nil, fmt.Errorf("%w: app state %q is not one of active, invited, suspended, removed, none, pending_sso", directory.ErrInvalid, q.AppState)
	}
	if q.Role != "" {
		cond, vs, err := s.roleCond(ctx, q.AppID, q.Role)
		if err != nil {
			return "", nil, nil, err
		}
		add(cond, vs...)
	}
	return from, where, args, nil
}

// roleCond matches users whose effective role in the app is role: their
// direct assignment's role, or without one the most privileged role of their
// groups assigned to the app (as EffectiveRoles decides).
func (s *DB) roleCond(ctx context.Context, appID int64, role string) (string, []any, error) {
	kind, err := s.appKind(ctx, s.db, appID)
	if err != nil {
		return "", nil, err
	}
	spec, _ := s.kinds.Spec(kind)
	rank := s.kinds.RoleRank(kind)
	if rank(role) < 0 {
		return "", nil, fmt.Errorf("%w: role %q is not one of %s", directory.ErrInvalid, role, strings.Join(spec.Roles, ", "))
	}
	const viaGroup = `SELECT 1 FROM assignments a JOIN group_members m ON m.group_id = a.group_id WHERE a.app_id = ? AND m.user_id = u.id`
	cond := `(EXISTS (SELECT 1 FROM assignments a WHERE a.app_id = ? AND a.user_id = u.id AND a.role = ?)
		OR (NOT EXISTS (SELECT 1 FROM assignments a WHERE a.app_id = ? AND a.user_id = u.id)
		AND EXISTS (` + viaGroup + ` AND a.role = ?)`
	args := []any{appID, role, appID, appID, role}
	var above []string
	for _, r := range spec.Roles {
		if rank(r) > rank(role) {
			above = append(above, r)
		}
	}
	if len(above) > 0 {
		cond += ` AND NOT EXISTS (` + viaGroup + ` AND a.role IN (?` + strings.Repeat(", ?", len(above)-1) + `))`
		args = append(args, appID)
		for _, r := range above {
			args = append(args, r)
		}
	}
	return cond + "))", args, nil
}

// UserGroups names each given user's groups, sorted by name.
func (s *DB) UserGroups(ctx context.Context, userIDs []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	for start := 0; start < len(userIDs); start += s.idsPerStmt() {
		in, args := inIDs(s.d.Arrays, userIDs[start:min(start+s.idsPerStmt(), len(userIDs))])
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE m.user_id IN `+in+` ORDER BY g.name_key`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = append(out[id], name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AccountStates counts an app's known accounts by state.
func (s *DB) AccountStates(ctx context.Context, appID int64) (store.AccountStates, error) {
	var st store.AccountStates
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT status, silent, COUNT(*) FROM app_accounts WHERE app_id = ? GROUP BY status, silent`), appID)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var silent, n int
		if err := rows.Scan(&status, &silent, &n); err != nil {
			return st, err
		}
		switch status {
		case "active":
			st.Active += n
		case "invited":
			st.Invited += n
			if silent != 0 {
				st.PendingSSO += n
			}
		case "suspended":
			st.Suspended += n
		case "removed":
			st.Removed += n
		}
	}
	return st, rows.Err()
}

// CountAppUsers counts an app's app users by state.
func (s *DB) CountAppUsers(ctx context.Context, appID int64) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT state, COUNT(*) FROM app_users WHERE app_id = ? GROUP BY state`), appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// CountLog counts the log entries matching f.
func (s *DB) CountLog(ctx context.Context, f audit.Filter) (int, error) {
	where, args := logWhere(f)
	query := `SELECT COUNT(*) FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var n int
	err := s.db.QueryRowContext(ctx, s.q(query), args...).Scan(&n)
	return n, err
}

// ContestedUsers counts the app users matched or linked to each directory
// user that more than one of them claims.
func (s *DB) ContestedUsers(ctx context.Context, appID int64) (map[int64]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT user_id, COUNT(*) FROM app_users
		WHERE app_id = ? AND user_id IS NOT NULL AND user_id <> 0 AND state IN ('matched', 'confirmed') GROUP BY user_id HAVING COUNT(*) > 1`), appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
