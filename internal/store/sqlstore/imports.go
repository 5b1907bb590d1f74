package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

const appUserCols = `id, app_id, member_id, email, given_name, surname, external_id, status, role, state, match_kind, user_id, reason, seen_at`

func scanAppUser(r scanner) (store.AppUser, error) {
	var a store.AppUser
	var seen int64
	err := r.Scan(&a.ID, &a.AppID, &a.MemberID, &a.Email, &a.GivenName, &a.Surname, &a.ExternalID, &a.Status, &a.Role,
		&a.State, &a.Match, &a.UserID, &a.Reason, &seen)
	a.SeenAt = fromNanos(seen)
	return a, err
}

// SaveImport stores an import's app users. Ignored members stay ignored;
// members no longer in the app are dropped.
func (s *DB) SaveImport(ctx context.Context, by store.Actor, appID int64, users []store.AppUser) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Rows this import saw carry its timestamp; the rest vanished from the app.
		now := nanos(s.now())
		for start := 0; start < len(users); start += usersPerInsert {
			if err := s.upsertAppUsers(ctx, tx, appID, users[start:min(start+usersPerInsert, len(users))], now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM app_users WHERE app_id = ? AND seen_at <> ?`), appID, now); err != nil {
			return fmt.Errorf("drop vanished app users: %w", err)
		}
		var app string
		_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&app)
		return s.logChange(ctx, tx, by, "import.save", "app", app, app, map[string]any{"members": len(users)})
	})
}

func (s *DB) upsertAppUsers(ctx context.Context, tx *sql.Tx, appID int64, chunk []store.AppUser, now int64) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO app_users (app_id, member_id, email, given_name, surname, external_id, status, role, state, match_kind, user_id, reason, seen_at) VALUES `)
	args := make([]any, 0, len(chunk)*13)
	for i, a := range chunk {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, appID, a.MemberID, a.Email, a.GivenName, a.Surname, a.ExternalID, a.Status, a.Role, a.State, a.Match, a.UserID, a.Reason, now)
	}
	// An admin's "ignore" survives re-imports; everything else is re-evaluated.
	q.WriteString(` ON CONFLICT (app_id, member_id) DO UPDATE SET email = excluded.email, given_name = excluded.given_name,
		surname = excluded.surname, external_id = excluded.external_id, status = excluded.status, role = excluded.role,
		state = CASE WHEN app_users.state = 'ignored' THEN 'ignored' ELSE excluded.state END,
		match_kind = excluded.match_kind, user_id = excluded.user_id, reason = excluded.reason, seen_at = excluded.seen_at`)
	if _, err := tx.ExecContext(ctx, s.d.Rebind(q.String()), args...); err != nil {
		return fmt.Errorf("store app users: %w", err)
	}
	return nil
}

// ListAppUsers pages through an app's app users, optionally in one state.
func (s *DB) ListAppUsers(ctx context.Context, appID int64, state string, p store.Page) ([]store.AppUser, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+appUserCols+` FROM app_users WHERE app_id = ? AND (? = '' OR state = ?) AND id > ? ORDER BY id LIMIT ?`),
		appID, state, state, p.After, limitOr(p.Limit, 100, 10000))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AppUser
	for rows.Next() {
		a, err := scanAppUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetAppUser finds one app user by its ID, member ID or email.
func (s *DB) GetAppUser(ctx context.Context, appID int64, ref string) (store.AppUser, error) {
	a, err := scanAppUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+appUserCols+` FROM app_users WHERE app_id = ? AND (member_id = ? OR LOWER(email) = ? OR id = ?)`),
		appID, ref, directory.Key(ref), refID(ref)))
	if isNoRows(err) {
		return a, notFound("app user", ref)
	}
	return a, err
}

// refID is ref as an app user ID, or -1 when it is not a number.
func refID(ref string) int64 {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		return n
	}
	return -1
}

// confirmPerStmt bounds the rows of one multi-row statement of a confirmation
// (11 parameters each), well below both backends' parameter limits.
const confirmPerStmt = 500

