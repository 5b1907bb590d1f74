package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Actor is how imports appear in the system log.
const Actor store.Actor = "import"

// update is a linked user's app-sourced profile changes (field -> value).
type update struct {
	username string
	changes  map[string]string
}

// work is what an evaluated import would write.
type work struct {
	rows     store.AppUserList
	confirm  []int            // rows of matches to confirm now
	create   []directory.User // new directory users, then confirmed
	createAU []int            // the rows of the members they come from
	updates  map[int64]update // by user ID
	vanished []int64
	linked   int // linked members still present

	linkedUser map[int64]bool      // users linked to a member, or to be
	seen       map[string]struct{} // linked members found in the team
}

// Run imports the app's members. Every unconfirmed member is matched afresh,
// so one that could not be matched before is matched once its directory twin
// exists. A plan reports the same figures and writes nothing.
func (im *Importer) Run(ctx context.Context, a app.Instance, opt Options) (Result, error) {
	res := Result{App: a.Name, Plan: opt.Plan}
	sn, err := im.snapshot(ctx, a)
	if err != nil {
		return res, err
	}
	w, err := im.evaluate(ctx, sn, a, &res, opt.Progress)
	if err != nil {
		return res, err
	}
	res.Confirmed, res.Created, res.ProfileUpdates = len(w.confirm), len(w.create), len(w.updates)
	if g := safeguard(a, w); g != nil && !opt.AllowVanished {
		if opt.Plan {
			res.Safeguard = g.Error()
			return res, nil
		}
		im.logRun(ctx, opt, a, res, g)
		return res, g
	}
	if opt.Plan {
		return res, nil
	}
	err = im.apply(ctx, by(opt), a, sn, w)
	im.logRun(ctx, opt, a, res, err)
	return res, err
}

func by(opt Options) store.Actor {
	if opt.By == "" {
		return Actor
	}
	return opt.By
}

// safeguard stops an import that would take more than the set share of the
// app's linked members out of it (Okta's import safeguard, default 20%).
func safeguard(a app.Instance, w *work) *SafeguardError {
	pct, all := a.Settings.Import.SafeguardPercent, w.linked+len(w.vanished)
	if len(w.vanished) == 0 || len(w.vanished)*100 <= all*pct {
		return nil
	}
	return &SafeguardError{App: a.Name, Vanished: len(w.vanished), Linked: all, Percent: pct}
}

// logRun records the import's outcome and figures in the system log.
func (im *Importer) logRun(ctx context.Context, opt Options, a app.Instance, res Result, err error) {
	e := audit.Entry{Actor: string(by(opt)), Action: "import.run", TargetKind: "app", Target: a.Name, App: a.Name, Outcome: audit.Success,
		Detail: map[string]any{"members": res.Members, "linked": res.Linked, "exact": res.Exact, "partial": res.Partial, "ambiguous": res.Ambiguous,
			"unmatched": res.Unmatched, "confirmed": res.Confirmed, "created": res.Created, "profile_updates": res.ProfileUpdates,
			"vanished": res.Vanished, "problems": len(res.Problems)}}
	if err != nil {
		e.Outcome, e.Message = audit.Failure, err.Error()
	}
	if lerr := im.st.AppendLog(ctx, e); lerr != nil {
		im.log.Warn("log import", "app", a.Name, "err", lerr)
	}
	im.log.Info("import", "app", a.Name, "members", res.Members, "confirmed", res.Confirmed, "created", res.Created, "err", err)
}

