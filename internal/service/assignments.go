package service

import (
	"context"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// Assign gives a user or a group access to an app with a role; the store
// validates the assignment and queues the users it reaches.
func (s *Service) Assign(ctx context.Context, by store.Actor, a *directory.Assignment) error {
	if err := s.allow(ctx, by, "assignment.create", a.AppName); err != nil {
		return err
	}
	return s.st.Assign(ctx, by, a)
}

// Unassign takes a user's or a group's access to an app away once what it
// off-boards is confirmed; name user or group, not both.
func (s *Service) Unassign(ctx context.Context, by store.Actor, appName, user, group string, cf Confirm) (engine.Impact, error) {
	if err := s.allow(ctx, by, "assignment.delete", appName); err != nil {
		return engine.Impact{}, err
	}
	c := engine.DirChange{Unassign: true, App: appName, User: user, Group: group}
	return s.Guarded(ctx, by, c, cf, func() error {
		return s.st.Unassign(ctx, by, appName, user, group)
	})
}
