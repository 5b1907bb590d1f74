package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// assignmentsView is an app's Assignments tab: who is assigned, directly
// or through a group, with which role.
type assignmentsView struct {
	App             app.Instance
	Users, Groups   []directory.Assignment
	Roles           []string
	Who, Role, Kind string // as typed, when assigning was refused
}

func (s *Server) assignmentsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.assignmentsView(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "assignments", page{Title: "Assignments: " + v.App.Name, Nav: "apps", Data: v})
	return nil
}

func (s *Server) assignmentsView(r *http.Request, name string) (assignmentsView, error) {
	a, err := s.st.GetApp(r.Context(), name)
	if err != nil {
		return assignmentsView{}, err
	}
	v := assignmentsView{App: a, Roles: kindRoles(s.opt.Kinds, a.Kind), Kind: "group"}
	as, err := s.st.ListAssignments(r.Context(), store.AssignmentFilter{App: a.Name})
	if err != nil {
		return v, err
	}
	for _, x := range as {
		if x.GroupName != "" {
			v.Groups = append(v.Groups, x)
		} else {
			v.Users = append(v.Users, x)
		}
	}
	return v, nil
}

// assignFromApp assigns a user or a group to the app, through the service.
func (s *Server) assignFromApp(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	f := r.PostForm
	who, kind := strings.TrimSpace(f.Get("who")), f.Get("kind")
	as := directory.Assignment{AppName: name, Role: directory.Role(f.Get("role"))}
	if kind == "user" {
		as.Username = who
	} else {
		as.GroupName = who
	}
	back := appURL(name) + "/assignments"
	if err := s.svc.Assign(r.Context(), actorOf(r), &as); err != nil {
		v, verr := s.assignmentsView(r, name)
		if verr != nil {
			return verr
		}
		v.Who, v.Role, v.Kind = who, f.Get("role"), kind
		return s.refused(w, r, err, "assignments", "Assignments: "+v.App.Name, "apps", v)
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("%s %s assigned to %s as %s; the next sync gives them accounts.", kind, who, name, as.Role))
	return nil
}