// evaluate lists the team and matches every member, a page at a time, and
// decides what the import does, writing nothing. Removed members are left
// out: they are no longer in the team.
func (im *Importer) evaluate(ctx context.Context, sn *snapshot, a app.Instance, res *Result, progress func(int)) (*work, error) {
	conn, err := im.connect(ctx, a, &pauses{})
	if err != nil {
		return nil, err
	}
	w := newWork(sn)
	if err := conn.ListMembers(ctx, false, func(ms []connector.Member) error {
		for i := range ms {
			w.member(sn, a, &ms[i], res)
		}
		if progress != nil {
			progress(res.Members)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list Dropbox members: %w", err)
	}
	w.finish(sn, res)
	// What matching needed is garbage now, before the import is written.
	w.linkedUser, w.seen, sn.index, sn.users, sn.profiles = nil, nil, nil, nil, nil
	return w, nil
}

func newWork(sn *snapshot) *work {
	w := &work{updates: map[int64]update{}, linkedUser: make(map[int64]bool, len(sn.linked)), seen: make(map[string]struct{}, len(sn.linked))}
	for _, ac := range sn.linked {
		if ac.Status != string(connector.StatusRemoved) {
			w.linkedUser[ac.UserID] = true
		}
	}
	return w
}

// member evaluates one member of the team.
func (w *work) member(sn *snapshot, a app.Instance, m *connector.Member, res *Result) {
	au := store.AppUser{AppID: a.ID, MemberID: m.ID, Email: m.Email, GivenName: m.GivenName, Surname: m.Surname,
		ExternalID: m.ExternalID, Status: string(m.Status), Role: string(m.Role)}
	res.Members++
	if ac, ok := sn.linked[m.ID]; ok {
		w.seen[m.ID] = struct{}{}
		if ac.Status != string(connector.StatusRemoved) {
			w.keepLinked(sn, a, m, ac, &au, res)
			w.rows.Append(au)
			return
		}
	}
	w.match(sn, a, m, &au, res)
	w.rows.Append(au)
}

// finish lists the linked members the team no longer has.
func (w *work) finish(sn *snapshot, res *Result) {
	for id, ac := range sn.linked {
		if _, ok := w.seen[id]; !ok && ac.Status != string(connector.StatusRemoved) {
			w.vanished = append(w.vanished, ac.UserID)
		}
	}
	res.Vanished = len(w.vanished)
}

// keepLinked records a member Roster already knows and the profile changes
// it brings for attributes whose source is the app.
func (w *work) keepLinked(sn *snapshot, a app.Instance, m *connector.Member, ac store.Account, au *store.AppUser, res *Result) {
	au.State, au.Match, au.UserID = store.AppUserConfirmed, "linked", ac.UserID
	res.Linked++
	w.linked++
	if !a.Settings.Features.ImportProfileUpdates {
		return
	}
	if p, ok := sn.profiles[ac.UserID]; ok {
		if ch := fromApp(p, m, a.Settings.Import); len(ch) > 0 {
			w.updates[ac.UserID] = update{sn.users[ac.UserID].username, ch}
		}
	}
}

// match evaluates one unlinked member under the rules.
func (w *work) match(sn *snapshot, a app.Instance, m *connector.Member, au *store.AppUser, res *Result) {
	imp := a.Settings.Import
	linkedUser := w.linkedUser
	kind, ids := sn.index.Match(*m, Rules{ExactOn: imp.MatchOn, Partial: imp.PartialNames})
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
		if u := sn.users[ids[0]]; m.Status == connector.StatusSuspended && u.active {
			res.Notes = append(res.Notes, Problem{m.Email, "suspended in Dropbox but " + u.username + " is active in the directory: once confirmed, the push unsuspends it (suspend the user in the directory first to keep it suspended)"})
		}
		switch {
		case linkedUser[ids[0]]:
			au.Reason = "the matching directory user is already linked to another Dropbox member"
			res.Problems = append(res.Problems, Problem{m.Email, au.Reason})
		case kind == MatchExact && imp.AutoConfirmExact && !ignored:
			w.confirm = append(w.confirm, w.rows.Len()) // au is the next row
			linkedUser[ids[0]] = true
		}
	case MatchAmbiguous:
		res.Ambiguous++
		au.Reason = fmt.Sprintf("matches %d directory users; link it to one by hand", len(ids))
		res.Problems = append(res.Problems, Problem{m.Email, au.Reason})
	default:
		res.Unmatched++
		nu, why := newUser(sn.index, *m, a.Settings)
		switch {
		case why != "":
			au.Reason = why
			res.Problems = append(res.Problems, Problem{m.Email, why})
		case imp.AutoConfirmNew && a.Settings.Features.ImportNewUsers && !ignored:
			w.create, w.createAU = append(w.create, nu), append(w.createAU, w.rows.Len())
		}
	}
	if ignored {
		au.State = store.AppUserIgnored
		res.Ignored++
	}
}

// newUser is the directory user an unmatched member would become, or why it
// cannot become one.
func newUser(ix *Index, m connector.Member, s app.Settings) (directory.User, string) {
	nu, why := NewUserFrom(m)
	if why != "" {
		return nu, why
	}
	if ix.Taken(nu.Username) {
		return directory.User{}, fmt.Sprintf("cannot become a new directory user: %s is already a directory username or email that the match rule (%s) does not compare; link it by hand", nu.Username, s.Import.MatchOn)
	}
	nu.Status = newUserStatus(s.Import, m.Status)
	return nu, ""
}

// newUserStatus: staged unless confirmed new users are auto-activated; a
// member suspended in Dropbox stays suspended, so the push does not undo it.
func newUserStatus(imp app.Import, member connector.MemberStatus) directory.Status {
	switch {
	case !imp.AutoActivateNew:
		return directory.StatusStaged
	case member == connector.StatusSuspended:
		return directory.StatusSuspended
	}
	return directory.StatusActive
}

// fromApp lists the app-sourced attributes whose Dropbox value differs from
// the directory's (MISSION F6). An empty Dropbox value never blanks a profile.
func fromApp(u profile, m *connector.Member, imp app.Import) map[string]string {
	ch := map[string]string{}
	for _, f := range []struct{ attr, cur, app string }{
		{"first_name", u.first, m.GivenName}, {"last_name", u.last, m.Surname}, {"email", u.email, m.Email},
	} {
		if imp.FromApp(f.attr) && f.app != "" && f.app != f.cur && !(f.attr == "email" && directory.Key(f.app) == directory.Key(f.cur)) {
			ch[f.attr] = f.app
		}
	}
	return ch
}

// apply writes an evaluated import. The app users are saved and the matches
// confirmed in one transaction, all or none; when the confirmation fails, the
// app users are saved unconfirmed and the error returned. A run stopped
// between steps leaves app users that the next import re-evaluates.
func (im *Importer) apply(ctx context.Context, by store.Actor, a app.Instance, sn *snapshot, w *work) error {
	unconfirmed := func(err error) error {
		for _, i := range w.createAU { // saved as they were before creating their users
			w.rows.SetUserID(i, 0)
		}
		return errors.Join(err, im.st.SaveAndConfirmImport(ctx, by, a.ID, &w.rows, nil))
	}
	if err := im.createUsers(ctx, by, sn.maxUser, w); err != nil {
		return unconfirmed(err)
	}
	if err := im.st.SaveAndConfirmImport(ctx, by, a.ID, &w.rows, w.confirm); err != nil {
		return unconfirmed(fmt.Errorf("confirm matches: %w", err))
	}
	var errs []error
	for _, up := range w.updates {
		if _, err := im.st.UpdateUser(ctx, by, up.username, "import.profile", func(u *directory.User) error {
			applyFields(u, up.changes)
			return nil
		}); err != nil {
			errs = append(errs, fmt.Errorf("import profile of %s: %w", up.username, err))
		}
	}
	if len(w.vanished) > 0 {
		if err := im.st.MarkVanished(ctx, by, a.ID, w.vanished); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// createUsers creates the new directory users and queues their members for
// confirmation. New users get IDs above every ID the snapshot saw.
func (im *Importer) createUsers(ctx context.Context, by store.Actor, after int64, w *work) error {
	if len(w.create) == 0 {
		return nil
	}
	if err := im.st.CreateUsers(ctx, by, w.create); err != nil {
		return fmt.Errorf("create directory users from Dropbox members: %w", err)
	}
	ids, err := im.idsAfter(ctx, after)
	if err != nil {
		return err
	}
	for i, nu := range w.create {
		id, ok := ids[directory.Key(nu.Username)]
		if !ok {
			return fmt.Errorf("new directory user %s not found after creating it", nu.Username)
		}
		w.rows.SetUserID(w.createAU[i], id)
	}
	w.confirm = append(w.confirm, w.createAU...)
	return nil
}

// idsAfter maps the usernames of users with IDs above after to their IDs.
func (im *Importer) idsAfter(ctx context.Context, after int64) (map[string]int64, error) {
	ids := map[string]int64{}
	for {
		page, err := im.st.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: pageSize}})
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			ids[directory.Key(u.Username)] = u.ID
		}
		if len(page) < pageSize {
			return ids, nil
		}
		after = page[len(page)-1].ID
	}
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
