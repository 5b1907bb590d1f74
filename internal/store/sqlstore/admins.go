package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// validAdminName keeps admin names printable and short, since they appear in
// the system log and in the page header.
func validAdminName(name string) error {
	if name == "" || len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%w: an admin name must be 1–64 printable characters without spaces", directory.ErrInvalid)
	}
	return nil
}

// CreateAdmin stores a local admin of the web UI.
func (s *DB) CreateAdmin(ctx context.Context, by store.Actor, name string, passwordHash []byte) (store.Admin, error) {
	a := store.Admin{Name: strings.TrimSpace(name), CreatedAt: s.now().UTC()}
	if err := validAdminName(a.Name); err != nil {
		return a, err
	}
	if len(passwordHash) == 0 {
		return a, fmt.Errorf("%w: an admin needs a password", directory.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO web_admins (name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
			a.Name, directory.Key(a.Name), passwordHash, nanos(a.CreatedAt)).Scan(&a.ID)
		if _, dup := s.d.UniqueViolation(err); dup {
			return fmt.Errorf("%w: an admin named %q already exists", directory.ErrConflict, a.Name)
		}
		if err != nil {
			return fmt.Errorf("insert admin: %w", err)
		}
		return s.logChange(ctx, tx, by, "admin.create", "admin", a.Name, "", nil)
	})
	return a, err
}

// AdminPassword returns an admin with its password hash.
func (s *DB) AdminPassword(ctx context.Context, name string) (store.Admin, []byte, error) {
	var a store.Admin
	var hash []byte
	var created, last int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, name, password_hash, created_at, last_login_at FROM web_admins WHERE name_key = ?`),
		directory.Key(name)).Scan(&a.ID, &a.Name, &hash, &created, &last)
	if isNoRows(err) {
		return a, nil, notFound("admin", name)
	}
	if err != nil {
		return a, nil, err
	}
	a.CreatedAt = fromNanos(created)
	if last > 0 {
		t := fromNanos(last)
		a.LastLogin = &t
	}
	return a, hash, nil
}

// SetAdminPassword replaces an admin's password hash and ends its sessions,
// so a password change locks out whoever knew the old one.
func (s *DB) SetAdminPassword(ctx context.Context, by store.Actor, name string, passwordHash []byte) error {
	if len(passwordHash) == 0 {
		return fmt.Errorf("%w: an admin needs a password", directory.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`UPDATE web_admins SET password_hash = ? WHERE name_key = ? RETURNING id`),
			passwordHash, directory.Key(name)).Scan(&id)
		if isNoRows(err) {
			return notFound("admin", name)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE admin_id = ?`), id); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "admin.password", "admin", name, "", nil)
	})
}

// ListAdmins lists admins without their password hashes.
func (s *DB) ListAdmins(ctx context.Context) ([]store.Admin, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, last_login_at FROM web_admins ORDER BY name_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Admin
	for rows.Next() {
		var a store.Admin
		var created, last int64
		if err := rows.Scan(&a.ID, &a.Name, &created, &last); err != nil {
			return nil, err
		}
		a.CreatedAt = fromNanos(created)
		if last > 0 {
			t := fromNanos(last)
			a.LastLogin = &t
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAdmin removes an admin and its sessions.
func (s *DB) DeleteAdmin(ctx context.Context, by store.Actor, name string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`DELETE FROM web_admins WHERE name_key = ? RETURNING id`), directory.Key(name)).Scan(&id)
		if isNoRows(err) {
			return notFound("admin", name)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM web_sessions WHERE admin_id = ?`), id); err != nil {
			return err
		}
		return s.logChange(ctx, tx, by, "admin.delete", "admin", name, "", nil)
	})
}

// CreateSession stores a session and logs the sign-in.
func (s *DB) CreateSession(ctx context.Context, idHash []byte, se store.Session) error {
	if len(idHash) == 0 || !se.ExpiresAt.After(se.CreatedAt) || se.Actor == "" {
		return fmt.Errorf("%w: a session needs an id, an actor and an expiry after its start", directory.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO web_sessions (id_hash, actor, admin_id, token_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
			idHash, string(se.Actor), se.AdminID, se.TokenID, nanos(se.CreatedAt), nanos(se.ExpiresAt)); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if se.AdminID != 0 {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE web_admins SET last_login_at = ? WHERE id = ?`), nanos(se.CreatedAt), se.AdminID); err != nil {
				return err
			}
		}
		return s.logChange(ctx, tx, se.Actor, "web.signin", "session", string(se.Actor), "", nil)
	})
}

// SessionByHash finds a live session.
func (s *DB) SessionByHash(ctx context.Context, idHash []byte, now time.Time) (store.Session, error) {
	var se store.Session
	var actor string
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT s.actor, s.admin_id, s.token_id, s.created_at, s.expires_at FROM web_sessions s
		WHERE s.id_hash = ? AND s.expires_at > ?
		AND (s.admin_id = 0 OR EXISTS (SELECT 1 FROM web_admins a WHERE a.id = s.admin_id))
		AND (s.token_id = 0 OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.id = s.token_id))`),
		idHash, nanos(now)).Scan(&actor, &se.AdminID, &se.TokenID, &created, &expires)
	if isNoRows(err) {
		return se, fmt.Errorf("%w: session", directory.ErrNotFound)
	}
	if err != nil {
		return se, err
	}
	se.Actor, se.CreatedAt, se.ExpiresAt = store.Actor(actor), fromNanos(created), fromNanos(expires)
	return se, nil
}

// DeleteSession ends a session.
func (s *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var actor string
		err := tx.QueryRowContext(ctx, s.q(`DELETE FROM web_sessions WHERE id_hash = ? RETURNING actor`), idHash).Scan(&actor)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM web_oauth_states WHERE session_hash = ?`), idHash); err != nil {
			return err
		}
		return s.logChange(ctx, tx, store.Actor(actor), "web.signout", "session", actor, "", nil)
	})
}

