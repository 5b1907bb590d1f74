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

// Actor is how imports appear in the system log.
const Actor store.Actor = "import"

// work is what an evaluated import would write.
type work struct {
	rows     []store.AppUser
	confirm  []store.AppUser             // matches to confirm now
	create   []directory.User            // new directory users, then confirmed
	createAU []store.AppUser             // the members they come from
	updates  map[int64]map[string]string // user ID -> app-sourced field -> value
	vanished []int64
	linked   int // linked members still present
}

// Run imports the app's members. Every unconfirmed member is matched afresh,
// so one that could not be matched before is matched once its directory twin exists.
func (im *Importer) Run(ctx context.Context, a app.Instance, opt Options) (Result, error) {
	res := Result{App: a.Name, Plan: opt.Plan}
	sn, err := im.snapshot(ctx, a)
	if err != nil {
		return res, err
	}
	w := evaluate(sn, a, &res)
	imp := a.Settings.Import
	if len(w.vanished) > 0 && !opt.AllowVanished && len(w.vanished)*100 > (w.linked+len(w.vanished))*imp.SafeguardPercent {
		return res, &SafeguardError{App: a.Name, Vanished: len(w.vanished), Linked: w.linked + len(w.vanished), Percent: imp.SafeguardPercent}
	}
	res.Confirmed, res.Created, res.ProfileUpdates = len(w.confirm), len(w.create), len(w.updates)
	if opt.Plan {
		return res, nil
	}
	return res, im.apply(ctx, a, w)
}

// evaluate matches every member and decides what the import does, writing nothing.
func evaluate(sn *snapshot, a app.Instance, res *Result) *work {
	imp := a.Settings.Import
	rules := Rules{ExactOn: imp.MatchOn, Partial: imp.PartialNames}
	w := &work{updates: map[int64]map[string]string{}}
	linkedUser := map[int64]bool{}
	for _, ac := range sn.linked {
		if ac.Status != string(connector.StatusRemoved) {
			linkedUser[ac.UserID] = true
		}
	}
	seen := make(map[string]bool, len(sn.members))
	for _, m := range sn.members {
		seen[m.ID] = true
		au := store.AppUser{AppID: a.ID, MemberID: m.ID, Email: m.Email, GivenName: m.GivenName, Surname: m.Surname,
			ExternalID: m.ExternalID, Status: string(m.Status), Role: string(roleOr(m.Role))}
		res.Members++
		if ac, ok := sn.linked[m.ID]; ok && ac.Status != string(connector.StatusRemoved) {
			au.State, au.Match, au.UserID = store.AppUserConfirmed, "linked", ac.UserID
			res.Linked++
			w.linked++
			if ch := fromApp(sn.users[ac.UserID], m, imp); len(ch) > 0 {
				w.updates[ac.UserID] = ch
			}
			w.rows = append(w.rows, au)
			continue
		}
		w.match(sn, a, m, &au, rules, linkedUser, res)
		w.rows = append(w.rows, au)
	}
	for id, ac := range sn.linked {
		if !seen[id] && ac.Status != string(connector.StatusRemoved) {
			w.vanished = append(w.vanished, ac.UserID)
		}
	}
	res.Vanished = len(w.vanished)
	return w
}

// match evaluates one unlinked member under the rules.
func (w *work) match(sn *snapshot, a app.Instance, m connector.Member, au *store.AppUser, rules Rules, linkedUser map[int64]bool, res *Result) {
	imp := a.Settings.Import
	kind, ids := sn.index.Match(m, rules)
	au.Match, au.State = kind, store.AppUserUnmatched
	ignored := sn.ignored[m.ID]
	switch kind {
	case MatchExact, MatchPartial:
		au.State, au.UserID = store.AppUserMatched, ids[0]
		if kind == MatchExact {
			res.Exact++
		} else {
			res.Partial++
		}
		switch {
		case linkedUser[ids[0]]:
			au.Reason = "the matching directory user is already linked to another Dropbox member"
			res.Problems = append(res.Problems, Problem{m.Email, au.Reason})
		case kind == MatchExact && imp.AutoConfirmExact && !ignored:
			w.confirm = append(w.confirm, *au)
			linkedUser[ids[0]] = true
		}
	case MatchAmbiguous:
		res.Ambiguous++
		au.Reason = fmt.Sprintf("matches %d directory users; link it to one by hand", len(ids))
		res.Problems = append(res.Problems, Problem{m.Email, au.Reason})
	default:
		res.Unmatched++
		nu, why := NewUserFrom(m)
		switch {
		case why != "":
			au.Reason = why
			res.Problems = append(res.Problems, Problem{m.Email, why})
		case imp.AutoConfirmNew && !ignored:
			if imp.AutoActivateNew {
				nu.Status = directory.StatusActive
			}
			w.create, w.createAU = append(w.create, nu), append(w.createAU, *au)
		}
	}
	if ignored {
		au.State = store.AppUserIgnored
		res.Ignored++
	}
}

func roleOr(r connector.Role) connector.Role {
	if r == "" {
		return connector.RoleMember
	}
	return r
}

// fromApp lists the app-sourced attributes whose Dropbox value differs from
// the directory's (MISSION F6). An empty Dropbox value never blanks a profile.
func fromApp(u directory.User, m connector.Member, imp app.Import) map[string]string {
	ch := map[string]string{}
	for _, f := range []struct{ attr, cur, app string }{
		{"first_name", u.FirstName, m.GivenName}, {"last_name", u.LastName, m.Surname}, {"email", u.Email, m.Email},
	} {
		if imp.FromApp(f.attr) && f.app != "" && f.app != f.cur && !(f.attr == "email" && directory.Key(f.app) == directory.Key(f.cur)) {
			ch[f.attr] = f.app
		}
	}
	return ch
}

// apply writes an evaluated import.
func (im *Importer) apply(ctx context.Context, a app.Instance, w *work) error {
	if err := im.st.SaveImport(ctx, Actor, a.ID, w.rows); err != nil {
		return err
	}
	if len(w.create) > 0 {
		if err := im.st.CreateUsers(ctx, Actor, w.create); err != nil {
			return fmt.Errorf("create directory users from Dropbox members: %w", err)
		}
		for i, nu := range w.create {
			u, err := im.st.GetUser(ctx, nu.Username)
			if err != nil {
				return err
			}
			w.createAU[i].UserID = u.ID
		}
		w.confirm = append(w.confirm, w.createAU...)
	}
	if err := im.st.ConfirmAppUsers(ctx, Actor, w.confirm); err != nil {
		return err
	}
	var errs []error
	for id, ch := range w.updates {
		if _, err := im.st.UpdateUser(ctx, Actor, usernameOf(ctx, im.st, id), "import.profile", func(u *directory.User) error {
			applyFields(u, ch)
			return nil
		}); err != nil {
			errs = append(errs, fmt.Errorf("import profile of user %d: %w", id, err))
		}
	}
	if len(w.vanished) > 0 {
		if err := im.st.MarkVanished(ctx, Actor, a.ID, w.vanished); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func usernameOf(ctx context.Context, st Store, id int64) string {
	u, err := st.GetUserByID(ctx, id)
	if err != nil {
		return fmt.Sprint(id)
	}
	return u.Username
}

func applyFields(u *directory.User, ch map[string]string) {
	for k, v := range ch {
		switch k {
		case "first_name":
			u.FirstName = v
		case "last_name":
			u.LastName = v
		case "email":
			u.Email = v
		}
	}
}
