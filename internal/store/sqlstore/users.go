package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

const userCols = `id, external_key, source, username, email, first_name, last_name, attributes, status, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (directory.User, error) {
	var u directory.User
	var attrs string
	var created, updated int64
	if err := r.Scan(&u.ID, &u.ExternalKey, &u.Source, &u.Username, &u.Email, &u.FirstName, &u.LastName, &attrs, &u.Status, &created, &updated); err != nil {
		return u, err
	}
	if attrs != "{}" {
		if err := json.Unmarshal([]byte(attrs), &u.Attributes); err != nil {
			return u, fmt.Errorf("decode attributes of user %d: %w", u.ID, err)
		}
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return u, nil
}

func encodeAttrs(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

func (s *DB) prepareNewUser(u *directory.User) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	u.CreatedAt = s.now().UTC()
	u.UpdatedAt = u.CreatedAt
	if u.ExternalKey == "" {
		u.ExternalKey = directory.NewExternalKey(u.CreatedAt)
	}
	return nil
}

// CreateUser adds one user. A new user has no assignments yet, so no outbox item.
func (s *DB) CreateUser(ctx context.Context, by store.Actor, u *directory.User) error {
	if err := s.prepareNewUser(u); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.insertUser(ctx, tx, by, u) })
}

func (s *DB) insertUser(ctx context.Context, tx *sql.Tx, by store.Actor, u *directory.User) error {
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO users (external_key, source, username, username_key, email, email_key, first_name, last_name, attributes, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		u.ExternalKey, u.Source, u.Username, directory.Key(u.Username), u.Email, directory.Key(u.Email), u.FirstName, u.LastName,
		encodeAttrs(u.Attributes), u.Status, nanos(u.CreatedAt), nanos(u.UpdatedAt)).Scan(&u.ID)
	if err != nil {
		return s.taken(fmt.Errorf("insert user %s: %w", u.Username, err), map[string]string{"username": u.Username, "email": u.Email})
	}
	return s.logChange(ctx, tx, by, "user.create", "user", u.Username, "", map[string]any{"email": u.Email, "status": u.Status})
}

// UpsertUsers creates each user whose username is new and lets merge
// change each existing one (merge gets the stored user and the row), all in
// one transaction or none. Changed users are queued in their apps as an
// UpdateUser would.
func (s *DB) UpsertUsers(ctx context.Context, by store.Actor, us []directory.User, merge func(old, row directory.User) (directory.User, error)) (store.UpsertCounts, error) {
	var c store.UpsertCounts
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c = store.UpsertCounts{}
		for _, row := range us {
			old, err := s.getUser(ctx, tx, `username_key = ?`, directory.Key(row.Username), row.Username)
			if errors.Is(err, directory.ErrNotFound) {
				if err := s.prepareNewUser(&row); err != nil {
					return fmt.Errorf("user %s: %w", row.Username, err)
				}
				if err := s.insertUser(ctx, tx, by, &row); err != nil {
					return err
				}
				c.Created++
				continue
			}
			if err != nil {
				return err
			}
			cur, err := merge(old, row)
			if err != nil {
				return err
			}
			_, changed, err := s.storeUserChange(ctx, tx, by, old, cur, "user.update", false)
			if err != nil {
				return err
			}
			if changed {
				c.Updated++
			} else {
				c.Unchanged++
			}
		}
		return nil
	})
	return c, err
}

// usersPerInsert keeps a multi-row insert under both backends' parameter limits.
const usersPerInsert = 500

// CreateUsers inserts every user or none, in multi-row statements for speed.
func (s *DB) CreateUsers(ctx context.Context, by store.Actor, us []directory.User) error {
	for i := range us {
		if err := s.prepareNewUser(&us[i]); err != nil {
			return fmt.Errorf("user %d (%s): %w", i+1, us[i].Username, err)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(us); start += usersPerInsert {
			chunk := us[start:min(start+usersPerInsert, len(us))]
			if err := s.insertUserChunk(ctx, tx, by, chunk); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateUsersSeq inserts what users yields in one transaction, a multi-row
// statement at a time, so a large load needs no more memory than a small one.
func (s *DB) CreateUsersSeq(ctx context.Context, by store.Actor, users iter.Seq2[directory.User, error]) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		chunk := make([]directory.User, 0, usersPerInsert)
		flush := func() error {
			if len(chunk) == 0 {
				return nil
			}
			if err := s.insertUserChunk(ctx, tx, by, chunk); err != nil {
				return err
			}
			n, chunk = n+len(chunk), chunk[:0]
			return nil
		}
		for u, err := range users {
			if err != nil {
				return err
			}
			if err := s.prepareNewUser(&u); err != nil {
				return fmt.Errorf("user %d (%s): %w", n+len(chunk)+1, u.Username, err)
			}
			if chunk = append(chunk, u); len(chunk) == usersPerInsert {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *DB) insertUserChunk(ctx context.Context, tx *sql.Tx, by store.Actor, chunk []directory.User) error {
	var q, lq strings.Builder
	q.WriteString(`INSERT INTO users (external_key, source, username, username_key, email, email_key, first_name, last_name, attributes, status, created_at, updated_at) VALUES `)
	lq.WriteString(`INSERT INTO audit_log (at, actor, action, target_kind, target, app, outcome, message, detail) VALUES `)
	args := make([]any, 0, len(chunk)*12)
	largs := make([]any, 0, len(chunk)*5)
	for i, u := range chunk {
		if i > 0 {
			q.WriteByte(',')
			lq.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
		lq.WriteString("(?,?,'user.create','user',?,'','success','bulk load',?)")
		args = append(args, u.ExternalKey, u.Source, u.Username, directory.Key(u.Username), u.Email, directory.Key(u.Email), u.FirstName, u.LastName,
			encodeAttrs(u.Attributes), u.Status, nanos(u.CreatedAt), nanos(u.UpdatedAt))
		detail, _ := json.Marshal(map[string]any{"email": u.Email, "status": u.Status})
		largs = append(largs, nanos(u.CreatedAt), string(by), u.Username, string(detail))
	}
	if _, err := tx.ExecContext(ctx, s.d.Rebind(q.String()), args...); err != nil {
		return fmt.Errorf("insert users: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.d.Rebind(lq.String()), largs...); err != nil {
		return fmt.Errorf("write system log: %w", err)
	}
	return nil
}

// ExistingUsers reports which usernames and emails (by key) are already taken.
func (s *DB) ExistingUsers(ctx context.Context, usernames, emails []string) (map[string]bool, error) {
	found := map[string]bool{}
	for _, set := range []struct {
		col  string
		keys []string
	}{{"username_key", usernames}, {"email_key", emails}} {
		for start := 0; start < len(set.keys); start += usersPerInsert {
			chunk := set.keys[start:min(start+usersPerInsert, len(set.keys))]
			args := make([]any, len(chunk))
			for i, k := range chunk {
				args[i] = directory.Key(k)
			}
			query := `SELECT ` + set.col + ` FROM users WHERE ` + set.col + ` IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
			if err := s.collect(ctx, s.d.Rebind(query), args, found); err != nil {
				return nil, err
			}
		}
	}
	return found, nil
}

