package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

var routes []Route

func init() {
	routes = []Route{
		{"GET", "/api/v1/users", (*Server).listUsers},
		{"POST", "/api/v1/users", (*Server).createUser},
		{"POST", "/api/v1/users/import", (*Server).importUsers},
		{"GET", "/api/v1/users/{username}", (*Server).getUser},
		{"PATCH", "/api/v1/users/{username}", (*Server).updateUser},
		{"DELETE", "/api/v1/users/{username}", (*Server).deleteUser},
		{"GET", "/api/v1/groups", (*Server).listGroups},
		{"POST", "/api/v1/groups", (*Server).createGroup},
		{"GET", "/api/v1/groups/{name}", (*Server).getGroup},
		{"DELETE", "/api/v1/groups/{name}", (*Server).deleteGroup},
		{"GET", "/api/v1/groups/{name}/members", (*Server).listMembers},
		{"POST", "/api/v1/groups/{name}/members", (*Server).addMembers},
		{"POST", "/api/v1/groups/{name}/members/remove", (*Server).removeMembers},
		{"GET", "/api/v1/apps", (*Server).listApps},
		{"POST", "/api/v1/apps", (*Server).createApp},
		{"GET", "/api/v1/apps/{name}", (*Server).getApp},
		{"PATCH", "/api/v1/apps/{name}", (*Server).updateApp},
		{"PUT", "/api/v1/apps/{name}/token", (*Server).setAppToken},
		{"GET", "/api/v1/apps/{name}/work", (*Server).listWork},
		{"GET", "/api/v1/assignments", (*Server).listAssignments},
		{"POST", "/api/v1/assignments", (*Server).assign},
		{"DELETE", "/api/v1/assignments", (*Server).unassign},
		{"GET", "/api/v1/log", (*Server).listLog},
		{"GET", "/api/v1/tokens", (*Server).listTokens},
		{"POST", "/api/v1/tokens", (*Server).createToken},
		{"DELETE", "/api/v1/tokens/{id}", (*Server).deleteToken},
		{"GET", "/api/v1/sources", (*Server).listSources},
		{"POST", "/api/v1/sources", (*Server).createSource},
		{"GET", "/api/v1/sources/{name}", (*Server).getSource},
		{"PATCH", "/api/v1/sources/{name}", (*Server).updateSource},
		{"DELETE", "/api/v1/sources/{name}", (*Server).deleteSource},
		{"POST", "/api/v1/sources/{name}/rotate-token", (*Server).rotateSourceToken},
		{"POST", "/api/v1/sources/{name}/sync", (*Server).syncSource},
	}
	for _, t := range directory.Transitions() {
		routes = append(routes, Route{"POST", "/api/v1/users/{username}/" + string(t), transitionHandler(t)})
	}
}

// List is the envelope of every list answer. Next, when set, is the value to
// pass as ?after= for the following page.
type List[T any] struct {
	Items []T  `json:"items"`
	Next  *int `json:"next,omitempty"`
}

func page(r *http.Request) (store.Page, error) {
	var p store.Page
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, badRequest("after must be a non-negative whole number, got %q", v)
		}
		p.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return p, badRequest("limit must be between 1 and 1000, got %q", v)
		}
		p.Limit = n
	}
	if p.Limit == 0 {
		p.Limit = 100
	}
	return p, nil
}

func listOf[T any](items []T, p store.Page, id func(T) int64) List[T] {
	l := List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(items) == p.Limit && len(items) > 0 {
		n := int(id(items[len(items)-1]))
		l.Next = &n
	}
	return l
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.UserFilter{Page: p, Status: directory.Status(q.Get("status")), Search: q.Get("search"), Group: q.Get("group")}
	if f.Status != "" && !f.Status.Valid() {
		return badRequest("status %q is not one of staged, active, suspended, deprovisioned", f.Status)
	}
	if f.Source, err = sourceParam(r); err != nil {
		return err
	}
	users, err := s.st.ListUsers(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(users, p, func(u directory.User) int64 { return u.ID }))
	return nil
}

