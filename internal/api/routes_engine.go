package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

func init() {
	routes = append(routes,
		Route{"POST", "/api/v1/apps/{name}/sync", (*Server).syncApp},
		Route{"GET", "/api/v1/apps/{name}/plan", (*Server).planApp},
		Route{"POST", "/api/v1/apps/{name}/test", (*Server).testApp},
		Route{"GET", "/api/v1/apps/{name}/accounts", (*Server).listAccounts},
		Route{"GET", "/api/v1/apps/{name}/pending-activation", (*Server).pendingActivation},
		Route{"GET", "/api/v1/tasks", (*Server).listTasks},
		Route{"POST", "/api/v1/tasks/retry", (*Server).retryTask},
		Route{"POST", "/api/v1/tasks/dismiss", (*Server).dismissTask},
	)
}

var errNoEngine = &apiError{http.StatusServiceUnavailable, "unavailable", "this server runs no provisioning engine", nil}

// syncApp processes the app's queued work now; full=true first lists the
// whole team and repairs drift (a full reconciliation).
func (s *Server) syncApp(w http.ResponseWriter, r *http.Request) error {
	if s.opt.runner() == nil {
		return errNoEngine
	}
	q := r.URL.Query()
	req := service.SyncRequest{Full: q.Get("full") == "true", AllowDeletes: q.Get("allow_deletes") == "true"}
	res, err := s.svc.Sync(r.Context(), actorOf(r), r.PathValue("name"), req)
	if err != nil {
		return syncErr(err)
	}
	return s.synced(w, r, res, req.Full, nil)
}

// synced answers a sync: what it did, or 202 when the worker holding the
// app's lane does it instead (a full sync is recorded as requested, and that
// worker runs it at its next pass). extra adds fields to a 200 answer.
func (s *Server) synced(w http.ResponseWriter, r *http.Request, res service.SyncResult, full bool, extra map[string]any) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if le := res.Elsewhere; le != nil {
		writeJSON(w, http.StatusAccepted, map[string]any{"app": a.Name, "worker": le.Owner, "full_sync_requested": full, "message": le.Error()})
		return nil
	}
	tasks, err := s.st.ListTasks(r.Context(), a.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"app": a.Name, "queued": res.Queued, "stats": res.Stats, "open_tasks": len(tasks)}
	if q, ok, err := s.queueOf(r, a.ID); err != nil {
		return err
	} else if ok {
		out["waiting"] = q
	}
	if full {
		out["reconcile"] = res.Survey
	}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// waiting is the app's queue after a sync: what is left for the workers,
// so that a sync that found nothing due says why (retries waiting for their
// backoff, work in a worker's hands) rather than only "processed 0".
type waiting struct {
	Queued   int `json:"queued"`    // changes still queued
	Due      int `json:"due"`       // ... due now
	InFlight int `json:"in_flight"` // ... held by a worker now
	Retrying int `json:"retrying"`  // ... that failed at least once and wait for their next attempt
}

func (s *Server) queueOf(r *http.Request, appID int64) (waiting, bool, error) {
	qs, ok := s.st.(interface {
		QueueStats(ctx context.Context) ([]store.QueueStat, error)
	})
	if !ok {
		return waiting{}, false, nil
	}
	stats, err := qs.QueueStats(r.Context())
	if err != nil {
		return waiting{}, false, err
	}
	for _, q := range stats {
		if q.AppID == appID {
			return waiting{Queued: q.Queued, Due: q.Due, InFlight: q.Leased, Retrying: q.Retries}, true, nil
		}
	}
	return waiting{}, true, nil
}

// syncErr answers the deletion guard with 409 and an app's refusal as such.
func syncErr(err error) error {
	var g *engine.GuardError
	if errors.As(err, &g) {
		return &apiError{http.StatusConflict, "deletion_guard", g.Error(), g}
	}
	return engineErr(err)
}