func (s *DB) collect(ctx context.Context, query string, args []any, into map[string]bool) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		into[k] = true
	}
	return rows.Err()
}

// GetUser finds a user by username, case-insensitively.
func (s *DB) GetUser(ctx context.Context, username string) (directory.User, error) {
	return s.getUser(ctx, s.db, `username_key = ?`, directory.Key(username), username)
}

// GetUserByExternalKey finds a user by its external key, in any case.
func (s *DB) GetUserByExternalKey(ctx context.Context, key string) (directory.User, error) {
	return s.getUser(ctx, s.db, `external_key = ?`, lookupKey(key), key)
}

// GetUserByID finds a user by ID.
func (s *DB) GetUserByID(ctx context.Context, id int64) (directory.User, error) {
	return s.getUser(ctx, s.db, `id = ?`, id, fmt.Sprint(id))
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *DB) getUser(ctx context.Context, q querier, cond string, arg any, name string) (directory.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE `+cond), arg))
	if isNoRows(err) {
		return u, notFound("user", name)
	}
	return u, err
}

// ListUsers returns one page of users in ID order.
func (s *DB) ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error) {
	where := []string{"u.id > ?"}
	args := []any{f.After}
	if f.Status != "" {
		where, args = append(where, "u.status = ?"), append(args, f.Status)
	}
	if f.Source != "" {
		where, args = append(where, "u.source = ?"), append(args, f.Source)
	}
	if f.Search != "" {
		like := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		where = append(where, `(u.username_key LIKE ? ESCAPE '\' OR u.email_key LIKE ? ESCAPE '\' OR LOWER(u.first_name || ' ' || u.last_name) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	from := "users u"
	if f.Group != "" {
		from += " JOIN group_members m ON m.user_id = u.id JOIN groups g ON g.id = m.group_id AND g.name_key = ?"
		args = append([]any{directory.Key(f.Group)}, args...)
	}
	args = append(args, limitOr(f.Limit, 100, 1000))
	cols := "u." + strings.ReplaceAll(userCols, ", ", ", u.")
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+cols+` FROM `+from+` WHERE `+strings.Join(where, " AND ")+` ORDER BY u.id LIMIT ?`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateUser applies fn to the stored user in one transaction, logs the fields
// that changed and queues the user in every app it is assigned to.
func (s *DB) UpdateUser(ctx context.Context, by store.Actor, username, action string, fn func(*directory.User) error) (directory.User, error) {
	var out directory.User
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		out, err = s.updateUserTx(ctx, tx, by, userWhere{`username_key = ?`, directory.Key(username), username}, action, fn, false)
		return err
	})
	return out, err
}

