package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
)

func init() {
	routes = append(routes,
		Route{"POST", "/api/v1/apps/{name}/plans", (*Server).createPlan},
		Route{"GET", "/api/v1/apps/{name}/plans/{id}", (*Server).getPlan},
		Route{"POST", "/api/v1/apps/{name}/plans/{id}/apply", (*Server).applyPlan},
	)
}

// createPlan computes a plan (full=true: against the team as listed now)
// and keeps it to be applied by id: 201 with its id and fingerprint.
func (s *Server) createPlan(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Engine == nil {
		return errNoEngine
	}
	p, err := s.svc.CreatePlan(r.Context(), actorOf(r), r.PathValue("name"), r.URL.Query().Get("full") == "true")
	if err != nil {
		return engineErr(err)
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.GetPlan(r.PathValue("name"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// applyPlan applies exactly the plan (service.Plan says what that means):
// the one kept under the id, or the plan given as the body (a plan file,
// which any server of a fleet can apply). A plan that changed since is
// refused with 409 plan_stale, the current plan and what is new in it.
func (s *Server) applyPlan(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Engine == nil {
		return errNoEngine
	}
	p, err := s.planToApply(r)
	if err != nil {
		return err
	}
	res, err := s.svc.ApplyPlan(r.Context(), actorOf(r), p, r.URL.Query().Get("allow_deletes") == "true")
	var se *service.StaleError
	if errors.As(err, &se) {
		return &apiError{http.StatusConflict, "plan_stale", se.Error(), map[string]any{"plan": se.Plan, "new": se.New, "made": orEmpty(se.Made)}}
	}
	if err != nil {
		return syncErr(err)
	}
	return s.synced(w, r, res.SyncResult, p.Full, map[string]any{"plan": p.ID, "made": orEmpty(res.Made)})
}

// planToApply is the plan in the body, if any, else the one kept under the id.
func (s *Server) planToApply(r *http.Request) (service.Plan, error) {
	if r.ContentLength == 0 {
		return s.svc.GetPlan(r.PathValue("name"), r.PathValue("id"))
	}
	// What apply needs of a plan file; the rest of it (the changes as
	// shown) may come along and is not read.
	var in struct {
		service.Plan
		Preview json.RawMessage `json:"plan"`
	}
	if err := decode(r, &in); err != nil {
		return service.Plan{}, err
	}
	p := in.Plan
	if p.ID != r.PathValue("id") {
		return p, badRequest("the plan in the body is not plan %s", r.PathValue("id"))
	}
	if a, err := s.st.GetApp(r.Context(), r.PathValue("name")); err != nil || directory.Key(a.Name) != directory.Key(p.App) {
		return p, badRequest("the plan in the body is not of app %s", r.PathValue("name"))
	}
	return p, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
