package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Task is a task that needs an admin, with the names of its app and of its
// user or pushed group.
type Task struct {
	store.Task
	App   string `json:"app"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"` // for a pushed group's task
}

// TaskTarget names a task: its app and either its user or its group.
type TaskTarget struct {
	App, User, Group string
}

// Tasks lists the tasks of the named app, or of every app when appName is empty.
func (s *Service) Tasks(ctx context.Context, appName string) ([]Task, error) {
	apps, err := s.st.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	var appID int64
	names := map[int64]string{}
	for _, a := range apps {
		names[a.ID] = a.Name
		if appName != "" && directory.Key(appName) == directory.Key(a.Name) {
			appID = a.ID
		}
	}
	if appName != "" && appID == 0 {
		return nil, fmt.Errorf("%w: app %q", directory.ErrNotFound, appName)
	}
	tasks, err := s.st.ListTasks(ctx, appID)
	if err != nil {
		return nil, err
	}
	return s.namedTasks(ctx, tasks, names)
}

func (s *Service) namedTasks(ctx context.Context, tasks []store.Task, apps map[int64]string) ([]Task, error) {
	ids := make([]int64, len(tasks))
	for i, t := range tasks {
		ids[i] = t.RefID
	}
	users, err := s.st.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	groups, err := s.pushedGroupNames(ctx, tasks)
	if err != nil {
		return nil, err
	}
	out := make([]Task, len(tasks))
	for i, t := range tasks {
		out[i] = Task{Task: t, App: apps[t.AppID]}
		if t.Kind == store.WorkGroup {
			out[i].Group = groups[[2]int64{t.AppID, t.RefID}]
		} else {
			out[i].User = users[t.RefID].Username
		}
	}
	return out, nil
}

// pushedGroupNames names the groups of group tasks, by app and group ID.
func (s *Service) pushedGroupNames(ctx context.Context, tasks []store.Task) (map[[2]int64]string, error) {
	out := map[[2]int64]string{}
	seen := map[int64]bool{}
	for _, t := range tasks {
		if t.Kind != store.WorkGroup || seen[t.AppID] {
			continue
		}
		seen[t.AppID] = true
		pgs, err := s.st.ListPushedGroups(ctx, t.AppID)
		if err != nil {
			return nil, err
		}
		for _, pg := range pgs {
			out[[2]int64{pg.AppID, pg.GroupID}] = pg.Group
		}
	}
	return out, nil
}

// RetryTask queues a task again with fresh attempts; it runs at the next sync.
func (s *Service) RetryTask(ctx context.Context, by store.Actor, tt TaskTarget) error {
	return s.taskAction(ctx, by, "task.retry", tt, s.st.RetryTask)
}

// DismissTask drops a task.
func (s *Service) DismissTask(ctx context.Context, by store.Actor, tt TaskTarget) error {
	return s.taskAction(ctx, by, "task.dismiss", tt, s.st.DismissTask)
}

func (s *Service) taskAction(ctx context.Context, by store.Actor, action string, tt TaskTarget,
	act func(ctx context.Context, by store.Actor, appID int64, kind string, refID int64) error) error {
	if err := s.allow(ctx, by, action, tt.App); err != nil {
		return err
	}
	appID, kind, refID, err := s.taskRef(ctx, tt)
	if err != nil {
		return err
	}
	err = act(ctx, by, appID, kind, refID)
	if errors.Is(err, directory.ErrNotFound) {
		what, name := "user", tt.User
		if tt.Group != "" {
			what, name = "group", tt.Group
		}
		// The store knows IDs only; say it with the names the admin gave.
		return fmt.Errorf("%w: %s %q has no open task in app %s (roster tasks list --app %s shows the open ones)", directory.ErrNotFound, what, name, tt.App, tt.App)
	}
	return err
}

// taskRef resolves a task's names to the app, the kind and the user's or group's ID.
func (s *Service) taskRef(ctx context.Context, tt TaskTarget) (int64, string, int64, error) {
	if (tt.User == "") == (tt.Group == "") {
		return 0, "", 0, fmt.Errorf("%w: name either a user or a group", directory.ErrInvalid)
	}
	a, err := s.st.GetApp(ctx, tt.App)
	if err != nil {
		return 0, "", 0, err
	}
	if tt.Group != "" {
		g, err := s.st.GetGroup(ctx, tt.Group)
		return a.ID, store.WorkGroup, g.ID, err
	}
	u, err := s.st.GetUser(ctx, tt.User)
	return a.ID, store.WorkUser, u.ID, err
}
