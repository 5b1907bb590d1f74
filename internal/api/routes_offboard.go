package api

import (
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/service"
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

// confirmOf is the confirmation a request carries (?confirm=TOKEN): an
// action that would off-board is refused with 409 and its impact until then.
func confirmOf(r *http.Request) service.Confirm {
	return service.Confirm{Token: r.URL.Query().Get("confirm")}
}

// confirmErr answers an unconfirmed impact with 409 and the impact.
func confirmErr(err error) error {
	var ce *service.ConfirmError
	if errors.As(err, &ce) {
		return &apiError{http.StatusConflict, "confirmation_required", ce.Impact.Summary(), ce.Impact}
	}
	return err
}

func (s *Server) listOffboardings(w http.ResponseWriter, r *http.Request) error {
	obs, err := s.svc.Offboardings(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": obs})
	return nil
}

// releaseHeld releases what the deletion guard holds, as confirmed by the caller.
func (s *Server) releaseHeld(w http.ResponseWriter, r *http.Request) error {
	n, err := s.svc.ReleaseHeld(r.Context(), actorOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"released": n})
	return nil
}

// keepOffboarded cancels a leaver's pending removal: it stays suspended.
func (s *Server) keepOffboarded(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.KeepOffboarded(r.Context(), actorOf(r), r.PathValue("name"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// reapplyImpact shows what applying today's off-boarding settings to past
// leavers would do; nothing changes.
func (s *Server) reapplyImpact(w http.ResponseWriter, r *http.Request) error {
	im, err := s.svc.PastLeavers(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

// reapply applies today's off-boarding settings to past leavers: an explicit,
// confirmed action, never a side effect of saving settings.
func (s *Server) reapply(w http.ResponseWriter, r *http.Request) error {
	im, err := s.svc.Reapply(r.Context(), actorOf(r), r.PathValue("name"), service.Confirm{Token: r.URL.Query().Get("confirm")})
	if err != nil {
		return confirmErr(err)
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}
