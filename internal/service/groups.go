package service

import (
	"context"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// maxMembers bounds one membership change, so one request stays one short transaction.
const maxMembers = 1000

// ErrMembers refuses a membership change naming no user, or too many.
var ErrMembers = fmt.Errorf("%w: name 1 to %d usernames", directory.ErrInvalid, maxMembers)

// ErrNoGroupPush says that this server's store cannot push groups.
var ErrNoGroupPush = fmt.Errorf("%w: this server's store cannot push groups", directory.ErrInvalid)

// CreateGroup adds a directory group.
func (s *Service) CreateGroup(ctx context.Context, by store.Actor, g *directory.Group) error {
	if err := s.allow(ctx, by, "group.create", g.Name); err != nil {
		return err
	}
	return s.st.CreateGroup(ctx, by, g)
}

// DeleteGroup deletes a group (its users are kept) once what it off-boards is confirmed.
func (s *Service) DeleteGroup(ctx context.Context, by store.Actor, name string, cf Confirm) (engine.Impact, error) {
	if err := s.allow(ctx, by, "group.delete", name); err != nil {
		return engine.Impact{}, err
	}
	if err := s.ownGroup(ctx, name); err != nil {
		return engine.Impact{}, err
	}
	return s.Guarded(ctx, by, engine.DirChange{Group: name, DeleteGroup: true}, cf, func() error {
		return s.st.DeleteGroup(ctx, by, name)
	})
}

// RenameGroup renames a directory group; pushed groups follow at the next sync.
func (s *Service) RenameGroup(ctx context.Context, by store.Actor, name, newName string) (directory.Group, error) {
	gp, ok := s.st.(store.GroupPush)
	if !ok {
		return directory.Group{}, ErrNoGroupPush
	}
	if err := s.allow(ctx, by, "group.rename", name); err != nil {
		return directory.Group{}, err
	}
	if err := s.ownGroup(ctx, name); err != nil {
		return directory.Group{}, err
	}
	return gp.RenameGroup(ctx, by, name, newName)
}

// AddMembers adds users to a group.
func (s *Service) AddMembers(ctx context.Context, by store.Actor, group string, users []string) error {
	if err := s.allow(ctx, by, "group.members.add", group); err != nil {
		return err
	}
	if err := s.ownGroup(ctx, group); err != nil {
		return err
	}
	if len(users) == 0 || len(users) > maxMembers {
		return ErrMembers
	}
	return s.st.AddGroupMembers(ctx, by, group, users)
}

// RemoveMembers removes users from a group once what it off-boards is confirmed.
func (s *Service) RemoveMembers(ctx context.Context, by store.Actor, group string, users []string, cf Confirm) (engine.Impact, error) {
	if err := s.allow(ctx, by, "group.members.remove", group); err != nil {
		return engine.Impact{}, err
	}
	if err := s.ownGroup(ctx, group); err != nil {
		return engine.Impact{}, err
	}
	if len(users) == 0 || len(users) > maxMembers {
		return engine.Impact{}, ErrMembers
	}
	return s.Guarded(ctx, by, engine.DirChange{Group: group, Members: users}, cf, func() error {
		return s.st.RemoveGroupMembers(ctx, by, group, users)
	})
}