// statusAction names an update by the lifecycle move it makes, if any:
// user.deactivate, user.reactivate... or user.update.
func statusAction(from, to directory.Status) string {
	for _, t := range directory.Transitions() {
		if next, err := t.Apply(from); err == nil && next == to && from != to {
			return "user." + string(t)
		}
	}
	return "user.update"
}

// userWhere finds the one user an update is about.
type userWhere struct {
	cond string
	arg  any
	name string // for a not-found error
}

// updateUserTx is UpdateUser within tx; an empty action is named by the
// status change (statusAction). With newSource the user may change
// hands (a source adopting it or letting it go); the change is logged.
func (s *DB) updateUserTx(ctx context.Context, tx *sql.Tx, by store.Actor, where userWhere, action string, fn func(*directory.User) error, newSource bool) (directory.User, error) {
	old, err := s.getUser(ctx, tx, where.cond, where.arg, where.name)
	if err != nil {
		return old, err
	}
	cur := old
	cur.Attributes = cloneAttrs(old.Attributes)
	if err := fn(&cur); err != nil {
		return old, err
	}
	out, _, err := s.storeUserChange(ctx, tx, by, old, cur, action, newSource)
	return out, err
}

// storeUserChange stores cur over old, logs the fields that changed and
// queues the user in its apps; it reports whether anything changed. Only
// with newSource may the user change hands (the external key never changes).
func (s *DB) storeUserChange(ctx context.Context, tx *sql.Tx, by store.Actor, old, cur directory.User, action string, newSource bool) (directory.User, bool, error) {
	cur.ID, cur.CreatedAt = old.ID, old.CreatedAt
	if !newSource {
		if err := keepIdentity(old, cur); err != nil {
			return old, false, err
		}
	} else if cur.ExternalKey != old.ExternalKey {
		return old, false, fmt.Errorf("%w: the external key of %s never changes", directory.ErrInvalid, old.Username)
	}
	cur.Normalize()
	if err := cur.Validate(); err != nil {
		return old, false, err
	}
	changes := directory.Changes(old, cur)
	if cur.Source != old.Source {
		changes["source"] = []string{old.Source, cur.Source}
	}
	if len(changes) == 0 {
		return old, false, nil
	}
	if action == "" {
		action = statusAction(old.Status, cur.Status)
	}
	cur.UpdatedAt = s.now().UTC()
	_, err := tx.ExecContext(ctx, s.q(`UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?, first_name = ?, last_name = ?,
		attributes = ?, status = ?, source = ?, updated_at = ? WHERE id = ?`),
		cur.Username, directory.Key(cur.Username), cur.Email, directory.Key(cur.Email), cur.FirstName, cur.LastName,
		encodeAttrs(cur.Attributes), cur.Status, cur.Source, nanos(cur.UpdatedAt), cur.ID)
	if err != nil {
		return old, false, s.taken(fmt.Errorf("update user %s: %w", old.Username, err), map[string]string{"username": cur.Username, "email": cur.Email})
	}
	if err := s.enqueueUser(ctx, tx, cur.ID, action); err != nil {
		return old, false, err
	}
	return cur, true, s.logChange(ctx, tx, by, action, "user", cur.Username, "", changes)
}