// planApp previews a sync without any write call to the app.
func (s *Server) planApp(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Engine == nil {
		return errNoEngine
	}
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	p, err := s.opt.Engine.Plan(r.Context(), a, r.URL.Query().Get("full") == "true")
	if err != nil {
		return engineErr(err)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// testApp checks the token and reports the team, as "Test connection" does.
func (s *Server) testApp(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.TestConnection(r.Context(), actorOf(r), r.PathValue("name"))
	if err != nil {
		return appErr(err)
	}
	out := map[string]any{"ok": true, "team": c.Team.Name, "team_id": c.Team.TeamID,
		"licensed_users": c.Team.LicensedUsers, "provisioned_users": c.Team.ProvisionedUsers}
	if c.Admin != "" {
		out["authenticated_admin"] = c.Admin
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// remoteErr explains a failed call to the app without internal detail.
// engineErr reports an app's refusal as such and anything else as usual.
func engineErr(err error) error {
	var ce *connector.Error
	if errors.As(err, &ce) {
		return remoteErr(err)
	}
	return err
}

func remoteErr(err error) error {
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Kind != connector.Retryable {
		status := http.StatusBadGateway
		if ce.Kind == connector.Auth {
			status = http.StatusFailedDependency
		}
		return &apiError{status, "remote_" + ce.Kind.String(), "Dropbox answered: " + ce.Error(), nil}
	}
	return &apiError{http.StatusBadGateway, "remote_unreachable", "cannot reach Dropbox: " + err.Error(), nil}
}

type accountView struct {
	store.Account
	Username string `json:"user"`
}

func (s *Server) accountViews(ctx context.Context, accts []store.Account) ([]accountView, error) {
	ids := make([]int64, len(accts))
	for i, a := range accts {
		ids[i] = a.UserID
	}
	users, err := s.st.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]accountView, len(accts))
	for i, a := range accts {
		out[i] = accountView{a, users[a.UserID].Username}
	}
	return out, nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	accts, err := s.st.ListAccounts(r.Context(), a.ID, p)
	if err != nil {
		return err
	}
	views, err := s.accountViews(r.Context(), accts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(views, p, func(v accountView) int64 { return v.UserID }))
	return nil
}

// pendingActivation lists silently provisioned members who have not signed in
// yet: they must be told to activate at https://www.dropbox.com/sso.
func (s *Server) pendingActivation(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	var pending []store.Account
	for after := int64(0); ; {
		accts, err := s.st.ListAccounts(r.Context(), a.ID, store.Page{After: after, Limit: 10000})
		if err != nil {
			return err
		}
		for _, ac := range accts {
			if ac.Silent && ac.Status == string(connector.StatusInvited) {
				pending = append(pending, ac)
			}
		}
		if len(accts) < 10000 {
			break
		}
		after = accts[len(accts)-1].UserID
	}
	views, err := s.accountViews(r.Context(), pending)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": views, "activation_url": "https://www.dropbox.com/sso",
		"note": "these members were provisioned without a welcome email; they activate by signing in through the Dropbox SSO page or the app tile"})
	return nil
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.svc.Tasks(r.Context(), r.URL.Query().Get("app"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[service.Task]{Items: tasks})
	return nil
}

// taskTarget reads {"app", "user"} or {"app", "group"}.
func taskTarget(r *http.Request) (service.TaskTarget, error) {
	var in struct {
		App   string `json:"app"`
		User  string `json:"user"`
		Group string `json:"group"`
	}
	err := decode(r, &in)
	return service.TaskTarget{App: in.App, User: in.User, Group: in.Group}, err
}

func (s *Server) retryTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.svc.RetryTask)
}

func (s *Server) dismissTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.svc.DismissTask)
}

func (s *Server) taskAction(w http.ResponseWriter, r *http.Request, act func(context.Context, store.Actor, service.TaskTarget) error) error {
	tt, err := taskTarget(r)
	if err != nil {
		return err
	}
	if err := act(r.Context(), actorOf(r), tt); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
