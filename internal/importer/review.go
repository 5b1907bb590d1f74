package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// CheckState refuses a state filter that is not one of the app user states;
// "" lists all.
func CheckState(state string) error {
	switch state {
	case "", store.AppUserUnmatched, store.AppUserMatched, store.AppUserConfirmed, store.AppUserIgnored, store.AppUserReview:
		return nil
	}
	return fmt.Errorf("%w: state %q is not one of unmatched, matched, confirmed, ignored, review (matched or unmatched)", directory.ErrInvalid, state)
}

// Reviewed says what a confirmation did.
type Reviewed struct {
	Linked  int `json:"linked"`  // linked to existing directory users
	Created int `json:"created"` // new directory users
	Already int `json:"already"` // were confirmed before
}

// Confirm confirms app users, each given by ID, member ID or email: a matched
// one is linked to its directory user, an unmatched one becomes a new
// directory user. Nothing is sent to Dropbox. All or none: if any cannot be
// confirmed, the error lists every reason and nothing changes.
func (im *Importer) Confirm(ctx context.Context, by store.Actor, a app.Instance, refs []string) (Reviewed, error) {
	var out Reviewed
	aus, err := im.resolve(ctx, a, refs)
	if err != nil {
		return out, err
	}
	var links, fresh []store.AppUser
	var create []directory.User
	var problems []error
	for _, au := range aus {
		switch nu, kind, why := confirmable(au, a.Settings); kind {
		case "already":
			out.Already++
		case "link":
			links = append(links, au)
		case "create":
			fresh, create = append(fresh, au), append(create, nu)
		default:
			problems = append(problems, fmt.Errorf("%s: %s", au.Email, why))
		}
	}
	if len(problems) == 0 {
		problems = im.checkNewUsers(ctx, create)
	}
	if len(problems) > 0 {
		return Reviewed{}, fmt.Errorf("%w: nothing was confirmed: %w", directory.ErrInvalid, errors.Join(problems...))
	}
	if err := im.createFor(ctx, by, create, fresh); err != nil {
		return Reviewed{}, err
	}
	if err := im.st.ConfirmAppUsers(ctx, by, append(links, fresh...)); err != nil {
		return Reviewed{}, err
	}
	out.Linked, out.Created = len(links), len(create)
	return out, nil
}

// confirmable says what confirming au does: "already", "link", "create" (with
// the new user), or "" with the reason it cannot be confirmed.
func confirmable(au store.AppUser, s app.Settings) (directory.User, string, string) {
	switch {
	case au.State == store.AppUserConfirmed:
		return directory.User{}, "already", ""
	case au.Match == MatchAmbiguous:
		return directory.User{}, "", "it matches several directory users; use link to choose one"
	case au.UserID != 0 && au.Reason != "":
		return directory.User{}, "", au.Reason
	case au.UserID != 0:
		return directory.User{}, "link", ""
	case !s.Features.ImportNewUsers:
		return directory.User{}, "", "it matches no directory user and the app's import new users feature is off; link it to a user instead"
	}
	m := connector.Member{Email: au.Email, GivenName: au.GivenName, Surname: au.Surname, Status: connector.MemberStatus(au.Status)}
	nu, why := NewUserFrom(m)
	if why != "" {
		return nu, "", why
	}
	nu.Status = newUserStatus(s.Import, m.Status)
	return nu, "create", ""
}

// checkNewUsers refuses new users whose username or email is already taken.
func (im *Importer) checkNewUsers(ctx context.Context, us []directory.User) []error {
	if len(us) == 0 {
		return nil
	}
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.Username
	}
	taken, err := im.st.ExistingUsers(ctx, names, names)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, n := range names {
		if taken[directory.Key(n)] {
			errs = append(errs, fmt.Errorf("%s: a directory user already has that username or email; link it to that user instead", n))
		}
	}
	return errs
}

// createFor creates the users and sets the IDs on the app users they come from.
func (im *Importer) createFor(ctx context.Context, by store.Actor, us []directory.User, aus []store.AppUser) error {
	if len(us) == 0 {
		return nil
	}
	if err := im.st.CreateUsers(ctx, by, us); err != nil {
		return fmt.Errorf("create directory users: %w", err)
	}
	for i, u := range us {
		got, err := im.st.GetUser(ctx, u.Username)
		if err != nil {
			return fmt.Errorf("read new user %s: %w", u.Username, err)
		}
		aus[i].UserID = got.ID
	}
	return nil
}

// Ignore keeps app users out of automatic confirmation on later imports. All
// must be unconfirmed app users, or nothing changes.
func (im *Importer) Ignore(ctx context.Context, by store.Actor, a app.Instance, refs []string) (int, error) {
	aus, err := im.resolve(ctx, a, refs)
	if err != nil {
		return 0, err
	}
	var problems []error
	for _, au := range aus {
		if au.State == store.AppUserConfirmed {
			problems = append(problems, fmt.Errorf("%s is confirmed (linked); it cannot be ignored", au.Email))
		}
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("%w: nothing was ignored: %w", directory.ErrConflict, errors.Join(problems...))
	}
	for _, au := range aus {
		if err := im.st.IgnoreAppUser(ctx, by, a.ID, au.MemberID); err != nil {
			return 0, err
		}
	}
	return len(aus), nil
}

// Link confirms one app user as the given directory user, whatever the rules
// matched: the admin's choice for ambiguous, partial or unmatched members.
func (im *Importer) Link(ctx context.Context, by store.Actor, a app.Instance, ref, username string) (store.AppUser, error) {
	au, err := im.st.GetAppUser(ctx, a.ID, ref)
	if err != nil {
		return au, err
	}
	u, err := im.st.GetUser(ctx, username)
	if err != nil {
		return au, err
	}
	if au.State == store.AppUserConfirmed {
		if au.UserID == u.ID {
			return au, nil
		}
		return au, fmt.Errorf("%w: %s is already linked to another directory user (id %d)", directory.ErrConflict, au.Email, au.UserID)
	}
	au.UserID, au.Match, au.Reason = u.ID, "manual", ""
	if err := im.st.ConfirmAppUsers(ctx, by, []store.AppUser{au}); err != nil {
		return au, err
	}
	return im.st.GetAppUser(ctx, a.ID, au.MemberID)
}

// resolve finds every referenced app user once, or reports all that are missing.
func (im *Importer) resolve(ctx context.Context, a app.Instance, refs []string) ([]store.AppUser, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("%w: name at least one app user (ID, member ID or email)", directory.ErrInvalid)
	}
	seen := map[int64]bool{}
	var out []store.AppUser
	var missing []error
	for _, ref := range refs {
		au, err := im.st.GetAppUser(ctx, a.ID, ref)
		switch {
		case errors.Is(err, directory.ErrNotFound):
			missing = append(missing, fmt.Errorf("no app user %q in %s (run an import first?)", ref, a.Name))
		case err != nil:
			return nil, err
		case !seen[au.ID]:
			seen[au.ID] = true
			out = append(out, au)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %w", directory.ErrNotFound, errors.Join(missing...))
	}
	return out, nil
}