// keepIdentity refuses an update that changes the external key or the
// source: the key never changes, and a source changes hands only by an
// explicit adoption (a later issue), never in passing.
func keepIdentity(old, cur directory.User) error {
	switch {
	case cur.ExternalKey != old.ExternalKey:
		return fmt.Errorf("%w: the external key of %s never changes", directory.ErrInvalid, old.Username)
	case cur.Source != old.Source:
		return fmt.Errorf("%w: user %s belongs to source %s; an update cannot change that", directory.ErrInvalid, old.Username, old.Source)
	}
	return nil
}

func cloneAttrs(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// DeleteUser removes a deprovisioned user; its apps are queued so that any
// account left behind is reconciled away.
func (s *DB) DeleteUser(ctx context.Context, by store.Actor, username string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := s.getUser(ctx, tx, `username_key = ?`, directory.Key(username), username)
		if err != nil {
			return err
		}
		if err := u.CheckDelete(); err != nil {
			return err
		}
		if err := s.enqueueUser(ctx, tx, u.ID, "user.delete"); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM group_members WHERE user_id = ?`, `DELETE FROM assignments WHERE user_id = ?`, `DELETE FROM users WHERE id = ?`} {
			if _, err := tx.ExecContext(ctx, s.q(q), u.ID); err != nil {
				return fmt.Errorf("delete user %s: %w", username, err)
			}
		}
		return s.logChange(ctx, tx, by, "user.delete", "user", u.Username, "", nil)
	})
}

// userRef is a user found by name: the ID and the username as stored.
type userRef struct {
	id   int64
	name string
}

// userRefs finds users by username, in the order given and without
// repeats; the first name that matches no user is an error.
func (s *DB) userRefs(ctx context.Context, tx *sql.Tx, usernames []string) ([]userRef, error) {
	return s.userRefsBy(ctx, tx, "username_key", usernames, directory.Key, func(n string) error { return notFound("user", n) })
}

// userRefsBy finds users by a unique key column (username_key,
// external_key), key(name) being the column's value for a name, a
// statement's worth of names a query, in the order given and without
// repeats; the first name that matches no user is missing(name).
func (s *DB) userRefsBy(ctx context.Context, tx *sql.Tx, column string, names []string, key func(string) string, missing func(string) error) ([]userRef, error) {
	byKey := make(map[string]userRef, len(names))
	for start := 0; start < len(names); start += s.idsPerStmt() {
		chunk := names[start:min(start+s.idsPerStmt(), len(names))]
		keys := make([]string, len(chunk))
		for i, n := range chunk {
			keys[i] = key(n)
		}
		in, args := inIDs(s.d.Arrays, keys)
		rows, err := s.queryPrepared(ctx, tx, s.q(`SELECT id, username, `+column+` FROM users WHERE `+column+` IN `+in), args...)
		if err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
		err = scanEach(rows, func(r scanner) error {
			var u userRef
			var k string
			err := r.Scan(&u.id, &u.name, &k)
			byKey[k] = u
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("find users: %w", err)
		}
	}
	out := make([]userRef, 0, len(byKey))
	seen := make(map[int64]bool, len(byKey))
	for _, n := range names {
		u, ok := byKey[key(n)]
		if !ok {
			return nil, missing(n)
		}
		if !seen[u.id] {
			seen[u.id] = true
			out = append(out, u)
		}
	}
	return out, nil
}
