package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		out = append(out, s.appView(r.Context(), a))
	}
	writeJSON(w, http.StatusOK, List[appView]{Items: out})
	return nil
}

// appView is an app as the API shows it: its settings and, once a worker
// has called it, its call rate now and why (budget.calls_per_second=auto
// finds it by trial).
type appView struct {
	app.Instance
	Pacing *store.Pace `json:"pacing,omitempty"`
}

func (s *Server) appView(ctx context.Context, a app.Instance) appView {
	v := appView{Instance: a}
	lr, ok := s.st.(engine.LaneReader)
	if !ok {
		return v
	}
	p, ok, err := engine.PaceOf(ctx, lr, a.ID)
	if err != nil {
		s.log.Warn("read call rate failed", "app", a.Name, "err", err)
	}
	if ok {
		v.Pacing = &p
	}
	return v
}

// appInput is what a client may set on an app; settings merge into the current ones.
type appInput struct {
	Name     *string         `json:"name"`
	Kind     *string         `json:"kind"`
	BaseURL  *string         `json:"base_url"`
	Settings json.RawMessage `json:"settings"`
	Token    *string         `json:"token"`
}

// change is the input as a service change; settings merge into the
// current ones, and unknown setting names are an error.
func (in appInput) change() service.AppChange {
	ch := service.AppChange{Name: in.Name, Kind: in.Kind, BaseURL: in.BaseURL, Token: in.Token}
	if len(in.Settings) > 0 {
		ch.Settings = func(st *app.Settings) error { return st.MergeSettings(in.Settings) }
	}
	return ch
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	var in appInput
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.svc.CreateApp(r.Context(), actorOf(r), in.change())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.appView(r.Context(), a))
	return nil
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request) error {
	var in appInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Kind != nil {
		return badRequest("kind cannot change")
	}
	res, err := s.svc.UpdateApp(r.Context(), actorOf(r), r.PathValue("name"), in.change())
	if err != nil {
		return appErr(err)
	}
	v := s.appView(r.Context(), res.App)
	writeJSON(w, http.StatusOK, savedApp{appView: v, Notes: savedNotes(res)})
	return nil
}

// savedApp is the app as saved, with notes on what saving it did beyond
// what was asked.
type savedApp struct {
	appView
	Notes []string `json:"notes,omitempty"`
}

func savedNotes(res service.AppSaved) []string {
	var notes []string
	if res.TransferCleared {
		notes = append(notes, "file transfer is off, so the transfer accounts (deactivation.transfer_dest_email, deactivation.transfer_admin_email) were cleared")
	}
	if res.TokenDropped {
		notes = append(notes, "the new base_url dropped the stored token: set one for the new address (roster apps set APP --dropbox-token-file FILE)")
	}
	if res.OffboardingChanged {
		notes = append(notes, "the new deactivation settings apply to people who leave from now on, not to earlier leavers (see apps reapply)")
	}
	return notes
}

// appErr says in the API's words why a check with the app refused a change.
func appErr(err error) error {
	var re *service.RemoteError
	var nc *service.NotConnectedError
	switch {
	case errors.Is(err, service.ErrMovedTransfer):
		return badRequest("a new base_url drops the stored token, so the transfer accounts cannot be checked with Dropbox now: change base_url (with its token) first, then the deactivation settings")
	case errors.Is(err, service.ErrNoEngine):
		return errNoEngine
	case errors.As(err, &nc):
		return fmt.Errorf("%w: app %s has no Dropbox token yet; authenticate with Dropbox or set a token first", directory.ErrInvalid, nc.App)
	case errors.As(err, &re):
		return remoteErr(re.Err)
	}
	return err
}

// setAppToken stores a pasted team access token, encrypted. It is never returned.
func (s *Server) setAppToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if err := s.storeToken(r, a, in.Token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) storeToken(r *http.Request, a app.Instance, token string) error {
	return s.svc.SetAppToken(r.Context(), actorOf(r), a, token)
}

// workItem is a queued reconcile as clients see it.
type workItem struct {
	Kind       string `json:"kind"`
	RefID      int64  `json:"ref_id"`
	Reason     string `json:"reason"`
	Generation int64  `json:"generation"`
	Attempts   int    `json:"attempts"`
	DueAt      string `json:"due_at"`
}

func (s *Server) listWork(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	items, err := s.st.PendingWork(r.Context(), a.ID, p.Limit)
	if err != nil {
		return err
	}
	out := make([]workItem, len(items))
	for i, it := range items {
		out[i] = workItem{it.Kind, it.RefID, it.Reason, it.Generation, it.Attempts, it.DueAt.Format("2006-01-02T15:04:05.000Z07:00")}
	}
	writeJSON(w, http.StatusOK, List[workItem]{Items: out})
	return nil
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	as, err := s.st.ListAssignments(r.Context(), store.AssignmentFilter{App: q.Get("app"), User: q.Get("user"), Group: q.Get("group")})
	if err != nil {
		return err
	}
	if as == nil {
		as = []directory.Assignment{}
	}
	writeJSON(w, http.StatusOK, List[directory.Assignment]{Items: as})
	return nil
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		App   string `json:"app"`
		User  string `json:"user"`
		Group string `json:"group"`
		Role  string `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	a := directory.Assignment{AppName: in.App, Username: in.User, GroupName: in.Group, Role: directory.Role(in.Role)}
	if err := s.svc.Assign(r.Context(), actorOf(r), &a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) unassign(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if _, err := s.svc.Unassign(r.Context(), actorOf(r), q.Get("app"), q.Get("user"), q.Get("group"), confirmOf(r)); err != nil {
		return confirmErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
