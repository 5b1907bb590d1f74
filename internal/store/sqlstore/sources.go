package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

const sourceCols = `id, name, kind, config, settings, sealed_secret IS NOT NULL, token_hash IS NOT NULL, created_at,
	last_request_at, last_run_at, last_error, last_error_at, error_count,
	(SELECT COUNT(*) FROM users u WHERE u.source = sources.name),
	(SELECT COUNT(*) FROM groups g WHERE g.source = sources.name)`

func scanSource(r scanner) (store.Source, error) {
	var src store.Source
	var config, settings string
	var created, req, run, errAt int64
	if err := r.Scan(&src.ID, &src.Name, &src.Kind, &config, &settings, &src.HasSecret, &src.HasToken, &created,
		&req, &run, &src.LastError, &errAt, &src.Errors, &src.Users, &src.Groups); err != nil {
		return src, err
	}
	src.Config = json.RawMessage(config)
	if err := json.Unmarshal([]byte(settings), &src.Settings); err != nil {
		return src, fmt.Errorf("decode settings of source %s: %w", src.Name, err)
	}
	src.CreatedAt = fromNanos(created)
	src.LastRequest, src.LastRun, src.LastErrorAt = optTime(req), optTime(run), optTime(errAt)
	return src, nil
}

func optTime(n int64) *time.Time {
	if n == 0 {
		return nil
	}
	t := fromNanos(n)
	return &t
}

// checkSource validates what every source needs before it is stored.
func checkSource(src *store.Source) (config, settings string, err error) {
	if err := src.Settings.Validate(); err != nil {
		return "", "", err
	}
	if len(src.Config) == 0 {
		src.Config = json.RawMessage(`{}`)
	}
	if !json.Valid(src.Config) {
		return "", "", fmt.Errorf("%w: the config of source %s is not valid JSON", directory.ErrInvalid, src.Name)
	}
	b, _ := json.Marshal(src.Settings) // a struct of plain fields always encodes
	return string(src.Config), string(b), nil
}

// CreateSource stores a new source.
func (s *DB) CreateSource(ctx context.Context, by store.Actor, src *store.Source, sealedSecret, tokenHash []byte) error {
	src.Name = store.NormalizeSourceName(src.Name)
	if err := store.ValidSourceName(src.Name); err != nil {
		return err
	}
	config, settings, err := checkSource(src)
	if err != nil {
		return err
	}
	src.CreatedAt = s.now().UTC()
	src.HasSecret, src.HasToken = sealedSecret != nil, tokenHash != nil
	return s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO sources (name, name_key, kind, config, settings, sealed_secret, token_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			src.Name, directory.Key(src.Name), src.Kind, config, settings, sealedSecret, tokenHash, nanos(src.CreatedAt)).Scan(&src.ID)
		if err != nil {
			return fmt.Errorf("insert source %s: %w", src.Name, err)
		}
		return s.logChange(ctx, tx, by, "source.create", "source", src.Name, "", map[string]any{"kind": src.Kind, "settings": src.Settings})
	})
}

// GetSource finds a source by name.
func (s *DB) GetSource(ctx context.Context, name string) (store.Source, error) {
	return s.sourceWhere(ctx, s.db, `name_key = ?`, directory.Key(name), name)
}

// SourceByTokenHash finds the source a bearer token belongs to.
func (s *DB) SourceByTokenHash(ctx context.Context, hash []byte) (store.Source, error) {
	// Counting what it owns is not needed to authenticate a request.
	row := s.db.QueryRowContext(ctx, s.q(`SELECT id, name, kind, config, settings, sealed_secret IS NOT NULL, token_hash IS NOT NULL, created_at,
		last_request_at, last_run_at, last_error, last_error_at, error_count, 0, 0 FROM sources WHERE token_hash = ?`), hash)
	src, err := scanSource(row)
	if isNoRows(err) {
		return src, fmt.Errorf("%w: source token", directory.ErrNotFound)
	}
	return src, err
}

func (s *DB) sourceWhere(ctx context.Context, q querier, cond string, arg any, name string) (store.Source, error) {
	src, err := scanSource(q.QueryRowContext(ctx, s.q(`SELECT `+sourceCols+` FROM sources WHERE `+cond), arg))
	if isNoRows(err) {
		return src, notFound("source", name)
	}
	return src, err
}

// ListSources lists every source by name.
func (s *DB) ListSources(ctx context.Context) ([]store.Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := []store.Source{}
	err = scanEach(rows, func(r scanner) error {
		src, err := scanSource(r)
		out = append(out, src)
		return err
	})
	return out, err
}

// UpdateSource changes a source's config and settings.
func (s *DB) UpdateSource(ctx context.Context, by store.Actor, name string, fn func(*store.Source) error) (store.Source, error) {
	var out store.Source
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := s.sourceWhere(ctx, tx, `name_key = ?`, directory.Key(name), name)
		if err != nil {
			return err
		}
		cur := old
		cur.Config = append(json.RawMessage(nil), old.Config...)
		if err := fn(&cur); err != nil {
			return err
		}
		cur.ID, cur.Name, cur.Kind = old.ID, old.Name, old.Kind
		config, settings, err := checkSource(&cur)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE sources SET config = ?, settings = ? WHERE id = ?`), config, settings, cur.ID); err != nil {
			return fmt.Errorf("update source %s: %w", name, err)
		}
		out = cur
		detail := map[string]any{"settings": cur.Settings}
		if string(old.Config) != config {
			detail["config"] = json.RawMessage(config)
		}
		return s.logChange(ctx, tx, by, "source.update", "source", cur.Name, "", detail)
	})
	return out, err
}

// SetSourceToken replaces the source's token hash.
func (s *DB) SetSourceToken(ctx context.Context, by store.Actor, name string, tokenHash []byte) error {
	return s.setSourceColumn(ctx, by, name, "token_hash", tokenHash, "source.token.rotate")
}

// SetSourceSecret replaces the source's sealed secret.
func (s *DB) SetSourceSecret(ctx context.Context, by store.Actor, name string, sealed []byte) error {
	return s.setSourceColumn(ctx, by, name, "sealed_secret", sealed, "source.secret.set")
}

func (s *DB) setSourceColumn(ctx context.Context, by store.Actor, name, col string, v []byte, action string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		src, err := s.sourceWhere(ctx, tx, `name_key = ?`, directory.Key(name), name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE sources SET `+col+` = ? WHERE id = ?`), v, src.ID); err != nil {
			return fmt.Errorf("update source %s: %w", name, err)
		}
		return s.logChange(ctx, tx, by, action, "source", src.Name, "", nil)
	})
}

