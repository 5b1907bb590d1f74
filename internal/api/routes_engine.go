package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
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
	if full {
		out["reconcile"] = res.Survey
	}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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

type taskView struct {
	store.Task
	App      string `json:"app"`
	Username string `json:"user,omitempty"`
	Group    string `json:"group,omitempty"` // for a pushed group's task
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request) error {
	var appID int64
	names := map[int64]string{}
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	for _, a := range apps {
		names[a.ID] = a.Name
		if q := r.URL.Query().Get("app"); q != "" && directory.Key(q) == directory.Key(a.Name) {
			appID = a.ID
		}
	}
	if q := r.URL.Query().Get("app"); q != "" && appID == 0 {
		return fmt.Errorf("%w: app %q", directory.ErrNotFound, q)
	}
	tasks, err := s.st.ListTasks(r.Context(), appID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(tasks))
	for i, t := range tasks {
		ids[i] = t.RefID
	}
	users, err := s.st.UsersByID(r.Context(), ids)
	if err != nil {
		return err
	}
	groups, err := s.pushedGroupNames(r, tasks)
	if err != nil {
		return err
	}
	out := make([]taskView, len(tasks))
	for i, t := range tasks {
		out[i] = taskView{Task: t, App: names[t.AppID]}
		if t.Kind == store.WorkGroup {
			out[i].Group = groups[[2]int64{t.AppID, t.RefID}]
		} else {
			out[i].Username = users[t.RefID].Username
		}
	}
	writeJSON(w, http.StatusOK, List[taskView]{Items: out})
	return nil
}

// pushedGroupNames names the groups of group tasks, by app and group ID.
func (s *Server) pushedGroupNames(r *http.Request, tasks []store.Task) (map[[2]int64]string, error) {
	out := map[[2]int64]string{}
	seen := map[int64]bool{}
	for _, t := range tasks {
		if t.Kind != store.WorkGroup || seen[t.AppID] {
			continue
		}
		seen[t.AppID] = true
		pgs, err := s.st.ListPushedGroups(r.Context(), t.AppID)
		if err != nil {
			return nil, err
		}
		for _, pg := range pgs {
			out[[2]int64{pg.AppID, pg.GroupID}] = pg.Group
		}
	}
	return out, nil
}

// taskTarget reads {"app", "user"} or {"app", "group"}: the app, the kind
// of the task and the ID of its user or group.
func (s *Server) taskTarget(r *http.Request) (int64, string, int64, error) {
	var in struct {
		App   string `json:"app"`
		User  string `json:"user"`
		Group string `json:"group"`
	}
	if err := decode(r, &in); err != nil {
		return 0, "", 0, err
	}
	if (in.User == "") == (in.Group == "") {
		return 0, "", 0, fmt.Errorf("%w: name either a user or a group", directory.ErrInvalid)
	}
	a, err := s.st.GetApp(r.Context(), in.App)
	if err != nil {
		return 0, "", 0, err
	}
	if in.Group != "" {
		g, err := s.st.GetGroup(r.Context(), in.Group)
		return a.ID, store.WorkGroup, g.ID, err
	}
	u, err := s.st.GetUser(r.Context(), in.User)
	return a.ID, store.WorkUser, u.ID, err
}

func (s *Server) retryTask(w http.ResponseWriter, r *http.Request) error {
	appID, kind, refID, err := s.taskTarget(r)
	if err != nil {
		return err
	}
	if err := s.st.RetryTask(r.Context(), actorOf(r), appID, kind, refID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) dismissTask(w http.ResponseWriter, r *http.Request) error {
	appID, kind, refID, err := s.taskTarget(r)
	if err != nil {
		return err
	}
	if err := s.st.DismissTask(r.Context(), actorOf(r), appID, kind, refID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
