package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// Form fields of the confirmation step. The action's own fields travel along
// as hidden fields, so confirming posts the same action again.
const (
	impactField = "impact" // the impact's Confirm token, as shown
	typedField  = "typed"  // what the admin typed to confirm an irreversible impact
)

// confirmView is the confirmation step of an action that would off-board.
type confirmView struct {
	What   string // the action, in words
	Action string // where the form posts
	Back   string
	Impact engine.Impact
	Hidden [][2]string // the action's own form fields
	Typed  string
}

// formConfirm is the confirmation the form carries: the impact's token as
// shown and, for an irreversible impact, its TypeToConfirm typed.
func formConfirm(r *http.Request) service.Confirm {
	return service.Confirm{Token: r.PostForm.Get(impactField), Typed: r.PostForm.Get(typedField), NeedTyped: true}
}

// confirmStep renders the confirmation step of an action the service
// refused as unconfirmed, and reports whether it did; a changed impact
// (recomputed by the service and compared) is shown again.
func (s *Server) confirmStep(w http.ResponseWriter, r *http.Request, err error, what, back string) bool {
	var ce *service.ConfirmError
	if !errors.As(err, &ce) {
		return false
	}
	typed := strings.TrimSpace(r.PostForm.Get(typedField))
	v := confirmView{What: what, Action: r.URL.Path, Back: back, Impact: ce.Impact, Hidden: hiddenFields(r.PostForm), Typed: typed}
	p := page{Title: "Confirm: " + what, Nav: navOf(back), Data: v}
	status := http.StatusOK
	switch ce.Reason {
	case service.Changed:
		v.Typed, p.Data, status = "", v, http.StatusConflict
		p.Error = "What this would do changed since it was shown (other changes were made meanwhile). Nothing was changed; review the impact below."
	case service.NotTyped:
		status = http.StatusUnprocessableEntity
		p.Error = fmt.Sprintf("Nothing was changed: type %s exactly in the box to confirm.", ce.Impact.TypeToConfirm)
	}
	s.render(w, r, status, "confirm", p)
	return true
}

// hiddenFields are the action's own fields, to post again on confirming.
func hiddenFields(f url.Values) [][2]string {
	var out [][2]string
	for k, vs := range f {
		if k == csrfField || k == impactField || k == typedField {
			continue
		}
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i][0] < out[k][0] })
	return out
}

func navOf(back string) string {
	for _, n := range []string{"users", "groups", "apps"} {
		if strings.HasPrefix(back, "/"+n) {
			return n
		}
	}
	return ""
}

// confirmed reads the result of a use case that off-boards only once
// confirmed: done reports whether the change was made; if it was refused
// as unconfirmed, the confirmation step was rendered instead.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, err error, what, back string) (bool, error) {
	if s.confirmStep(w, r, err, what, back) {
		return false, nil
	}
	return err == nil, err
}

// offboarded says, after a confirmed change, how many accounts it off-boards.
func offboarded(im engine.Impact) string {
	if im.Count == 0 {
		return ""
	}
	return fmt.Sprintf(" %d account(s) in %s will be off-boarded at the next sync, as confirmed.", im.Count, strings.Join(im.Apps, ", "))
}

// offboardingText says where a user's off-boarding from an app stands.
func offboardingText(ob store.Offboarding, acct *store.Account) string {
	gone := acct == nil || acct.Status == string(connector.StatusRemoved)
	switch {
	case gone:
		return "removed"
	case ob.Kept:
		return "suspended; removal cancelled"
	case ob.Held && ob.ConfirmedBy == "":
		return "held by the deletion guard"
	case ob.Phase == store.PhaseGrace:
		return "suspended; removal due on " + ob.RemoveDue.Local().Format("2006-01-02 15:04")
	case ob.Phase == store.PhaseFinal && acct.Status == string(connector.StatusActive):
		return "off-boarding at the next sync"
	}
	return "off-boarded"
}

// keepUser cancels a user's pending removal from an app: they stay suspended.
func (s *Server) keepUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("username")
	back := "/users/" + url.PathEscape(name)
	a, err := s.st.GetApp(r.Context(), r.PostForm.Get("app"))
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	if _, err := s.st.GetUser(r.Context(), name); err != nil {
		return err
	}
	if _, err := s.svc.KeepOffboarded(r.Context(), actorOf(r), a.Name, name); err != nil {
		return s.actionFailed(w, r, back, err)
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("Removal from %s cancelled: %s stays suspended there.", a.Name, name))
	return nil
}

// releaseHeld releases what the deletion guard holds in an app, once the
// admin has typed how many.
func (s *Server) releaseHeld(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	back := appURL(a.Name) + "/plan"
	held, err := s.svc.HeldCount(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if held == 0 {
		s.redirect(w, r, back, "ok", "Nothing is held.")
		return nil
	}
	if strings.TrimSpace(r.PostForm.Get(typedField)) != fmt.Sprint(held) {
		s.redirect(w, r, back, "error", fmt.Sprintf("Nothing was released: type the number of held off-boardings (%d) to confirm.", held))
		return nil
	}
	n, err := s.svc.ReleaseHeld(r.Context(), actorOf(r), a.Name)
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("Released %d held off-boarding(s); they are made at the next sync.", n))
	return nil
}

// reapply applies the app's off-boarding settings in force now to past
// leavers, once confirmed: never a side effect of saving settings.
func (s *Server) reapply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	im, err := s.svc.Reapply(r.Context(), actorOf(r), a.Name, formConfirm(r))
	if s.confirmStep(w, r, err, "apply today's off-boarding settings of "+a.Name+" to past leavers", appURL(a.Name)) {
		return nil
	}
	if err != nil {
		return s.actionFailed(w, r, appURL(a.Name), err)
	}
	if im.Count == 0 {
		s.redirect(w, r, appURL(a.Name), "ok", "No past leaver is off-boarded under other settings; nothing to apply.")
		return nil
	}
	s.redirect(w, r, appURL(a.Name), "ok", fmt.Sprintf("Today's settings apply to %d past leaver(s) from the next sync.", im.Count))
	return nil
}