// SourceSecret returns the sealed secret of a source.
func (s *DB) SourceSecret(ctx context.Context, id int64) ([]byte, error) {
	var sealed []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT sealed_secret FROM sources WHERE id = ?`), id).Scan(&sealed)
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: source %d", directory.ErrNotFound, id)
	}
	return sealed, err
}

// sourceRequestEvery spaces the recording of a source's requests, so that
// a busy SCIM client does not make every request a write.
const sourceRequestEvery = 5 * time.Second

// RecordSourceActivity notes a request, a run or an error.
func (s *DB) RecordSourceActivity(ctx context.Context, id int64, a store.Activity) error {
	at := nanos(a.At)
	var err error
	switch {
	case a.Err != "":
		col := "last_request_at"
		if a.Run {
			col = "last_run_at"
		}
		msg := a.Err
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE sources SET `+col+` = ?, last_error = ?, last_error_at = ?, error_count = error_count + 1 WHERE id = ?`), at, msg, at, id)
	case a.Run:
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE sources SET last_run_at = ? WHERE id = ?`), at, id)
	default:
		_, err = s.wdb.ExecContext(ctx, s.q(`UPDATE sources SET last_request_at = ? WHERE id = ? AND last_request_at < ?`), at, id, at-int64(sourceRequestEvery))
	}
	if err != nil {
		return fmt.Errorf("record activity of source %d: %w", id, err)
	}
	return nil
}

// DeleteSource removes a source; what it owned passes to api.
func (s *DB) DeleteSource(ctx context.Context, by store.Actor, name string) (users, groups int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		src, err := s.sourceWhere(ctx, tx, `name_key = ?`, directory.Key(name), name)
		if err != nil {
			return err
		}
		now := nanos(s.now())
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET source = ?, updated_at = ? WHERE source = ?`), directory.SourceAPI, now, src.Name)
		if err != nil {
			return fmt.Errorf("detach the users of source %s: %w", name, err)
		}
		n, _ := res.RowsAffected()
		users = int(n)
		if res, err = tx.ExecContext(ctx, s.q(`UPDATE groups SET source = ? WHERE source = ?`), directory.SourceAPI, src.Name); err != nil {
			return fmt.Errorf("detach the groups of source %s: %w", name, err)
		}
		n, _ = res.RowsAffected()
		groups = int(n)
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sources WHERE id = ?`), src.ID); err != nil {
			return fmt.Errorf("delete source %s: %w", name, err)
		}
		return s.logChange(ctx, tx, by, "source.delete", "source", src.Name, "", map[string]any{"kind": src.Kind, "users_detached": users, "groups_detached": groups})
	})
	return users, groups, err
}

// SetUserSource hands a user from one source to another.
func (s *DB) SetUserSource(ctx context.Context, by store.Actor, username, from, to, action string) (directory.User, error) {
	var out directory.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.getUser(ctx, tx, `username_key = ?`, directory.Key(username), username)
		if err != nil {
			return err
		}
		if u.Source != from {
			return fmt.Errorf("%w: user %s belongs to source %s, not %s", directory.ErrConflict, u.Username, u.Source, from)
		}
		if !directory.ValidSource(to) {
			return fmt.Errorf("%w: source %q is not a valid source name", directory.ErrInvalid, to)
		}
		u.Source, u.UpdatedAt = to, s.now().UTC()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET source = ?, updated_at = ? WHERE id = ?`), to, nanos(u.UpdatedAt), u.ID); err != nil {
			return fmt.Errorf("change the source of user %s: %w", username, err)
		}
		out = u
		return s.logChange(ctx, tx, by, action, "user", u.Username, "", map[string]any{"source": []string{from, to}})
	})
	return out, err
}

// SetGroupSource hands a group from one source to another.
func (s *DB) SetGroupSource(ctx context.Context, by store.Actor, name, from, to, action string) (directory.Group, error) {
	var out directory.Group
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getGroup(ctx, tx, name)
		if err != nil {
			return err
		}
		if g.Source != from {
			return fmt.Errorf("%w: group %s belongs to source %s, not %s", directory.ErrConflict, g.Name, g.Source, from)
		}
		if !directory.ValidSource(to) {
			return fmt.Errorf("%w: source %q is not a valid source name", directory.ErrInvalid, to)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE groups SET source = ? WHERE id = ?`), to, g.ID); err != nil {
			return fmt.Errorf("change the source of group %s: %w", name, err)
		}
		g.Source = to
		out = g
		return s.logChange(ctx, tx, by, action, "group", g.Name, "", map[string]any{"source": []string{from, to}})
	})
	return out, err
}

var _ store.Sources = (*DB)(nil)
