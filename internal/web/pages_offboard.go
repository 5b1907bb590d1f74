package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/engine"
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

// confirmed asks for a confirmation of what change would off-board, unless
// the form carries it: the impact's token as shown (recomputed now and
// compared: a changed impact is shown again) and, for an irreversible one,
// its TypeToConfirm typed. It reports whether the action may go ahead; when
// not, it has rendered the confirmation step.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, c engine.DirChange, what, back string) (engine.Impact, bool, error) {
	im, err := engine.ImpactOf(r.Context(), s.st, c)
	if err != nil || im.Count == 0 {
		return im, err == nil, err
	}
	return im, s.confirmStep(w, r, im, what, back), nil
}

// confirmStep reports whether the form confirms the impact; when not, it
// renders the confirmation step.
func (s *Server) confirmStep(w http.ResponseWriter, r *http.Request, im engine.Impact, what, back string) bool {
	token, typed := r.PostForm.Get(impactField), strings.TrimSpace(r.PostForm.Get(typedField))
	v := confirmView{What: what, Action: r.URL.Path, Back: back, Impact: im, Hidden: hiddenFields(r.PostForm), Typed: typed}
	p := page{Title: "Confirm: " + what, Nav: navOf(back), Data: v}
	status := http.StatusOK
	switch {
	case token == "":
	case token != im.Confirm:
		v.Typed, p.Data, status = "", v, http.StatusConflict
		p.Error = "What this would do changed since it was shown (other changes were made meanwhile). Nothing was changed; review the impact below."
	case im.TypeToConfirm != "" && typed != im.TypeToConfirm:
		status = http.StatusUnprocessableEntity
		p.Error = fmt.Sprintf("Nothing was changed: type %s exactly in the box to confirm.", im.TypeToConfirm)
	default:
		return true
	}
	s.render(w, r, status, "confirm", p)
	return false
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

// recordConfirmed marks the confirmed off-boardings, as the API does, so
// that the deletion guard never holds what an admin confirmed. The change is
// made by then: a cancelled request must not skip the record.
func (s *Server) recordConfirmed(ctx context.Context, by store.Actor, im engine.Impact) error {
	for appID, users := range im.ByApp() {
		if err := s.st.ConfirmOffboardings(context.WithoutCancel(ctx), by, appID, users); err != nil {
			return err
		}
	}
	return nil
}

// guardedChange makes a directory change once what it would off-board is
// confirmed; done reports whether it was made (else a page was rendered).
func (s *Server) guardedChange(w http.ResponseWriter, r *http.Request, c engine.DirChange, what, back string, change func() error) (engine.Impact, bool, error) {
	im, ok, err := s.confirmed(w, r, c, what, back)
	if err != nil || !ok {
		return im, false, err
	}
	if err := change(); err != nil {
		return im, false, err
	}
	return im, true, s.recordConfirmed(r.Context(), actorOf(r), im)
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
	u, err := s.st.GetUser(r.Context(), name)
	if err != nil {
		return err
	}
	if err := s.st.KeepOffboarded(r.Context(), actorOf(r), a.ID, u.ID); err != nil {
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
	held, err := heldCount(r.Context(), s.st, a)
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
	n, err := s.st.ReleaseHeld(r.Context(), actorOf(r), a.ID, nil)
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("Released %d held off-boarding(s); they are made at the next sync.", n))
	return nil
}

// heldCount counts the app's off-boardings the deletion guard holds.
func heldCount(ctx context.Context, st Store, a app.Instance) (int, error) {
	obs, err := st.ListOffboardings(ctx, a.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ob := range obs {
		if ob.Held {
			n++
		}
	}
	return n, nil
}

// reapply applies the app's off-boarding settings in force now to past
// leavers, once confirmed: never a side effect of saving settings.
func (s *Server) reapply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	im, err := engine.PastLeavers(r.Context(), s.st, a)
	if err != nil {
		return err
	}
	if im.Count == 0 {
		s.redirect(w, r, appURL(a.Name), "ok", "No past leaver is off-boarded under other settings; nothing to apply.")
		return nil
	}
	if !s.confirmStep(w, r, im, "apply today's off-boarding settings of "+a.Name+" to past leavers", appURL(a.Name)) {
		return nil
	}
	if err := s.st.ReapplyOffboardings(r.Context(), actorOf(r), a.ID, im.ByApp()[a.ID]); err != nil {
		return s.actionFailed(w, r, appURL(a.Name), err)
	}
	s.redirect(w, r, appURL(a.Name), "ok", fmt.Sprintf("Today's settings apply to %d past leaver(s) from the next sync.", im.Count))
	return nil
}
