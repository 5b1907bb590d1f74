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
	"github.com/roster-dev/roster/internal/store"
)

type taskRow struct {
	store.Task
	App, User string
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	tasks, err := s.st.ListTasks(r.Context(), 0)
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
	rows := make([]taskRow, len(tasks))
	for i, t := range tasks {
		rows[i] = taskRow{t, names[t.AppID], users[t.RefID].Username}
	}
	s.render(w, r, http.StatusOK, "tasks", page{Title: "Tasks", Nav: "tasks", Data: rows})
	return nil
}

func (s *Server) taskTarget(r *http.Request) (int64, int64, error) {
	a, err := s.st.GetApp(r.Context(), r.PostForm.Get("app"))
	if err != nil {
		return 0, 0, err
	}
	u, err := s.st.GetUser(r.Context(), r.PostForm.Get("user"))
	if err != nil {
		return 0, 0, err
	}
	return a.ID, u.ID, nil
}

func (s *Server) retryTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.st.RetryTask, "queued again; it runs at the next sync")
}

func (s *Server) dismissTask(w http.ResponseWriter, r *http.Request) error {
	return s.taskAction(w, r, s.st.DismissTask, "dismissed")
}

func (s *Server) taskAction(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, by store.Actor, appID int64, kind string, refID int64) error, done string) error {
	appID, userID, err := s.taskTarget(r)
	if err == nil {
		err = act(r.Context(), actorOf(r), appID, store.WorkUser, userID)
	}
	if err != nil {
		return s.actionFailed(w, r, "/tasks", err)
	}
	s.redirect(w, r, "/tasks", "ok", fmt.Sprintf("Task of %s in %s %s.", r.PostForm.Get("user"), r.PostForm.Get("app"), done))
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
		at, err := parseWhen(v.F["since"], time.Now())
		if err != nil {
			return fmt.Errorf("%w: since: write a duration such as 24h or a time such as 2026-01-02T15:04:05Z", directory.ErrInvalid)
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

// parseWhen accepts a duration ago (such as 24h) or an RFC 3339 time.
func parseWhen(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	return time.Parse(time.RFC3339, v)
}
