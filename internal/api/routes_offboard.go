package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

func init() {
	routes = append(routes,
		Route{"GET", "/api/v1/apps/{name}/offboardings", (*Server).listOffboardings},
		Route{"POST", "/api/v1/apps/{name}/offboardings/release", (*Server).releaseHeld},
		Route{"POST", "/api/v1/apps/{name}/offboardings/{user}/keep", (*Server).keepOffboarded},
		Route{"GET", "/api/v1/apps/{name}/offboardings/reapply", (*Server).reapplyImpact},
		Route{"POST", "/api/v1/apps/{name}/offboardings/reapply", (*Server).reapply},
	)
}

// confirmed computes what a directory change would off-board and refuses
// it with 409 and the impact unless the request carries the impact's
// confirmation (?confirm=TOKEN): nothing irreversible on one click.
func (s *Server) confirmed(r *http.Request, c engine.DirChange) (engine.Impact, error) {
	im, err := engine.ImpactOf(r.Context(), s.st, c)
	if err != nil {
		return im, err
	}
	if im.Count > 0 && r.URL.Query().Get("confirm") != im.Confirm {
		return im, &apiError{http.StatusConflict, "confirmation_required", im.Summary(), im}
	}
	return im, nil
}

// recordConfirmed marks the confirmed off-boardings, so that the deletion
// guard never holds what an admin confirmed.
func (s *Server) recordConfirmed(ctx context.Context, by store.Actor, im engine.Impact) error {
	for appID, users := range im.ByApp() {
		if err := s.st.ConfirmOffboardings(context.WithoutCancel(ctx), by, appID, users); err != nil {
			return err
		}
	}
	return nil
}

// guarded runs a directory change once its impact is confirmed.
func (s *Server) guarded(r *http.Request, c engine.DirChange, change func() error) error {
	im, err := s.confirmed(r, c)
	if err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	return s.recordConfirmed(r.Context(), actorOf(r), im)
}

// changeOf describes a lifecycle action as a directory change.
func changeOf(t directory.Transition, username string) (engine.DirChange, bool) {
	switch t {
	case directory.Suspend:
		return engine.DirChange{Users: []string{username}, Status: directory.StatusSuspended}, true
	case directory.Deactivate:
		return engine.DirChange{Users: []string{username}, Status: directory.StatusDeprovisioned}, true
	}
	return engine.DirChange{}, false
}

func (s *Server) listOffboardings(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	obs, err := s.st.ListOffboardings(r.Context(), a.ID)
	if err != nil {
		return err
	}
	if obs == nil {
		obs = []store.Offboarding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": obs})
	return nil
}

// releaseHeld releases what the deletion guard holds, as confirmed by the caller.
func (s *Server) releaseHeld(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	n, err := s.st.ReleaseHeld(r.Context(), actorOf(r), a.ID, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"released": n})
	return nil
}

// keepOffboarded cancels a leaver's pending removal: it stays suspended.
func (s *Server) keepOffboarded(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	u, err := s.st.GetUser(r.Context(), r.PathValue("user"))
	if err != nil {
		return err
	}
	if err := s.st.KeepOffboarded(r.Context(), actorOf(r), a.ID, u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reapplyImpact shows what applying today's off-boarding settings to past
// leavers would do; nothing changes.
func (s *Server) reapplyImpact(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	im, err := engine.PastLeavers(r.Context(), s.st, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

// reapply applies today's off-boarding settings to past leavers: an explicit,
// confirmed action, never a side effect of saving settings.
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
		writeJSON(w, http.StatusOK, im)
		return nil
	}
	if strings.TrimSpace(r.URL.Query().Get("confirm")) != im.Confirm {
		return &apiError{http.StatusConflict, "confirmation_required", im.Summary(), im}
	}
	if err := s.st.ReapplyOffboardings(r.Context(), actorOf(r), a.ID, im.ByApp()[a.ID]); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}
