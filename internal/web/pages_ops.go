package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

type taskRow struct {
	service.Task
	Help taskHelp
	Of   string // "alice" or "group Sales"
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.svc.Tasks(r.Context(), "")
	if err != nil {
		return err
	}
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	kinds := map[string]string{}
	for _, a := range apps {
		kinds[a.Name] = a.Kind
	}
	rows := make([]taskRow, len(tasks))
	for i, t := range tasks {
		rows[i] = taskRow{Task: t, Help: explainTask(s.opt.Kinds, kinds[t.App], t.LastError, t.Attempts), Of: t.User}
		if t.Group != "" {
			rows[i].Of = "group " + t.Group
		}
	}
	s.render(w, r, http.StatusOK, "tasks", page{Title: "Tasks", Nav: "tasks", Data: rows})
	return nil
}

// retryAllTasks queues every open task again (of one app, when named): for
// when a common cause, such as the licence limit, is fixed.
func (s *Server) retryAllTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.svc.Tasks(r.Context(), r.PostForm.Get("app"))
	if err != nil {
		return s.actionFailed(w, r, "/tasks", err)
	}
	n := 0
	for _, t := range tasks {
		if err := s.svc.RetryTask(r.Context(), actorOf(r), service.TaskTarget{App: t.App, User: t.User, Group: t.Group}); err != nil {
			return s.actionFailed(w, r, "/tasks", fmt.Errorf("%d task(s) queued again, then: %w", n, err))
		}
		n++
	}
	s.redirect(w, r, "/tasks", "ok", fmt.Sprintf("%d task(s) queued again; they run at the next sync.", n))
	return nil
}

func (s *Server) retryTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.svc.RetryTask, "queued again; it runs at the next sync")
}

func (s *Server) dismissTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.svc.DismissTask, "dismissed")
}

func (s *Server) taskAction(w http.ResponseWriter, r *http.Request, act func(context.Context, store.Actor, service.TaskTarget) error, done string) error {
	f := r.PostForm
	if err := act(r.Context(), actorOf(r), service.TaskTarget{App: f.Get("app"), User: f.Get("user"), Group: f.Get("group")}); err != nil {
		return s.actionFailed(w, r, "/tasks", err)
	}
	of := f.Get("user")
	if g := f.Get("group"); g != "" {
		of = "group " + g
	}
	s.redirect(w, r, "/tasks", "ok", fmt.Sprintf("Task of %s in %s %s.", of, f.Get("app"), done))
	return nil
}

type pendingView struct {
	App      app.Instance
	Accounts []pendingRow
}

type pendingRow struct {
	store.Account
	User string
}

// pendingPage lists silently provisioned members who have not signed in yet.
func (s *Server) pendingPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.st.GetApp(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	v := pendingView{App: a}
	for after := int64(0); ; {
		accts, err := s.st.ListAccounts(r.Context(), a.ID, store.Page{After: after, Limit: 5000})
		if err != nil {
			return err
		}
		if err := s.addPending(r, &v, accts); err != nil {
			return err
		}
		if len(accts) < 5000 {
			break
		}
		after = accts[len(accts)-1].UserID
	}
	s.render(w, r, http.StatusOK, "pending", page{Title: "Pending activations: " + a.Name, Nav: "apps", Data: v})
	return nil
}

func (s *Server) addPending(r *http.Request, v *pendingView, accts []store.Account) error {
	var rows []store.Account
	var ids []int64
	for _, ac := range accts {
		if ac.Silent && ac.Status == string(connector.StatusInvited) {
			rows, ids = append(rows, ac), append(ids, ac.UserID)
		}
	}
	users, err := s.st.UsersByID(r.Context(), ids)
	if err != nil {
		return err
	}
	for _, ac := range rows {
		v.Accounts = append(v.Accounts, pendingRow{ac, users[ac.UserID].Username})
	}
	return nil
}

type logView struct {
	Entries []audit.Entry
	F       map[string]string
	Apps    []app.Instance
	Next    string
}

var logFilters = []string{"actor", "action", "app", "target", "outcome", "since"}

const logPageSize = 100

func (s *Server) logPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := logView{F: map[string]string{}}
	for _, k := range logFilters {
		v.F[k] = strings.TrimSpace(q.Get(k))
	}
	f := audit.Filter{Actor: v.F["actor"], Action: v.F["action"], App: v.F["app"], Target: v.F["target"], Outcome: v.F["outcome"], Limit: logPageSize}
	if v.F["since"] != "" {
		at, err := service.ParseWhen(v.F["since"], time.Now())
		if err != nil {
			return fmt.Errorf("%w: since: %w", directory.ErrInvalid, err)
		}
		f.Since = at
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	var err error
	if v.Entries, err = s.st.ListLog(r.Context(), f); err != nil {
		return err
	}
	if v.Apps, err = s.st.ListApps(r.Context()); err != nil {
		return err
	}
	if len(v.Entries) == logPageSize {
		next := url.Values{"before": {strconv.FormatInt(v.Entries[len(v.Entries)-1].ID, 10)}}
		for k, val := range v.F {
			next.Set(k, val)
		}
		v.Next = next.Encode()
	}
	s.render(w, r, http.StatusOK, "log", page{Title: "System log", Nav: "log", Data: v})
	return nil
}
