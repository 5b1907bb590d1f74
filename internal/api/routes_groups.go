package api

import (
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	src, err := sourceParam(r)
	if err != nil {
		return err
	}
	groups, err := s.st.FilterGroups(r.Context(), store.GroupFilter{Page: p, Source: src})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(groups, p, func(g directory.Group) int64 { return g.ID }))
	return nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	var g directory.Group
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	g.Name, g.Description = in.Name, in.Description
	if err := s.svc.CreateGroup(r.Context(), actorOf(r), &g); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.st.GetGroup(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.DeleteGroup(r.Context(), actorOf(r), r.PathValue("name"), confirmOf(r)); err != nil {
		return confirmErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	if _, err := s.st.GetGroup(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	users, err := s.st.ListUsers(r.Context(), store.UserFilter{Page: p, Group: r.PathValue("name")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(users, p, func(u directory.User) int64 { return u.ID }))
	return nil
}

type membersInput struct {
	Users []string `json:"users"`
}

func (s *Server) changeMembers(w http.ResponseWriter, r *http.Request, add bool) error {
	var in membersInput
	if err := decode(r, &in); err != nil {
		return err
	}
	group := r.PathValue("name")
	var err error
	if add {
		err = s.svc.AddMembers(r.Context(), actorOf(r), group, in.Users)
	} else {
		_, err = s.svc.RemoveMembers(r.Context(), actorOf(r), group, in.Users, confirmOf(r))
	}
	if errors.Is(err, service.ErrMembers) {
		return badRequest("users must list 1 to 1000 usernames")
	}
	if err != nil {
		return confirmErr(err)
	}
	return s.getGroup(w, r)
}

func (s *Server) addMembers(w http.ResponseWriter, r *http.Request) error {
	return s.changeMembers(w, r, true)
}

func (s *Server) removeMembers(w http.ResponseWriter, r *http.Request) error {
	return s.changeMembers(w, r, false)
}