// sourceParam reads ?source=, which narrows a list to what one source owns.
func sourceParam(r *http.Request) (string, error) {
	src := r.URL.Query().Get("source")
	if src != "" && !directory.ValidSource(src) {
		return "", badRequest("source %q is not a source name (such as api)", src)
	}
	return src, nil
}

// userInput is what a client may set on a user; pointers tell "absent" from "empty".
type userInput struct {
	Username   *string            `json:"username"`
	Email      *string            `json:"email"`
	FirstName  *string            `json:"first_name"`
	LastName   *string            `json:"last_name"`
	Status     *directory.Status  `json:"status"`
	Attributes map[string]*string `json:"attributes"`
}

// apply copies the given fields; an attribute set to null is removed.
func (in userInput) apply(u *directory.User) {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&u.Username, in.Username}, {&u.Email, in.Email}, {&u.FirstName, in.FirstName}, {&u.LastName, in.LastName}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	for k, v := range in.Attributes {
		if v == nil {
			delete(u.Attributes, k)
			continue
		}
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		u.Attributes[k] = *v
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var u directory.User
	in.apply(&u)
	if in.Status != nil {
		u.Status = *in.Status
	}
	if err := s.svc.CreateUser(r.Context(), actorOf(r), &u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.st.GetUser(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Status != nil {
		return badRequest("status changes through the lifecycle actions: POST /api/v1/users/{username}/activate|suspend|unsuspend|deactivate|reactivate")
	}
	u, err := s.svc.UpdateUser(r.Context(), actorOf(r), r.PathValue("username"), func(u *directory.User) error {
		in.apply(u)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func transitionHandler(t directory.Transition) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		u, _, err := s.svc.Transition(r.Context(), actorOf(r), r.PathValue("username"), t, confirmOf(r))
		if err != nil {
			return confirmErr(err)
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.DeleteUser(r.Context(), actorOf(r), r.PathValue("username"), confirmOf(r)); err != nil {
		return confirmErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

const maxCSVBody = 64 << 20

// importUsers adds the users of a CSV, all or none; with ?update=true it
// also updates the users it names that exist (by username).
func (s *Server) importUsers(w http.ResponseWriter, r *http.Request) error {
	body := http.MaxBytesReader(w, r.Body, maxCSVBody)
	var n int
	var err error
	var counts store.UpsertCounts
	update := r.URL.Query().Get("update") == "true"
	if update {
		counts, err = s.svc.UpsertUsers(r.Context(), actorOf(r), body)
	} else {
		n, err = s.svc.ImportUsers(r.Context(), actorOf(r), body)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{http.StatusRequestEntityTooLarge, "too_large", "the CSV is larger than 64 MiB; split it", nil}
	}
	if err != nil {
		return err
	}
	if update {
		writeJSON(w, http.StatusOK, counts)
		return nil
	}
	writeJSON(w, http.StatusCreated, map[string]int{"created": n})
	return nil
}

// messageOf is an error's message; a CSV's problems are in its details,
// one per line, so the message only counts them (each is said once).
func messageOf(err error) string {
	var rows *csvload.Errors
	if errors.As(err, &rows) {
		return rows.Summary()
	}
	return err.Error()
}

// detailsOf exposes per-row CSV problems in the error envelope.
func detailsOf(err error) any {
	var rows *csvload.Errors
	if errors.As(err, &rows) {
		return rows.Rows
	}
	return nil
}

func (s *Server) listLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), TargetKind: q.Get("target_kind"),
		Target: q.Get("target"), App: q.Get("app"), Outcome: q.Get("outcome")}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(t.name); v != "" {
			at, err := service.ParseWhen(v, time.Now())
			if err != nil {
				return badRequest("%s: %v", t.name, err)
			}
			*t.dst = at
		}
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return badRequest("before must be a positive whole number, got %q", v)
		}
		f.Before = n
	}
	f.Limit = p.Limit
	entries, err := s.st.ListLog(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(entries, p, func(e audit.Entry) int64 { return e.ID }))
	return nil
}
