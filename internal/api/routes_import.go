package api

import (
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/service"
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

// importErr says in the API's words why an import or its review could not run.
func importErr(err error) error {
	var g *importer.SafeguardError
	switch {
	case errors.Is(err, service.ErrNoImporter):
		return &apiError{http.StatusServiceUnavailable, "unavailable", "this server's store keeps no imports", nil}
	case errors.As(err, &g):
		// The message holds the figures; details stay a list, as clients expect.
		return &apiError{http.StatusConflict, "import_safeguard", g.Error(), nil}
	}
	return appErr(err)
}

// runImport downloads the team and matches it; ?plan=true writes nothing,
// ?allow_vanished=true passes the import safeguard.
func (s *Server) runImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	res, err := s.svc.RunImport(r.Context(), actorOf(r), r.PathValue("name"),
		importer.Options{Plan: q.Get("plan") == "true", AllowVanished: q.Get("allow_vanished") == "true"})
	if err != nil {
		return importErr(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// appUserView is an app user with the username of its directory user.
type appUserView struct {
	store.AppUser
	Username string `json:"user,omitempty"`
}

func appUserViewOf(row service.ImportRow) appUserView { return appUserView{row.AppUser, row.Username} }

func (s *Server) listAppUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if err := importer.CheckState(state); err != nil {
		return err
	}
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	rows, err := s.svc.ImportRows(r.Context(), a, state, p)
	if err != nil {
		return importErr(err)
	}
	views := make([]appUserView, len(rows))
	for i, row := range rows {
		views[i] = appUserViewOf(row)
	}
	writeJSON(w, http.StatusOK, listOf(views, p, func(v appUserView) int64 { return v.ID }))
	return nil
}

func (s *Server) getAppUser(w http.ResponseWriter, r *http.Request) error {
	row, err := s.svc.ImportRow(r.Context(), r.PathValue("name"), r.PathValue("ref"))
	if err != nil {
		return importErr(err)
	}
	writeJSON(w, http.StatusOK, appUserViewOf(row))
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
	rv, err := s.svc.ConfirmImport(r.Context(), actorOf(r), r.PathValue("name"), in.AppUsers)
	if err != nil {
		return importErr(err)
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
	n, err := s.svc.IgnoreImport(r.Context(), actorOf(r), r.PathValue("name"), in.AppUsers)
	if err != nil {
		return importErr(err)
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
	row, err := s.svc.LinkImport(r.Context(), actorOf(r), r.PathValue("name"), in.AppUser, in.User)
	if err != nil {
		return importErr(err)
	}
	writeJSON(w, http.StatusOK, appUserViewOf(row))
	return nil
}
