package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// Import review (MISSION F5): run an import, then confirm, ignore or link the
// members it found. The importer does the work; this page only shows it.

type importRow struct {
	store.AppUser
	User string // the matched or linked directory user's username
	// Contested: another app user is matched or linked to the same
	// directory user; the match cannot be confirmed as it is.
	Contested bool
}

type importTab struct {
	State, Label string
	Count        int
}

type importView struct {
	App      app.Instance
	State    string
	Tabs     []importTab
	Rows     []importRow
	Next     string
	Stopped  string // why a run was stopped by the import safeguard
	PlanOnly bool
}

const importPageSize = 200

func importURL(name string) string { return appURL(name) + "/import" }

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := s.importView(r, a, r.URL.Query().Get("state"), r.URL.Query().Has("state"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "import", page{Title: "Import: " + a.Name, Nav: "apps", Data: v})
	return nil
}

// importView lists one tab of the review. Without a state asked for, it
// opens on "needs review" when anything does.
func (s *Server) importView(r *http.Request, a app.Instance, state string, asked bool) (importView, error) {
	v := importView{App: a, State: state}
	if err := importer.CheckState(state); err != nil {
		return v, err
	}
	counts, err := s.st.CountAppUsers(r.Context(), a.ID)
	if err != nil {
		return v, err
	}
	review := counts[store.AppUserMatched] + counts[store.AppUserUnmatched]
	all := review + counts[store.AppUserConfirmed] + counts[store.AppUserIgnored]
	v.Tabs = []importTab{{store.AppUserReview, "needs review", review}, {store.AppUserMatched, "matched", counts[store.AppUserMatched]},
		{store.AppUserUnmatched, "unmatched", counts[store.AppUserUnmatched]}, {store.AppUserConfirmed, "confirmed", counts[store.AppUserConfirmed]},
		{store.AppUserIgnored, "ignored", counts[store.AppUserIgnored]}, {"", "all", all}}
	if !asked && review > 0 {
		v.State = store.AppUserReview
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	rows, err := s.svc.ImportRows(r.Context(), a, v.State, store.Page{After: after, Limit: importPageSize})
	if err != nil {
		return v, err
	}
	contested, err := s.st.ContestedUsers(r.Context(), a.ID)
	if err != nil {
		return v, err
	}
	for _, row := range rows {
		v.Rows = append(v.Rows, importRow{row.AppUser, row.Username, isContested(row.AppUser, contested)})
	}
	if len(rows) == importPageSize {
		v.Next = url.Values{"state": {v.State}, "after": {strconv.FormatInt(rows[len(rows)-1].ID, 10)}}.Encode()
	}
	return v, nil
}

func (s *Server) runImport(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	allow := r.PostForm.Get("allow_vanished") == "1"
	if allow && r.PostForm.Get("reviewed") != "on" {
		s.redirect(w, r, importURL(name), "error", "Tick the box to confirm the missing members are really gone from Dropbox.")
		return nil
	}
	a, err := s.st.GetApp(r.Context(), name)
	if err != nil {
		return err
	}
	if !s.svc.HasImporter() {
		return service.ErrNoImporter
	}
	plan := r.PostForm.Get("plan") == "1"
	what := "Import from " + a.Name
	if plan {
		what = "Preview the import from " + a.Name
	}
	j := &job{What: what, App: a.Name, Back: importURL(a.Name)}
	return s.startJob(w, r, j, func(ctx context.Context, j *job) jobOutcome {
		opt := importer.Options{Plan: plan, AllowVanished: allow, Progress: j.progress}
		res, err := s.svc.RunImport(ctx, j.Actor, name, opt)
		var sg *importer.SafeguardError
		switch {
		case errors.As(err, &sg):
			return jobOutcome{Page: func(w http.ResponseWriter, r *http.Request) error { return s.importStopped(w, r, name, sg) }}
		case err != nil:
			return s.failedOutcome(remoteOr(err))
		}
		return jobOutcome{Kind: "ok", Msg: importSummary(res), To: importURL(name) + "?state=review"}
	})
}

// importStopped shows the import page with why the import safeguard
// stopped a run.
func (s *Server) importStopped(w http.ResponseWriter, r *http.Request, name string, sg *importer.SafeguardError) error {
	a, err := s.st.GetApp(r.Context(), name)
	if err != nil {
		return err
	}
	v, err := s.importView(r, a, "", true)
	if err != nil {
		return err
	}
	v.Stopped = sg.Error()
	s.render(w, r, http.StatusConflict, "import", page{Title: "Import: " + a.Name, Nav: "apps", Data: v})
	return nil
}

// remoteOr explains a failed call to Dropbox as something an admin can act
// on; other errors pass as they are.
func remoteOr(err error) error {
	var re *service.RemoteError
	if errors.As(err, &re) {
		return fmt.Errorf("%w: %v", directory.ErrInvalid, remoteErr(re.Err))
	}
	return explain(err)
}

// problemsNamed is how many members an import's summary names per problem.
const problemsNamed = 3

func importSummary(res importer.Result) string {
	verb := "Imported"
	if res.Plan {
		verb = "Import preview (nothing written)"
	}
	msg := fmt.Sprintf("%s: %d member(s) in Dropbox; %d already linked, %d exact, %d partial, %d ambiguous, %d unmatched, %d ignored; %d confirmed by the rules, %d new directory user(s), %d profile update(s), %d gone.",
		verb, res.Members, res.Linked, res.Exact, res.Partial, res.Ambiguous, res.Unmatched, res.Ignored, res.Confirmed, res.Created, res.ProfileUpdates, res.Vanished)
	if res.Safeguard != "" {
		msg += " " + res.Safeguard
	}
	// Problems with one reason are said once, naming a few of the members.
	var reasons []string
	byReason := map[string][]string{}
	for _, p := range res.Problems {
		if _, ok := byReason[p.Reason]; !ok {
			reasons = append(reasons, p.Reason)
		}
		byReason[p.Reason] = append(byReason[p.Reason], p.Email)
	}
	for _, why := range reasons {
		who := byReason[why]
		names := strings.Join(who[:min(len(who), problemsNamed)], ", ")
		if len(who) > problemsNamed {
			names += fmt.Sprintf(" and %d more", len(who)-problemsNamed)
		}
		msg += fmt.Sprintf(" %d member(s): %s (%s).", len(who), why, names)
	}
	return msg
}

// refs are the app users a review form names: checked boxes or one button's value.
func refs(r *http.Request) []string {
	var out []string
	for _, v := range r.PostForm["ref"] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// reviewFailed shows why a review action was refused: a missing app or
// importer is an error page, anything else a message on the import page.
func (s *Server) reviewFailed(w http.ResponseWriter, r *http.Request, err error) error {
	if errors.Is(err, service.ErrNoImporter) {
		return err
	}
	if _, gerr := s.st.GetApp(r.Context(), r.PathValue("name")); gerr != nil {
		return gerr
	}
	return s.actionFailed(w, r, importURL(r.PathValue("name")), err)
}

func (s *Server) confirmImport(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.uncontested(r, name, refs(r)); err != nil {
		return s.reviewFailed(w, r, err)
	}
	rv, err := s.svc.ConfirmImport(r.Context(), actorOf(r), name, refs(r))
	if err != nil {
		return s.reviewFailed(w, r, err)
	}
	s.redirect(w, r, importURL(name), "ok", fmt.Sprintf("Confirmed: %d linked to directory users, %d new directory user(s), %d already confirmed. Nothing was sent to Dropbox.", rv.Linked, rv.Created, rv.Already))
	return nil
}

func (s *Server) ignoreImport(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	n, err := s.svc.IgnoreImport(r.Context(), actorOf(r), name, refs(r))
	if err != nil {
		return s.reviewFailed(w, r, err)
	}
	s.redirect(w, r, importURL(name), "ok", fmt.Sprintf("Ignored %d member(s); later imports leave them alone.", n))
	return nil
}

func (s *Server) linkImport(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	ref, user := strings.TrimSpace(r.PostForm.Get("ref")), strings.TrimSpace(r.PostForm.Get("user"))
	if ref == "" || user == "" {
		s.redirect(w, r, importURL(name), "error", "Name the directory user to link to.")
		return nil
	}
	row, err := s.svc.LinkImport(r.Context(), actorOf(r), name, ref, user)
	if err != nil {
		return s.reviewFailed(w, r, err)
	}
	s.redirect(w, r, importURL(name), "ok", fmt.Sprintf("%s linked to %s. Nothing was sent to Dropbox.", row.Email, user))
	return nil
}

// uncontested refuses to confirm a match whose directory user another app
// user is matched or linked to as well: at most one of them is right, so
// the admin links each to its user (or ignores it) instead.
func (s *Server) uncontested(r *http.Request, appName string, refs []string) error {
	a, err := s.st.GetApp(r.Context(), appName)
	if err != nil {
		return err
	}
	contested, err := s.st.ContestedUsers(r.Context(), a.ID)
	if err != nil || len(contested) == 0 {
		return err
	}
	var bad []string
	for _, ref := range refs {
		row, err := s.svc.ImportRow(r.Context(), a.Name, ref)
		if err != nil {
			return err
		}
		if isContested(row.AppUser, contested) {
			bad = append(bad, fmt.Sprintf("%s (matched to %s, as %d members are)", row.Email, row.Username, contested[row.UserID]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: nothing was confirmed: %s cannot be confirmed as matched; link each member to its own directory user, or ignore it", directory.ErrConflict, strings.Join(bad, ", "))
	}
	return nil
}

// isContested says whether an app user's match is a partial (or ambiguous)
// one whose directory user other app users claim too: an exact match of the
// same user stays confirmable, the guesses beside it do not.
func isContested(au store.AppUser, contested map[int64]int) bool {
	return au.State == store.AppUserMatched && au.Match != importer.MatchExact && contested[au.UserID] > 1
}
