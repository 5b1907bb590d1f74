package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// CreateApp adds an app instance.
func (s *DB) CreateApp(ctx context.Context, by store.Actor, a *app.Instance) error {
	if err := a.ValidateFields(); err != nil {
		return err
	}
	settings, err := s.kindSettings(*a)
	if err != nil {
		return err
	}
	a.Created = s.now().UTC()
	a.Updated = a.Created
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO apps (name, name_key, kind, base_url, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			a.Name, directory.Key(a.Name), a.Kind, a.BaseURL, string(settings), nanos(a.Created), nanos(a.Updated)).Scan(&a.ID)
		if err != nil {
			return s.taken(fmt.Errorf("insert app %s: %w", a.Name, err), map[string]string{"app name": a.Name})
		}
		return s.logChange(ctx, tx, by, "app.create", "app", a.Name, a.Name, map[string]any{"kind": a.Kind, "base_url": a.BaseURL})
	})
}

const appSelect = `SELECT a.id, a.name, a.kind, a.base_url, a.settings, a.created_at, a.updated_at,
	(SELECT COUNT(*) FROM app_credentials c WHERE c.app_id = a.id) FROM apps a`

func scanApp(r scanner) (app.Instance, error) {
	var a app.Instance
	var settings string
	var created, updated int64
	var creds int
	if err := r.Scan(&a.ID, &a.Name, &a.Kind, &a.BaseURL, &settings, &created, &updated, &creds); err != nil {
		return a, err
	}
	a.Created, a.Updated, a.HasToken = fromNanos(created), fromNanos(updated), creds > 0
	a.Settings = app.DefaultSettings()
	if err := json.Unmarshal([]byte(settings), &a.Settings); err != nil {
		return a, fmt.Errorf("decode settings of app %s: %w", a.Name, err)
	}
	return a, nil
}

// GetApp finds an app instance by name.
func (s *DB) GetApp(ctx context.Context, name string) (app.Instance, error) {
	return s.getApp(ctx, s.db, name)
}

func (s *DB) getApp(ctx context.Context, q querier, name string) (app.Instance, error) {
	a, err := scanApp(q.QueryRowContext(ctx, s.q(appSelect+` WHERE a.name_key = ?`), directory.Key(name)))
	if isNoRows(err) {
		return a, notFound("app", name)
	}
	return a, err
}

// ListApps returns every app instance by name.
func (s *DB) ListApps(ctx context.Context) ([]app.Instance, error) {
	rows, err := s.db.QueryContext(ctx, appSelect+` ORDER BY a.name_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Instance
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateApp changes an app's settings or base URL in one transaction. A change of
// settings can change every assigned user's desired state, so all are queued.
func (s *DB) UpdateApp(ctx context.Context, by store.Actor, name string, fn func(*app.Instance) error) (app.Instance, error) {
	var out app.Instance
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.getApp(ctx, tx, name)
		if err != nil {
			return err
		}
		cur := old
		if err := fn(&cur); err != nil {
			return err
		}
		cur.ID, cur.Kind, cur.Created, cur.HasToken = old.ID, old.Kind, old.Created, old.HasToken
		if err := cur.ValidateFields(); err != nil {
			return err
		}
		if _, err := s.kindSettings(cur); err != nil {
			return err
		}
		dropped := !app.KeepsCredential(old, cur)
		if dropped {
			if err := s.dropCredential(ctx, tx, cur.ID); err != nil {
				return err
			}
			cur.HasToken = false
		}
		out = cur
		if reflect.DeepEqual(old, cur) {
			return nil
		}
		cur.Updated = s.now().UTC()
		settings, err := json.Marshal(cur.Settings)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE apps SET name = ?, name_key = ?, base_url = ?, settings = ?, updated_at = ? WHERE id = ?`),
			cur.Name, directory.Key(cur.Name), cur.BaseURL, string(settings), nanos(cur.Updated), cur.ID); err != nil {
			return s.taken(fmt.Errorf("update app %s: %w", name, err), map[string]string{"app name": cur.Name})
		}
		if !reflect.DeepEqual(old.Settings.Deactivation, cur.Settings.Deactivation) {
			if err := s.freezeLeavers(ctx, tx, cur.ID, old.Settings.Deactivation); err != nil {
				return err
			}
		}
		if err := s.enqueueApp(ctx, tx, cur.ID, "app.update"); err != nil {
			return err
		}
		out = cur
		detail := map[string]any{"before": old.Settings, "after": cur.Settings}
		if dropped {
			detail["base_url"] = map[string]string{"before": old.BaseURL, "after": cur.BaseURL}
			detail["credential_dropped"] = old.HasToken
		}
		return s.logChange(ctx, tx, by, "app.update", "app", cur.Name, cur.Name, detail)
	})
	return out, err
}

