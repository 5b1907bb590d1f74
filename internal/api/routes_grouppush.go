package api

import (
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

func init() {
	routes = append(routes,
		Route{"GET", "/api/v1/apps/{name}/group-push", (*Server).listGroupPush},
		Route{"POST", "/api/v1/apps/{name}/group-push", (*Server).pushGroups},
		Route{"POST", "/api/v1/apps/{name}/group-push/remove", (*Server).unpushGroups},
		Route{"POST", "/api/v1/groups/{name}/rename", (*Server).renameGroup},
	)
}

var errNoGroupPush = &apiError{http.StatusServiceUnavailable, "unavailable", "this server's store cannot push groups", nil}

func (s *Server) groupPush() (store.GroupPush, error) {
	gp, ok := s.st.(store.GroupPush)
	if !ok {
		return nil, errNoGroupPush
	}
	return gp, nil
}

// pushWarning tells the admin when stored rules cannot take effect yet.
func pushWarning(a app.Instance) string {
	if service.PushOff(a) {
		return "the push groups feature is off for " + a.Name + ": nothing reaches Dropbox until `roster apps set " + a.Name + " features.push_groups=true`"
	}
	return ""
}

// pushErr answers a store that cannot push groups as unavailable.
func pushErr(err error) error {
	if errors.Is(err, service.ErrNoGroupPush) {
		return errNoGroupPush
	}
	return err
}

type pushInput struct {
	Group        string `json:"group"`
	Pattern      string `json:"pattern"`
	LinkExisting bool   `json:"link_existing"`
	DeleteInApp  bool   `json:"delete_in_app"`
}

func (in pushInput) rule() store.GroupPushRule {
	return store.GroupPushRule{Group: in.Group, Pattern: in.Pattern, LinkExisting: in.LinkExisting}
}

// pushGroups stores a push rule and pushes the groups it matches now.
func (s *Server) pushGroups(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.groupPush(); err != nil {
		return err
	}
	var in pushInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.DeleteInApp {
		return badRequest("delete_in_app belongs to removing a push rule")
	}
	p, err := s.svc.PushGroups(r.Context(), actorOf(r), r.PathValue("name"), in.rule())
	if err != nil {
		return pushErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": p.App.Name, "rule": p.Rule, "groups": nonNil(p.Groups), "warning": pushWarning(p.App)})
	return nil
}

// unpushGroups drops a rule; groups no other rule covers are unlinked by the
// next sync, their Dropbox group deleted only when asked.
func (s *Server) unpushGroups(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.groupPush(); err != nil {
		return err
	}
	var in pushInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.LinkExisting {
		return badRequest("link_existing belongs to adding a push rule")
	}
	unlinked, err := s.svc.UnpushGroups(r.Context(), actorOf(r), r.PathValue("name"), in.rule(), in.DeleteInApp)
	if err != nil {
		return pushErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": r.PathValue("name"), "unlinking": nonNil(unlinked), "delete_in_app": in.DeleteInApp})
	return nil
}

// listGroupPush lists an app's push rules and pushed groups with their state.
func (s *Server) listGroupPush(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GroupPushOf(r.Context(), r.PathValue("name"))
	if err != nil {
		return pushErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": v.App.Name, "push_groups": v.App.Settings.Features.PushGroups,
		"rules": nonNil(v.Rules), "items": nonNil(v.Groups), "warning": pushWarning(v.App)})
	return nil
}

// renameGroup renames a directory group; pushed groups follow at the next sync.
func (s *Server) renameGroup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	g, err := s.svc.RenameGroup(r.Context(), actorOf(r), r.PathValue("name"), in.Name)
	if errors.Is(err, service.ErrNoGroupPush) {
		return errNoGroupPush
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// nonNil makes an empty list JSON [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