// ConfirmAppUsers links app members to directory users without calling the
// app, all or none, in statements of many rows so that a migration of 100,000
// members is one short transaction.
func (s *DB) ConfirmAppUsers(ctx context.Context, by store.Actor, links []store.AppUser) error {
	if len(links) == 0 {
		return nil
	}
	if err := checkLinkSet(links); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		app := s.appName(ctx, tx, links[0].AppID)
		for start := 0; start < len(links); start += confirmPerStmt {
			if err := s.confirmChunk(ctx, tx, by, app, links[start:min(start+confirmPerStmt, len(links))]); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkLinkSet refuses a set that links one member or one user twice, or spans apps.
func checkLinkSet(links []store.AppUser) error {
	members := make(map[string]bool, len(links))
	users := make(map[int64]bool, len(links))
	for _, au := range links {
		switch {
		case au.AppID != links[0].AppID:
			return fmt.Errorf("%w: confirmations of several apps in one call", directory.ErrInvalid)
		case members[au.MemberID]:
			return fmt.Errorf("%w: member %s is confirmed twice", directory.ErrConflict, au.Email)
		case users[au.UserID]:
			return fmt.Errorf("%w: directory user %d is linked to two members (%s is one)", directory.ErrConflict, au.UserID, au.Email)
		}
		members[au.MemberID], users[au.UserID] = true, true
	}
	return nil
}

func (s *DB) appName(ctx context.Context, tx *sql.Tx, appID int64) string {
	var name string
	_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&name)
	return name
}

func (s *DB) confirmChunk(ctx context.Context, tx *sql.Tx, by store.Actor, app string, chunk []store.AppUser) error {
	ids := make([]int64, len(chunk))
	for i, au := range chunk {
		ids[i] = au.UserID
	}
	names, err := s.usernames(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, au := range chunk {
		if _, ok := names[au.UserID]; !ok {
			return fmt.Errorf("%w: no directory user with id %d for member %s", directory.ErrNotFound, au.UserID, au.Email)
		}
	}
	if err := s.checkLinks(ctx, tx, chunk); err != nil {
		return err
	}
	accts := make([]*store.Account, len(chunk))
	for i, au := range chunk {
		accts[i] = &store.Account{AppID: au.AppID, UserID: au.UserID, MemberID: au.MemberID, Email: au.Email, GivenName: au.GivenName,
			Surname: au.Surname, ExternalID: au.ExternalID, Role: au.Role, Status: au.Status}
	}
	put := s.putAccounts
	if len(accts) == 1 { // an admin's single confirm or link
		put = func(ctx context.Context, tx *sql.Tx, a []*store.Account) error { return s.putAccount(ctx, tx, a[0]) }
	}
	if err := put(ctx, tx, accts); err != nil {
		return err
	}
	assigned, err := s.assignLinked(ctx, tx, chunk)
	if err != nil {
		return err
	}
	if err := s.enqueuePairs(ctx, tx, chunk[0].AppID, assigned, "import.confirm"); err != nil {
		return err
	}
	if err := s.markConfirmed(ctx, tx, chunk); err != nil {
		return err
	}
	entries := make([]audit.Entry, len(chunk))
	for i, au := range chunk {
		entries[i] = audit.Entry{Actor: string(by), Action: "import.confirm", TargetKind: "user", Target: names[au.UserID], App: app,
			Outcome: audit.Success, Detail: map[string]any{"member_id": au.MemberID, "email": au.Email, "match": au.Match}}
	}
	return s.insertLogs(ctx, tx, entries)
}

// usernames maps user IDs to usernames; IDs of no user are left out.
func (s *DB) usernames(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]string, error) {
	in, args := inIDs(ids)
	rows, err := s.queryPrepared(ctx, tx, s.q(`SELECT id, username FROM users WHERE id IN `+in), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := make(map[int64]string, len(ids))
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}

// checkLinks refuses a member already linked to another user and a user
// already linked to another member that is still in the app. A removed
// account of another user only blocks the member ID, so it is forgotten.
func (s *DB) checkLinks(ctx context.Context, tx *sql.Tx, chunk []store.AppUser) error {
	byMember := make(map[string]store.AppUser, len(chunk))
	byUser := make(map[int64]store.AppUser, len(chunk))
	members, users := make([]any, 0, len(chunk)+1), make([]any, 0, len(chunk)+1)
	members, users = append(members, chunk[0].AppID), append(users, chunk[0].AppID)
	for _, au := range chunk {
		byMember[au.MemberID], byUser[au.UserID] = au, au
		members, users = append(members, au.MemberID), append(users, au.UserID)
	}
	// One query per index: an OR of both lists would scan every account.
	in := `(?` + strings.Repeat(",?", len(chunk)-1) + `)`
	byMemberRows, err := s.accountsWhere(ctx, tx, `member_id IN `+in, members)
	if err != nil {
		return err
	}
	byUserRows, err := s.accountsWhere(ctx, tx, `user_id IN `+in, users)
	if err != nil {
		return err
	}
	var stale []any
	var errs []error
	for _, ac := range byMemberRows {
		if au := byMember[ac.MemberID]; au.UserID != ac.UserID {
			if ac.Status != "removed" {
				errs = append(errs, fmt.Errorf("%w: member %s is already linked to another directory user (id %d)", directory.ErrConflict, au.Email, ac.UserID))
			}
			stale = append(stale, ac.UserID)
		}
	}
	for _, ac := range byUserRows {
		if au := byUser[ac.UserID]; au.MemberID != ac.MemberID && ac.Status != "removed" {
			errs = append(errs, fmt.Errorf("%w: directory user %d is already linked to another member (%s) of the app", directory.ErrConflict, ac.UserID, ac.MemberID))
		}
	}
	if len(errs) > 0 || len(stale) == 0 {
		return errors.Join(errs...)
	}
	_, err = tx.ExecContext(ctx, s.d.Rebind(`DELETE FROM app_accounts WHERE app_id = ? AND status = 'removed' AND user_id IN (?`+strings.Repeat(",?", len(stale)-1)+`)`),
		append([]any{chunk[0].AppID}, stale...)...)
	return err
}

// accountsWhere reads the app's accounts (args[0] is the app ID) matching cond.
func (s *DB) accountsWhere(ctx context.Context, tx *sql.Tx, cond string, args []any) ([]store.Account, error) {
	rows, err := tx.QueryContext(ctx, s.d.Rebind(`SELECT `+accountCols+` FROM app_accounts WHERE app_id = ? AND `+cond), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// assignLinked gives each linked user a direct assignment with the member's
// role unless it has one, and returns the users newly assigned.
func (s *DB) assignLinked(ctx context.Context, tx *sql.Tx, chunk []store.AppUser) ([]int64, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO assignments (app_id, user_id, role, created_at) VALUES `)
	args := make([]any, 0, len(chunk)*4)
	now := nanos(s.now())
	for i, au := range chunk {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?)")
		args = append(args, au.AppID, au.UserID, au.Role, now)
	}
	q.WriteString(` ON CONFLICT (app_id, user_id) WHERE user_id IS NOT NULL DO NOTHING RETURNING user_id`)
	rows, err := tx.QueryContext(ctx, s.d.Rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("assign on confirm: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// enqueuePairs queues distinct users of one app in multi-row statements.
func (s *DB) enqueuePairs(ctx context.Context, tx *sql.Tx, appID int64, userIDs []int64, reason string) error {
	now := nanos(s.now())
	args := make([]any, 0, len(userIDs)*7)
	for _, id := range userIDs {
		args = append(args, appID, store.WorkUser, id, reason, 1, now, now)
	}
	if err := s.insertRows(ctx, tx, `INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at) VALUES `, upsertWork, 7, args); err != nil {
		return fmt.Errorf("enqueue users of app %d: %w", appID, err)
	}
	return nil
}

// markConfirmed upserts by the (app_id, member_id) key, so each row is found
// through the index; an UPDATE over a list of values scans the table.
func (s *DB) markConfirmed(ctx context.Context, tx *sql.Tx, chunk []store.AppUser) error {
	now := nanos(s.now())
	args := make([]any, 0, len(chunk)*13)
	for _, a := range chunk {
		args = append(args, a.AppID, a.MemberID, a.Email, a.GivenName, a.Surname, a.ExternalID, a.Status, a.Role, store.AppUserConfirmed, a.Match, a.UserID, "", now)
	}
	err := s.insertRows(ctx, tx, `INSERT INTO app_users (app_id, member_id, email, given_name, surname, external_id, status, role, state, match_kind, user_id, reason, seen_at) VALUES `,
		` ON CONFLICT (app_id, member_id) DO UPDATE SET state = excluded.state, user_id = excluded.user_id, match_kind = excluded.match_kind, reason = ''`, 13, args)
	if err != nil {
		return fmt.Errorf("mark app users confirmed: %w", err)
	}
	return nil
}

// MarkVanished sets the known accounts of users whose members left the app to
// removed, and queues the users so the engine re-plans them from the truth.
func (s *DB) MarkVanished(ctx context.Context, by store.Actor, appID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		app := s.appName(ctx, tx, appID)
		for start := 0; start < len(userIDs); start += confirmPerStmt {
			ids := userIDs[start:min(start+confirmPerStmt, len(userIDs))]
			names, err := s.usernames(ctx, tx, ids)
			if err != nil {
				return err
			}
			args := []any{nanos(s.now()), appID}
			entries := make([]audit.Entry, len(ids))
			for i, id := range ids {
				args = append(args, id)
				entries[i] = audit.Entry{Actor: string(by), Action: "import.vanished", TargetKind: "user", Target: names[id], App: app, Outcome: audit.Success,
					Message: "the member is no longer in the app; its known account is marked removed and the user re-planned"}
			}
			if _, err := tx.ExecContext(ctx, s.d.Rebind(`UPDATE app_accounts SET status = 'removed', updated_at = ? WHERE app_id = ? AND user_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`), args...); err != nil {
				return fmt.Errorf("mark vanished accounts: %w", err)
			}
			if err := s.enqueuePairs(ctx, tx, appID, ids, "import.vanished"); err != nil {
				return err
			}
			if err := s.insertLogs(ctx, tx, entries); err != nil {
				return err
			}
		}
		return nil
	})
}

// IgnoreAppUser keeps a member out of matching until an admin confirms it.
func (s *DB) IgnoreAppUser(ctx context.Context, by store.Actor, appID int64, member string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE app_users SET state = 'ignored' WHERE app_id = ? AND (member_id = ? OR LOWER(email) = ? OR id = ?) AND state <> 'confirmed'`),
			appID, member, directory.Key(member), refID(member))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no unconfirmed app user %q", directory.ErrNotFound, member)
		}
		var app string
		_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&app)
		return s.logChange(ctx, tx, by, "import.ignore", "app_user", member, app, nil)
	})
}

var _ store.Imports = (*DB)(nil)
