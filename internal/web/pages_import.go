package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store"
)

// Import review (MISSION F5): run an import, then confirm, ignore or link the
// members it found. The importer does the work; this page only shows it.

type importRow struct {
	store.AppUser
	User string // the matched or linked directory user's username
}

type importView struct {
	App      app.Instance
	State    string
	States   []string
	Rows     []importRow
	Next     string
	Stopped  string // why a run was stopped by the import safeguard
	PlanOnly bool
}

var importStates = []string{"", store.AppUserUnmatched, store.AppUserMatched, store.AppUserConfirmed, store.AppUserIgnored}

const importPageSize = 200

func importURL(name string) string { return appURL(name) + "/import" }

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v, err := s.importView(r, a, r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "import", page{Title: "Import: " + a.Name, Nav: "apps", Data: v})
	return nil
}

func (s *Server) importView(r *http.Request, a app.Instance, state string) (importView, error) {
	v := importView{App: a, State: state, States: importStates}
	if err := importer.CheckState(state); err != nil {
		return v, err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	aus, err := s.st.ListAppUsers(r.Context(), a.ID, state, store.Page{After: after, Limit: importPageSize})
	if err != nil {
		return v, err
	}
	ids := make([]int64, 0, len(aus))
	for _, au := range aus {
		ids = append(ids, au.UserID)
	}
	users, err := s.st.UsersByID(r.Context(), ids)
	if err != nil {
		return v, err
	}
	for _, au := range aus {
		v.Rows = append(v.Rows, importRow{au, users[au.UserID].Username})
	}
	if len(aus) == importPageSize {
		v.Next = url.Values{"state": {state}, "after": {strconv.FormatInt(aus[len(aus)-1].ID, 10)}}.Encode()
	}
	return v, nil
}

func (s *Server) importer(r *http.Request) (*importer.Importer, app.Instance, error) {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, a, err
	}
	if s.opt.Importer == nil {
		return nil, a, fmt.Errorf("%w: this server runs no importer", directory.ErrInvalid)
	}
	return s.opt.Importer, a, nil
}

func (s *Server) runImport(w http.ResponseWriter, r *http.Request) error {
	im, a, err := s.importer(r)
	if err != nil {
		return err
	}
	allow := r.PostForm.Get("allow_vanished") == "1"
	if allow && r.PostForm.Get("reviewed") != "on" {
		s.redirect(w, r, importURL(a.Name), "error", "Tick the box to confirm the missing members are really gone from Dropbox.")
		return nil
	}
	opt := importer.Options{Plan: r.PostForm.Get("plan") == "1", AllowVanished: allow, By: actorOf(r)}
	res, err := im.Run(r.Context(), a, opt)
	var sg *importer.SafeguardError
	if errors.As(err, &sg) {
		v, verr := s.importView(r, a, "")
		if verr != nil {
			return verr
		}
		v.Stopped = sg.Error()
		s.render(w, r, http.StatusConflict, "import", page{Title: "Import: " + a.Name, Nav: "apps", Data: v})
		return nil
	}
	if err != nil {
		return s.actionFailed(w, r, importURL(a.Name), remoteOr(err))
	}
	s.redirect(w, r, importURL(a.Name), "ok", importSummary(res))
	return nil
}

// remoteOr explains a failed call to Dropbox as something an admin can act
// on; other errors pass as they are.
func remoteOr(err error) error {
	var ce *connector.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("%w: %v", directory.ErrInvalid, remoteErr(err))
	}
	return err
}

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
	for _, p := range res.Problems {
		msg += fmt.Sprintf(" %s: %s.", p.Email, p.Reason)
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

func (s *Server) confirmImport(w http.ResponseWriter, r *http.Request) error {
	im, a, err := s.importer(r)
	if err != nil {
		return err
	}
	rv, err := im.Confirm(r.Context(), actorOf(r), a, refs(r))
	if err != nil {
		return s.actionFailed(w, r, importURL(a.Name), err)
	}
	s.redirect(w, r, importURL(a.Name), "ok", fmt.Sprintf("Confirmed: %d linked to directory users, %d new directory user(s), %d already confirmed. Nothing was sent to Dropbox.", rv.Linked, rv.Created, rv.Already))
	return nil
}

func (s *Server) ignoreImport(w http.ResponseWriter, r *http.Request) error {
	im, a, err := s.importer(r)
	if err != nil {
		return err
	}
	n, err := im.Ignore(r.Context(), actorOf(r), a, refs(r))
	if err != nil {
		return s.actionFailed(w, r, importURL(a.Name), err)
	}
	s.redirect(w, r, importURL(a.Name), "ok", fmt.Sprintf("Ignored %d member(s); later imports leave them alone.", n))
	return nil
}

func (s *Server) linkImport(w http.ResponseWriter, r *http.Request) error {
	im, a, err := s.importer(r)
	if err != nil {
		return err
	}
	ref, user := strings.TrimSpace(r.PostForm.Get("ref")), strings.TrimSpace(r.PostForm.Get("user"))
	if ref == "" || user == "" {
		s.redirect(w, r, importURL(a.Name), "error", "Name the directory user to link to.")
		return nil
	}
	au, err := im.Link(r.Context(), actorOf(r), a, ref, user)
	if err != nil {
		return s.actionFailed(w, r, importURL(a.Name), err)
	}
	s.redirect(w, r, importURL(a.Name), "ok", fmt.Sprintf("%s linked to %s. Nothing was sent to Dropbox.", au.Email, user))
	return nil
}
