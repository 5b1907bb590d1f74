package csvload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// row is a good row of the file with its line.
type row struct {
	u    directory.User
	line int
}

// Upsert checks every row of r, then creates the users whose username is
// new and updates the others, all in one transaction or nothing. An
// existing user takes the row's email and every cell that is not empty
// (an empty cell keeps what the user has); attribute columns add to the
// user's attributes. A row may not change a status: deactivating or
// suspending goes through their own commands, which show what would be
// off-boarded first. Every problem is reported, once, in line order.
//
// Unlike Load, it holds the file's users in memory (an update needs each
// stored user anyway); it is meant for directories of thousands.
// owned refuses a row for a user another owner (a directory source) keeps:
// it returns an error naming the owner, or nil.
func Upsert(ctx context.Context, st store.Store, by store.Actor, r io.Reader, owned func(kind, name, source string) error) (store.UpsertCounts, error) {
	errs := &Errors{}
	var rows []row
	if err := scan(r, errs, func(u directory.User, line int) error {
		rows = append(rows, row{u, line})
		return nil
	}); err != nil {
		return store.UpsertCounts{}, err
	}
	if err := checkUpserts(ctx, st, rows, errs, owned); err != nil {
		return store.UpsertCounts{}, err
	}
	if len(errs.Rows) > 0 {
		errs.sort()
		return store.UpsertCounts{}, errs
	}
	us := make([]directory.User, len(rows))
	for i, r := range rows {
		us[i] = r.u
	}
	return st.UpsertUsers(ctx, by, us, mergeRow)
}

// checkUpserts finds the rows an upsert would refuse: an email another
// user has, a status change.
func checkUpserts(ctx context.Context, st store.Store, rows []row, errs *Errors, owned func(kind, name, source string) error) error {
	for _, r := range rows {
		old, err := st.GetUser(ctx, r.u.Username)
		exists := err == nil
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return fmt.Errorf("look up user %s: %w", r.u.Username, err)
		}
		if exists && owned != nil {
			if err := owned("user", old.Username, old.Source); err != nil {
				errs.addConflict(r.line, "%s", strings.TrimPrefix(err.Error(), directory.ErrConflict.Error()+": "))
				continue
			}
		}
		if exists && r.u.Status != "" && r.u.Status != old.Status {
			errs.add(r.line, "status of %q would change from %s to %s; --update changes no status: use roster users activate|suspend|deactivate, which show what they would off-board first",
				old.Username, old.Status, r.u.Status)
		}
		if exists && directory.Key(old.Email) == directory.Key(r.u.Email) {
			continue
		}
		owner, err := st.ExistingUsers(ctx, nil, []string{r.u.Email})
		if err != nil {
			return fmt.Errorf("check existing emails: %w", err)
		}
		if owner[directory.Key(r.u.Email)] {
			errs.addConflict(r.line, "email %q already belongs to another directory user", r.u.Email)
		}
	}
	return nil
}

// mergeRow is an existing user updated by a row: the email, and every
// other cell that is not empty.
func mergeRow(old, r directory.User) (directory.User, error) {
	u := old
	u.Attributes = maps.Clone(old.Attributes)
	u.Email = r.Email
	if r.FirstName != "" {
		u.FirstName = r.FirstName
	}
	if r.LastName != "" {
		u.LastName = r.LastName
	}
	if len(r.Attributes) > 0 && u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	maps.Copy(u.Attributes, r.Attributes)
	return u, nil
}
