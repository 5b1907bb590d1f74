package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// userForm holds a user form as typed, so a refused form is shown again intact.
type userForm struct {
	Username, Email, FirstName, LastName, Attributes, Status string
}

func formOf(r *http.Request) userForm {
	f := r.PostForm
	return userForm{Username: f.Get("username"), Email: f.Get("email"), FirstName: f.Get("first_name"),
		LastName: f.Get("last_name"), Attributes: f.Get("attributes"), Status: f.Get("status")}
}

func formFromUser(u directory.User) userForm {
	keys := make([]string, 0, len(u.Attributes))
	for k := range u.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + u.Attributes[k]
	}
	return userForm{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Attributes: strings.Join(lines, "\n"), Status: string(u.Status)}
}

// apply copies the form onto u; attributes are "name=value" lines.
func (f userForm) apply(u *directory.User) error {
	u.Username, u.Email, u.FirstName, u.LastName = f.Username, f.Email, f.FirstName, f.LastName
	attrs := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(f.Attributes, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%w: attributes line %d: write name=value", directory.ErrInvalid, i+1)
		}
		attrs[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	u.Attributes = attrs
	return nil
}

type newUserView struct {
	Form     userForm
	Statuses []directory.Status
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request) error {
	v := newUserView{Form: userForm{Status: string(directory.StatusActive)}, Statuses: []directory.Status{directory.StatusActive, directory.StatusStaged}}
	s.render(w, r, http.StatusOK, "user_new", page{Title: "New user", Nav: "users", Data: v})
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	form := formOf(r)
	u := directory.User{Status: directory.Status(form.Status)}
	err := form.apply(&u)
	if err == nil {
		err = s.svc.CreateUser(r.Context(), actorOf(r), &u)
	}
	if err != nil {
		return s.refused(w, r, err, "user_new", "New user", "users",
			newUserView{Form: form, Statuses: []directory.Status{directory.StatusActive, directory.StatusStaged}})
	}
	s.redirect(w, r, "/users/"+url.PathEscape(u.Username), "ok", "User "+u.Username+" created.")
	return nil
}

// refused shows a form again with what was typed and why it was refused, for
// errors an admin can fix; other errors go to the error page.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error, name, title, nav string, data any) error {
	status, _ := s.classify(r, err)
	if status != http.StatusBadRequest && status != http.StatusConflict && status != http.StatusNotFound {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, name, page{Title: title, Nav: nav, Errors: problems(err), Data: data})
	return nil
}

type appAccess struct {
	App      app.Instance
	Assigned bool
	Role     directory.Role
	Account  *store.Account
	Leaving  string // what deactivating this user does in the app
	// Offboarding is where the user's off-boarding from the app stands, if any.
	Offboarding     *store.Offboarding
	OffboardingText string
}

type userView struct {
	User        directory.User
	Form        userForm
	Actions     []directory.Transition
	Assignments []directory.Assignment
	Access      []appAccess
	Apps        []app.Instance
	Roles       []string
	Groups      []string // the groups the user is in
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.st.GetUser(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	v, err := s.userView(r, u, formFromUser(u))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "user", page{Title: u.Username, Nav: "users", Data: v})
	return nil
}

func (s *Server) userView(r *http.Request, u directory.User, form userForm) (userView, error) {
	v := userView{User: u, Form: form, Roles: s.opt.Kinds.Roles()}
	for _, t := range directory.Transitions() {
		if _, err := t.Apply(u.Status); err == nil {
			v.Actions = append(v.Actions, t)
		}
	}
	var err error
	if v.Assignments, err = s.st.ListAssignments(r.Context(), store.AssignmentFilter{User: u.Username}); err != nil {
		return v, err
	}
	if v.Apps, err = s.st.ListApps(r.Context()); err != nil {
		return v, err
	}
	groups, err := s.st.UserGroups(r.Context(), []int64{u.ID})
	if err != nil {
		return v, err
	}
	v.Groups = groups[u.ID]
	for _, a := range v.Apps {
		acc, err := s.access(r, a, u.ID)
		if err != nil {
			return v, err
		}
		v.Access = append(v.Access, acc)
	}
	return v, nil
}

