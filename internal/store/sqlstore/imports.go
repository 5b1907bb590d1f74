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
	return s.SaveAndConfirmImport(ctx, by, appID, store.AppUsersOf(users), nil)
}

// SaveAndConfirmImport stores an import's app users and confirms users[i] for
// each i in confirm, in one transaction, so a migration writes each confirmed
// app user once.
func (s *DB) SaveAndConfirmImport(ctx context.Context, by store.Actor, appID int64, users *store.AppUserList, confirm []int) error {
	at := func(i int) store.AppUser { return users.At(confirm[i]) }
	for i := range confirm {
		if at(i).AppID != appID {
			return fmt.Errorf("%w: confirmation of a member of another app", directory.ErrInvalid)
		}
	}
	ls, err := checkLinkSet(len(confirm), at)
	if err != nil {
		return err
	}
	confirmed := make([]bool, users.Len())
	for _, i := range confirm {
		confirmed[i] = true
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// Rows this import saw carry its timestamp; the rest vanished from the app.
		now := nanos(s.now())
		if err := s.upsertAppUsers(ctx, tx, appID, users, confirmed, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM app_users WHERE app_id = ? AND seen_at <> ?`), appID, now); err != nil {
			return fmt.Errorf("drop vanished app users: %w", err)
		}
		app := s.appName(ctx, tx, appID)
		if err := s.logChange(ctx, tx, by, "import.save", "app", app, app, map[string]any{"members": users.Len()}); err != nil {
			return err
		}
		chunk := make([]store.AppUser, 0, confirmPerStmt)
		for start := 0; start < len(confirm); start += confirmPerStmt {
			chunk = chunk[:0]
			for i := start; i < min(start+confirmPerStmt, len(confirm)); i++ {
				chunk = append(chunk, at(i))
			}
			if err := s.confirmChunk(ctx, tx, by, app, ls, chunk, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// upsertAppUsers writes an import's rows; those marked confirmed are stored
// confirmed, with no reason.
func (s *DB) upsertAppUsers(ctx context.Context, tx *sql.Tx, appID int64, users *store.AppUserList, confirmed []bool, now int64) error {
	const per = 2000 // rows of arguments built at a time
	n := users.Len()
	args := make([]any, 0, min(n, per)*13)
	for start := 0; start < n; start += per {
		args = args[:0]
		for i := start; i < min(start+per, n); i++ {
			a := users.At(i)
			state, reason := a.State, a.Reason
			if confirmed[i] {
				state, reason = store.AppUserConfirmed, ""
			}
			args = append(args, appID, a.MemberID, a.Email, a.GivenName, a.Surname, a.ExternalID, a.Status, a.Role, state, a.Match, a.UserID, reason, now)
		}
		// An admin's "ignore" survives re-imports unless this import confirms
		// the member; everything else is re-evaluated.
		err := s.insertRows(ctx, tx, `INSERT INTO app_users (app_id, member_id, email, given_name, surname, external_id, status, role, state, match_kind, user_id, reason, seen_at) VALUES `,
			` ON CONFLICT (app_id, member_id) DO UPDATE SET email = excluded.email, given_name = excluded.given_name,
		surname = excluded.surname, external_id = excluded.external_id, status = excluded.status, role = excluded.role,
		state = CASE WHEN app_users.state = 'ignored' AND excluded.state <> 'confirmed' THEN 'ignored' ELSE excluded.state END,
		match_kind = excluded.match_kind, user_id = excluded.user_id, reason = excluded.reason, seen_at = excluded.seen_at`, 13, args)
		if err != nil {
			return fmt.Errorf("store app users: %w", err)
		}
	}
	return nil
}

// ListAppUsers pages through an app's app users, optionally in one state.
func (s *DB) ListAppUsers(ctx context.Context, appID int64, state string, p store.Page) ([]store.AppUser, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+appUserCols+` FROM app_users WHERE app_id = ? AND (? = '' OR state = ? OR (? = 'review' AND state IN ('matched', 'unmatched'))) AND id > ? ORDER BY id LIMIT ?`),
		appID, state, state, state, p.After, limitOr(p.Limit, 100, 10000))
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

// ListUsersToMatch pages through the directory users with only the columns
// matching reads: no attributes to decode, no timestamps.
func (s *DB) ListUsersToMatch(ctx context.Context, p store.Page) ([]directory.User, error) {
	rows, err := s.queryPrepared(ctx, nil, s.q(`SELECT id, username, email, first_name, last_name, status FROM users WHERE id > ? ORDER BY id LIMIT ?`),
		p.After, limitOr(p.Limit, 1000, 10000))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]directory.User, 0, limitOr(p.Limit, 1000, 10000))
	for rows.Next() {
		var u directory.User
		if err := rows.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Status); err != nil {
			return nil, err
		}
		out = append(out, u)
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
	ls, err := checkLinkSet(len(links), func(i int) store.AppUser { return links[i] })
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		app := s.appName(ctx, tx, links[0].AppID)
		for start := 0; start < len(links); start += confirmPerStmt {
			if err := s.confirmChunk(ctx, tx, by, app, ls, links[start:min(start+confirmPerStmt, len(links))], true); err != nil {
				return err
			}
		}
		return nil
	})
}

// linkSet is a set of links to confirm, indexed by member and by user.
type linkSet struct {
	n        int
	at       func(int) store.AppUser
	byMember map[string]int
	byUser   map[int64]int
	checked  bool // against the app's accounts, by checkLinks
}

// checkLinkSet refuses a set that links one member or one user twice, or spans apps.
func checkLinkSet(n int, at func(int) store.AppUser) (*linkSet, error) {
	ls := &linkSet{n: n, at: at, byMember: make(map[string]int, n), byUser: make(map[int64]int, n)}
	for i := range n {
		au := at(i)
		_, dupMember := ls.byMember[au.MemberID]
		_, dupUser := ls.byUser[au.UserID]
		switch {
		case au.AppID != at(0).AppID:
			return nil, fmt.Errorf("%w: confirmations of several apps in one call", directory.ErrInvalid)
		case dupMember:
			return nil, fmt.Errorf("%w: member %s is confirmed twice", directory.ErrConflict, au.Email)
		case dupUser:
			return nil, fmt.Errorf("%w: directory user %d is linked to two members (%s is one)", directory.ErrConflict, au.UserID, au.Email)
		}
		ls.byMember[au.MemberID], ls.byUser[au.UserID] = i, i
	}
	return ls, nil
}

func (s *DB) appName(ctx context.Context, tx *sql.Tx, appID int64) string {
	var name string
	_ = tx.QueryRowContext(ctx, s.q(`SELECT name FROM apps WHERE id = ?`), appID).Scan(&name)
	return name
}

// confirmChunk confirms links; mark also sets their app users' state, which
// an import that saved them confirmed already did.
func (s *DB) confirmChunk(ctx context.Context, tx *sql.Tx, by store.Actor, app string, ls *linkSet, chunk []store.AppUser, mark bool) error {
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
	if !ls.checked { // the whole set, before the first chunk writes anything
		if err := s.checkLinks(ctx, tx, ls); err != nil {
			return err
		}
		ls.checked = true
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
	if mark {
		if err := s.markConfirmed(ctx, tx, chunk); err != nil {
			return err
		}
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
	in, args := inIDs(s.d.Arrays, ids)
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
// The whole set is checked before any of it is written, so the accounts read
// are the app's accounts before this confirmation.
func (s *DB) checkLinks(ctx context.Context, tx *sql.Tx, ls *linkSet) error {
	appID := ls.at(0).AppID
	var accts []store.Account
	if ls.n <= confirmPerStmt {
		// One query per index: an OR of both lists would scan every account.
		mids, users := make([]string, 0, ls.n), make([]any, 0, ls.n+1)
		users = append(users, appID)
		for i := range ls.n {
			mids, users = append(mids, ls.at(i).MemberID), append(users, ls.at(i).UserID)
		}
		in := `(?` + strings.Repeat(",?", ls.n-1) + `)`
		keys := memberKeys(mids) // a colliding key only reads an extra account, compared by id below
		members := make([]any, 0, len(keys)+1)
		members = append(members, appID)
		for _, k := range keys {
			members = append(members, k)
		}
		byMember, err := s.accountsWhere(ctx, tx, `member_key IN (?`+strings.Repeat(",?", len(keys)-1)+`)`, members)
		if err != nil {
			return err
		}
		byUser, err := s.accountsWhere(ctx, tx, `user_id IN `+in, users)
		if err != nil {
			return err
		}
		accts = append(byMember, byUser...)
	} else {
		// Many links: one pass over the app's accounts. Lists of hundreds
		// of keys per query would be planned as scans by PostgreSQL, whose
		// statistics do not know the accounts this transaction adds.
		var err error
		if accts, err = s.linkedAccounts(ctx, tx, appID); err != nil {
			return err
		}
	}
	var stale []int64
	var errs []error
	for _, ac := range accts {
		if i, ok := ls.byMember[ac.MemberID]; ok {
			if au := ls.at(i); au.UserID != ac.UserID {
				if ac.Status != "removed" {
					errs = append(errs, fmt.Errorf("%w: member %s is already linked to another directory user (id %d)", directory.ErrConflict, au.Email, ac.UserID))
				}
				stale = append(stale, ac.UserID)
			}
		}
		if i, ok := ls.byUser[ac.UserID]; ok {
			if au := ls.at(i); au.MemberID != ac.MemberID && ac.Status != "removed" {
				errs = append(errs, fmt.Errorf("%w: directory user %d is already linked to another member (%s) of the app", directory.ErrConflict, ac.UserID, ac.MemberID))
			}
		}
	}
	if len(errs) > 0 || len(stale) == 0 {
		return errors.Join(dedupe(errs)...)
	}
	for start := 0; start < len(stale); start += confirmPerStmt {
		in, args := inIDs(s.d.Arrays, stale[start:min(start+confirmPerStmt, len(stale))])
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM app_accounts WHERE app_id = ? AND status = 'removed' AND user_id IN `+in), append([]any{appID}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

// dedupe drops repeated errors: an account found by member and by user is
// read twice.
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// linkedAccounts reads what checkLinks compares of every account of the app.
func (s *DB) linkedAccounts(ctx context.Context, tx *sql.Tx, appID int64) ([]store.Account, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT user_id, member_id, status FROM app_accounts WHERE app_id = ?`), appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Account
	for rows.Next() {
		var a store.Account
		if err := rows.Scan(&a.UserID, &a.MemberID, &a.Status); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
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