// dropCredential forgets an app's token and its OAuth client (whose secret and
// refresh token also go to the base URL), so they never reach a new base URL.
func (s *DB) dropCredential(ctx context.Context, tx *sql.Tx, appID int64) error {
	for _, table := range []string{"app_credentials", "app_oauth_clients"} {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE app_id = ?`), appID); err != nil {
			return fmt.Errorf("drop the credential of app %d from %s: %w", appID, table, err)
		}
	}
	return nil
}

// enqueueApp queues every user assigned to the app.
func (s *DB) enqueueApp(ctx context.Context, tx *sql.Tx, appID int64, reason string) error {
	now := nanos(s.now())
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO work_items (app_id, kind, ref_id, reason, generation, created_at, due_at)
		SELECT ?, 'user', uid, ?, 1, ?, ? FROM (
			SELECT user_id AS uid FROM assignments WHERE app_id = ? AND user_id IS NOT NULL
			UNION SELECT m.user_id FROM assignments a JOIN group_members m ON m.group_id = a.group_id WHERE a.app_id = ?) x WHERE true`+upsertWork),
		appID, reason, now, now, appID, appID)
	if err != nil {
		return fmt.Errorf("enqueue app %d: %w", appID, err)
	}
	return nil
}

// SetAppCredential stores an encrypted credential, replacing any earlier one.
// The log records that it changed, never what it is.
func (s *DB) SetAppCredential(ctx context.Context, by store.Actor, name string, sealed []byte) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO app_credentials (app_id, sealed, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (app_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`),
			a.ID, sealed, nanos(s.now())); err != nil {
			return fmt.Errorf("store credential of app %s: %w", name, err)
		}
		// A token set by hand replaces the one from the OAuth flow: its
		// refresh token must not renew the old one over it.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE app_oauth_clients SET sealed_refresh = NULL, token_expires_at = 0 WHERE app_id = ?`), a.ID); err != nil {
			return fmt.Errorf("forget the OAuth token of app %s: %w", name, err)
		}
		return s.logChange(ctx, tx, by, "app.credential.set", "app", a.Name, a.Name, nil)
	})
}

// AppCredential returns an app's encrypted credential.
func (s *DB) AppCredential(ctx context.Context, appID int64) ([]byte, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT sealed FROM app_credentials WHERE app_id = ?`), appID).Scan(&sealed)
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: app %d has no credential; set a token or authenticate with Dropbox", directory.ErrNotFound, appID)
	}
	return sealed, err
}

// kindSettings is a's settings as stored, once they pass the rules of a's
// kind (ValidateFields knows no kinds; the services check capabilities too).
func (s *DB) kindSettings(a app.Instance) ([]byte, error) {
	js, err := json.Marshal(a.Settings)
	if err != nil {
		return nil, err
	}
	if err := s.kinds.CheckRules(a.Kind, js); err != nil {
		return nil, fmt.Errorf("%w: %w", directory.ErrInvalid, err)
	}
	return js, nil
}
