package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

type groupsView struct {
	Groups            []directory.Group
	Name, Description string
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.groupsView(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "groups", page{Title: "Groups", Nav: "groups", Data: v})
	return nil
}

func (s *Server) groupsView(r *http.Request) (groupsView, error) {
	var v groupsView
	for after := int64(0); ; {
		gs, err := s.st.ListGroups(r.Context(), store.Page{After: after, Limit: 1000})
		if err != nil {
			return v, err
		}
		v.Groups = append(v.Groups, gs...)
		if len(gs) < 1000 {
			return v, nil
		}
		after = gs[len(gs)-1].ID
	}
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	g := directory.Group{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
	if err := s.svc.CreateGroup(r.Context(), actorOf(r), &g); err != nil {
		v, verr := s.groupsView(r)
		if verr != nil {
			return verr
		}
		v.Name, v.Description = g.Name, g.Description
		return s.refused(w, r, err, "groups", "Groups", "groups", v)
	}
	s.redirect(w, r, "/groups/"+url.PathEscape(g.Name), "ok", "Group "+g.Name+" created.")
	return nil
}

type groupView struct {
	Group       directory.Group
	Members     []directory.User
	More        bool // more members than shown
	Assignments []directory.Assignment
	Apps        []app.Instance
	Roles       []directory.Role
	AddUsers    string // as typed, when adding failed
}

const groupMembersShown = 500

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.groupView(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "group", page{Title: v.Group.Name, Nav: "groups", Data: v})
	return nil
}

func (s *Server) groupView(r *http.Request, name string) (groupView, error) {
	v := groupView{Roles: directory.Roles}
	var err error
	if v.Group, err = s.st.GetGroup(r.Context(), name); err != nil {
		return v, err
	}
	if v.Members, err = s.st.ListUsers(r.Context(), store.UserFilter{Group: v.Group.Name, Page: store.Page{Limit: groupMembersShown}}); err != nil {
		return v, err
	}
	v.More = len(v.Members) == groupMembersShown
	if v.Assignments, err = s.st.ListAssignments(r.Context(), store.AssignmentFilter{Group: v.Group.Name}); err != nil {
		return v, err
	}
	v.Apps, err = s.st.ListApps(r.Context())
	return v, err
}

func groupURL(name string) string { return "/groups/" + url.PathEscape(name) }

// addMembers takes usernames separated by commas, spaces or lines.
func (s *Server) addMembers(w http.ResponseWriter, r *http.Request) error {
	name, typed := r.PathValue("name"), r.PostForm.Get("users")
	users := strings.FieldsFunc(typed, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if err := s.svc.AddMembers(r.Context(), actorOf(r), name, users); err != nil {
		v, verr := s.groupView(r, name)
		if verr != nil {
			return verr
		}
		v.AddUsers = typed
		return s.refused(w, r, err, "group", v.Group.Name, "groups", v)
	}
	s.redirect(w, r, groupURL(name), "ok", fmt.Sprintf("Added %d member(s).", len(users)))
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	name, user := r.PathValue("name"), r.PostForm.Get("user")
	im, err := s.svc.RemoveMembers(r.Context(), actorOf(r), name, []string{user}, formConfirm(r))
	done, err := s.confirmed(w, r, err, fmt.Sprintf("remove %s from group %s", user, name), groupURL(name))
	if err != nil {
		return s.actionFailed(w, r, groupURL(name), err)
	}
	if done {
		s.redirect(w, r, groupURL(name), "ok", user+" removed from the group."+offboarded(im))
	}
	return nil
}

func (s *Server) assignGroup(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	a := directory.Assignment{AppName: r.PostForm.Get("app"), GroupName: name, Role: directory.Role(r.PostForm.Get("role"))}
	if err := s.svc.Assign(r.Context(), actorOf(r), &a); err != nil {
		return s.actionFailed(w, r, groupURL(name), err)
	}
	s.redirect(w, r, groupURL(name), "ok", fmt.Sprintf("Group %s assigned to %s as %s; its members are queued for the next sync.", name, a.AppName, a.Role))
	return nil
}

func (s *Server) unassignGroup(w http.ResponseWriter, r *http.Request) error {
	name, appName := r.PathValue("name"), r.PostForm.Get("app")
	im, err := s.svc.Unassign(r.Context(), actorOf(r), appName, "", name, formConfirm(r))
	done, err := s.confirmed(w, r, err, fmt.Sprintf("unassign group %s from %s", name, appName), groupURL(name))
	if err != nil {
		return s.actionFailed(w, r, groupURL(name), err)
	}
	if done {
		s.redirect(w, r, groupURL(name), "ok", fmt.Sprintf("Group %s unassigned from %s.%s", name, appName, offboarded(im)))
	}
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if r.PostForm.Get("confirm") != name {
		s.redirect(w, r, groupURL(name), "error", "To delete the group, type its name exactly in the box.")
		return nil
	}
	im, err := s.svc.DeleteGroup(r.Context(), actorOf(r), name, formConfirm(r))
	done, err := s.confirmed(w, r, err, "delete group "+name, groupURL(name))
	if err != nil {
		return s.actionFailed(w, r, groupURL(name), err)
	}
	if done {
		s.redirect(w, r, "/groups", "ok", "Group "+name+" deleted; its users are kept."+offboarded(im))
	}
	return nil
}