// DeleteExpiredSessions drops what expired.
func (s *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM web_sessions WHERE expires_at <= ?`, `DELETE FROM web_oauth_states WHERE expires_at <= ?`} {
			res, err := tx.ExecContext(ctx, s.q(q), nanos(now))
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			n += int(c)
		}
		return nil
	})
	return n, err
}

// SetOAuthClient stores an app's OAuth client.
func (s *DB) SetOAuthClient(ctx context.Context, by store.Actor, appName, clientID string, sealedSecret []byte) error {
	clientID = strings.TrimSpace(clientID)
	if clientID == "" || len(clientID) > 200 || strings.ContainsAny(clientID, " \t\r\n") || len(sealedSecret) == 0 {
		return fmt.Errorf("%w: the OAuth client needs an app key of 1–200 characters without spaces and a secret", directory.ErrInvalid)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, appName)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO app_oauth_clients (app_id, client_id, sealed_secret, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET client_id = excluded.client_id, sealed_secret = excluded.sealed_secret,
			sealed_refresh = NULL, token_expires_at = 0, updated_at = excluded.updated_at`),
			a.ID, clientID, sealedSecret, nanos(s.now())); err != nil {
			return fmt.Errorf("store OAuth client of app %s: %w", a.Name, err)
		}
		return s.logChange(ctx, tx, by, "app.oauth_client.set", "app", a.Name, a.Name, map[string]any{"client_id": clientID})
	})
}

// OAuthClient returns an app's OAuth client, sealed parts still sealed.
func (s *DB) OAuthClient(ctx context.Context, appID int64) (store.OAuthClient, error) {
	c := store.OAuthClient{AppID: appID}
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT client_id, sealed_secret, sealed_refresh, token_expires_at FROM app_oauth_clients WHERE app_id = ?`), appID).
		Scan(&c.ClientID, &c.SealedSecret, &c.SealedRefresh, &expires)
	if isNoRows(err) {
		return c, fmt.Errorf("%w: app %d has no OAuth client; enter its app key and secret first", directory.ErrNotFound, appID)
	}
	if expires > 0 {
		c.TokenExpires = fromNanos(expires)
	}
	return c, err
}

// SetOAuthToken stores the flow's tokens with the app's credential in one transaction.
func (s *DB) SetOAuthToken(ctx context.Context, by store.Actor, appName string, sealedAccess, sealedRefresh []byte, expires time.Time) error {
	if len(sealedAccess) == 0 {
		return fmt.Errorf("%w: no access token to store", directory.ErrInvalid)
	}
	var exp int64
	if !expires.IsZero() {
		exp = nanos(expires)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, appName)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE app_oauth_clients SET sealed_refresh = ?, token_expires_at = ?, updated_at = ? WHERE app_id = ?`),
			sealedRefresh, exp, nanos(s.now()), a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: app %s has no OAuth client", directory.ErrNotFound, a.Name)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO app_credentials (app_id, sealed, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`),
			a.ID, sealedAccess, nanos(s.now())); err != nil {
			return fmt.Errorf("store credential of app %s: %w", a.Name, err)
		}
		return s.logChange(ctx, tx, by, "app.oauth.authenticated", "app", a.Name, a.Name, map[string]any{"refresh_token": sealedRefresh != nil})
	})
}

// CreateOAuthState remembers a state parameter in flight.
func (s *DB) CreateOAuthState(ctx context.Context, stateHash, sessionHash []byte, appID int64, expires time.Time) error {
	_, err := s.wdb.ExecContext(ctx, s.q(`INSERT INTO web_oauth_states (state_hash, session_hash, app_id, expires_at) VALUES (?, ?, ?, ?)`),
		stateHash, sessionHash, appID, nanos(expires))
	if err != nil {
		return fmt.Errorf("store OAuth state: %w", err)
	}
	return nil
}

// errBadState is what every unusable state parameter gets, so a caller learns
// nothing about which check failed.
var errBadState = fmt.Errorf("%w: the sign-in with Dropbox was not started from this session, was used already or took too long; start it again", directory.ErrNotFound)

// TakeOAuthState returns the app of a state parameter once.
func (s *DB) TakeOAuthState(ctx context.Context, stateHash, sessionHash []byte, now time.Time) (int64, error) {
	var appID, expires int64
	var owner []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`DELETE FROM web_oauth_states WHERE state_hash = ? RETURNING session_hash, app_id, expires_at`), stateHash).
			Scan(&owner, &appID, &expires)
		if isNoRows(err) {
			return errBadState
		}
		return err
	})
	if errors.Is(err, errBadState) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("take OAuth state: %w", err)
	}
	if string(owner) != string(sessionHash) || expires <= nanos(now) {
		return 0, errBadState
	}
	return appID, nil
}

var _ store.Admins = (*DB)(nil)