func (s *Server) access(r *http.Request, a app.Instance, userID int64) (appAccess, error) {
	acc := appAccess{App: a, Leaving: leavingText(a.Settings)}
	roles, err := s.st.EffectiveRoles(r.Context(), a.ID, []int64{userID})
	if err != nil {
		return acc, err
	}
	acc.Role, acc.Assigned = roles[userID]
	known, err := s.st.Accounts(r.Context(), a.ID, []int64{userID})
	if err != nil {
		return acc, err
	}
	if k, ok := known[userID]; ok {
		acc.Account = &k
	}
	obs, err := s.st.Offboardings(r.Context(), a.ID, []int64{userID})
	if err != nil {
		return acc, err
	}
	if ob, ok := obs[userID]; ok {
		acc.Offboarding, acc.OffboardingText = &ob, offboardingText(ob, acc.Account)
	}
	return acc, nil
}

// leavingText says in a few words what off-boarding does under these settings.
func leavingText(st app.Settings) string {
	if !st.Provisioning || !st.Features.PushDeactivation {
		return "nothing (push user deactivation is off)"
	}
	d := st.Deactivation
	if d.Type == app.DeactivateSuspend {
		return "suspend the member; files are kept"
	}
	text := "remove the member"
	if d.RemoveAfter != "" {
		text = "suspend the member now and remove them after " + d.RemoveAfter
	}
	if d.WipeData {
		text += ", wipe linked devices"
	}
	if d.FileManagement == app.FilesTransfer {
		return text + ", transfer their files to " + d.TransferDest + " (once, irreversible)"
	}
	return text + "; files are managed in Dropbox"
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	form := formOf(r)
	u, err := s.svc.UpdateUser(r.Context(), actorOf(r), r.PathValue("username"), form.apply)
	if err != nil {
		cur, gerr := s.st.GetUser(r.Context(), r.PathValue("username"))
		if gerr != nil {
			return gerr
		}
		v, verr := s.userView(r, cur, form)
		if verr != nil {
			return verr
		}
		return s.refused(w, r, err, "user", cur.Username, "users", v)
	}
	s.redirect(w, r, "/users/"+url.PathEscape(u.Username), "ok", "Saved.")
	return nil
}

func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request) error {
	name, t := r.PathValue("username"), directory.Transition(r.PathValue("action"))
	back := "/users/" + url.PathEscape(name)
	_, im, err := s.svc.Transition(r.Context(), actorOf(r), name, t, formConfirm(r))
	done, err := s.confirmed(w, r, err, fmt.Sprintf("%s %s", t, name), back)
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	if done {
		s.redirect(w, r, back, "ok", fmt.Sprintf("%s: %s done.%s Apps catch up at their next sync; preview it under each app's plan.", name, t, offboarded(im)))
	}
	return nil
}

// deleteUser deletes a deactivated user, once what it off-boards is confirmed.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("username")
	back := "/users/" + url.PathEscape(name)
	im, err := s.svc.DeleteUser(r.Context(), actorOf(r), name, formConfirm(r))
	done, err := s.confirmed(w, r, err, "delete "+name, back)
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	if done {
		s.redirect(w, r, "/users", "ok", "User "+name+" deleted."+offboarded(im))
	}
	return nil
}

func (s *Server) assignUser(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("username")
	a := directory.Assignment{AppName: r.PostForm.Get("app"), Username: name, Role: directory.Role(r.PostForm.Get("role"))}
	back := "/users/" + url.PathEscape(name)
	if err := s.svc.Assign(r.Context(), actorOf(r), &a); err != nil {
		return s.actionFailed(w, r, back, err)
	}
	s.redirect(w, r, back, "ok", fmt.Sprintf("%s assigned to %s as %s.", name, a.AppName, a.Role))
	return nil
}

func (s *Server) unassignUser(w http.ResponseWriter, r *http.Request) error {
	name, appName := r.PathValue("username"), r.PostForm.Get("app")
	back := "/users/" + url.PathEscape(name)
	im, err := s.svc.Unassign(r.Context(), actorOf(r), appName, name, "", formConfirm(r))
	done, err := s.confirmed(w, r, err, fmt.Sprintf("unassign %s from %s", name, appName), back)
	if err != nil {
		return s.actionFailed(w, r, back, err)
	}
	if done {
		s.redirect(w, r, back, "ok", fmt.Sprintf("%s unassigned from %s.%s", name, appName, offboarded(im)))
	}
	return nil
}
