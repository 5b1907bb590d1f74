package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store"
)

// Import review (MISSION F5, F6, F11): run an import, list app users by
// state, and confirm, ignore or link them. Confirming never calls Dropbox.
func init() {
	routes = append(routes,
		Route{"POST", "/api/v1/apps/{name}/import", (*Server).runImport},
		Route{"GET", "/api/v1/apps/{name}/import/users", (*Server).listAppUsers},
		Route{"GET", "/api/v1/apps/{name}/import/users/{ref}", (*Server).getAppUser},
		Route{"POST", "/api/v1/apps/{name}/import/confirm", (*Server).confirmAppUsers},
		Route{"POST", "/api/v1/apps/{name}/import/ignore", (*Server).ignoreAppUsers},
		Route{"POST", "/api/v1/apps/{name}/import/link", (*Server).linkAppUser},
	)
}

// importer returns the app named in the path and an importer over this
// server's store and connector.
func (s *Server) importer(ctx context.Context, r *http.Request) (app.Instance, *importer.Importer, importer.Store, error) {
	st, ok := s.st.(importer.Store)
	if !ok {
		return app.Instance{}, nil, nil, &apiError{http.StatusServiceUnavailable, "unavailable", "this server's store keeps no imports", nil}
	}
	a, err := s.st.GetApp(ctx, r.PathValue("name"))
	if err != nil {
		return a, nil, nil, err
	}
	return a, importer.New(st, s.opt.Connect, s.log), st, nil
}

// runImport downloads the team and matches it; ?plan=true writes nothing,
// ?allow_vanished=true passes the import safeguard.
func (s *Server) runImport(w http.ResponseWriter, r *http.Request) error {
	a, im, _, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	if s.opt.Connect == nil {
		return errNoEngine
	}
	if !a.HasToken {
		return fmt.Errorf("%w: app %s has no Dropbox token yet; authenticate with Dropbox or set a token first", directory.ErrInvalid, a.Name)
	}
	q := r.URL.Query()
	res, err := im.Run(r.Context(), a, importer.Options{Plan: q.Get("plan") == "true", AllowVanished: q.Get("allow_vanished") == "true", By: actorOf(r)})
	var g *importer.SafeguardError
	var ce *connector.Error
	switch {
	case errors.As(err, &g):
		// The message holds the figures; details stay a list, as clients expect.
		return &apiError{http.StatusConflict, "import_safeguard", g.Error(), nil}
	case errors.As(err, &ce):
		return remoteErr(err)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// appUserView is an app user with the username of its directory user.
type appUserView struct {
	store.AppUser
	Username string `json:"user,omitempty"`
}

func (s *Server) appUserViews(ctx context.Context, aus []store.AppUser) ([]appUserView, error) {
	var ids []int64
	for _, au := range aus {
		if au.UserID != 0 {
			ids = append(ids, au.UserID)
		}
	}
	users, err := s.st.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]appUserView, len(aus))
	for i, au := range aus {
		out[i] = appUserView{au, users[au.UserID].Username}
	}
	return out, nil
}

func (s *Server) listAppUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if err := importer.CheckState(state); err != nil {
		return err
	}
	a, _, st, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	aus, err := st.ListAppUsers(r.Context(), a.ID, state, p)
	if err != nil {
		return err
	}
	views, err := s.appUserViews(r.Context(), aus)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(views, p, func(v appUserView) int64 { return v.ID }))
	return nil
}

func (s *Server) getAppUser(w http.ResponseWriter, r *http.Request) error {
	a, _, st, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	au, err := st.GetAppUser(r.Context(), a.ID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return s.writeAppUser(w, r, au)
}

func (s *Server) writeAppUser(w http.ResponseWriter, r *http.Request, au store.AppUser) error {
	views, err := s.appUserViews(r.Context(), []store.AppUser{au})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views[0])
	return nil
}

// refsInput names app users by ID, member ID or email.
type refsInput struct {
	AppUsers []string `json:"app_users"`
}

// maxRefs bounds one review request; a whole import is confirmed by rule.
const maxRefs = 10000

func (in refsInput) check() error {
	if len(in.AppUsers) == 0 || len(in.AppUsers) > maxRefs {
		return badRequest("app_users must list 1 to %d app users (ID, member ID or email), got %d", maxRefs, len(in.AppUsers))
	}
	return nil
}

func (s *Server) confirmAppUsers(w http.ResponseWriter, r *http.Request) error {
	var in refsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	a, im, _, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	rv, err := im.Confirm(r.Context(), actorOf(r), a, in.AppUsers)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rv)
	return nil
}

func (s *Server) ignoreAppUsers(w http.ResponseWriter, r *http.Request) error {
	var in refsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	a, im, _, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	n, err := im.Ignore(r.Context(), actorOf(r), a, in.AppUsers)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"ignored": n})
	return nil
}

func (s *Server) linkAppUser(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AppUser string `json:"app_user"`
		User    string `json:"user"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AppUser == "" || in.User == "" {
		return badRequest("both app_user (ID, member ID or email) and user (a directory username) are required")
	}
	a, im, _, err := s.importer(r.Context(), r)
	if err != nil {
		return err
	}
	au, err := im.Link(r.Context(), actorOf(r), a, in.AppUser, in.User)
	if err != nil {
		return err
	}
	return s.writeAppUser(w, r, au)
}
