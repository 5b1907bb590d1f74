package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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

// GetAppUser finds one app user by member ID or email.
func (s *DB) GetAppUser(ctx context.Context, appID int64, member string) (store.AppUser, error) {
	a, err := scanAppUser(s.db.QueryRowContext(ctx, s.q(`SELECT `+appUserCols+` FROM app_users WHERE app_id = ? AND (member_id = ? OR LOWER(email) = ?)`),
		appID, member, directory.Key(member)))
	if isNoRows(err) {
		return a, notFound("app user", member)
	}
	return a, err
}

// ConfirmAppUsers links app members to directory users without calling the app.
func (s *DB) ConfirmAppUsers(ctx context.Context, by store.Actor, links []store.AppUser) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var app string
		if len(links) > 0 {
			_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), links[0].AppID).Scan(&app)
		}
		for _, au := range links {
			if err := s.confirmOne(ctx, tx, by, app, au); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *DB) confirmOne(ctx context.Context, tx *sql.Tx, by store.Actor, app string, au store.AppUser) error {
	userID := au.UserID
	{
		u, err := s.getUser(ctx, tx, `id = ?`, userID, fmt.Sprint(userID))
		if err != nil {
			return err
		}
		var other int64
		err = tx.QueryRowContext(ctx, s.q(`SELECT user_id FROM app_accounts WHERE app_id = ? AND member_id = ? AND user_id <> ?`), au.AppID, au.MemberID, userID).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w: member %s is already linked to another directory user (id %d)", directory.ErrConflict, au.Email, other)
		}
		if !isNoRows(err) {
			return err
		}
		acct := store.Account{AppID: au.AppID, UserID: userID, MemberID: au.MemberID, Email: au.Email, GivenName: au.GivenName,
			Surname: au.Surname, ExternalID: au.ExternalID, Role: au.Role, Status: au.Status}
		if err := s.putAccount(ctx, tx, &acct); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO assignments (app_id, user_id, role, created_at)
			SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM assignments WHERE app_id = ? AND user_id = ?)`),
			au.AppID, userID, au.Role, nanos(s.now()), au.AppID, userID)
		if err != nil {
			return fmt.Errorf("assign on confirm: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := s.enqueuePair(ctx, tx, au.AppID, userID, "import.confirm"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE app_users SET state = 'confirmed', user_id = ? WHERE app_id = ? AND member_id = ?`),
			userID, au.AppID, au.MemberID); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "import.confirm", "user", u.Username, app, map[string]any{"member_id": au.MemberID, "email": au.Email, "match": au.Match})
	}
}

// MarkVanished sets the known accounts of users whose members left the app to
// removed, and queues the users so the engine re-plans them from the truth.
func (s *DB) MarkVanished(ctx context.Context, by store.Actor, appID int64, userIDs []int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var app string
		_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&app)
		for _, id := range userIDs {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE app_accounts SET status = 'removed', updated_at = ? WHERE app_id = ? AND user_id = ?`),
				nanos(s.now()), appID, id); err != nil {
				return err
			}
			if err := s.enqueuePair(ctx, tx, appID, id, "import.vanished"); err != nil {
				return err
			}
			if err := s.logChange(ctx, tx, by, "import.vanished", "user", fmt.Sprint(id), app, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// IgnoreAppUser keeps a member out of matching until an admin confirms it.
func (s *DB) IgnoreAppUser(ctx context.Context, by store.Actor, appID int64, member string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE app_users SET state = 'ignored' WHERE app_id = ? AND (member_id = ? OR LOWER(email) = ?) AND state <> 'confirmed'`),
			appID, member, directory.Key(member))
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
