package service

import (
	"context"
	"io"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// CreateUser adds a user to the directory; the store validates and fills in
// defaults (an active status when none is given).
func (s *Service) CreateUser(ctx context.Context, by store.Actor, u *directory.User) error {
	if err := s.allow(ctx, by, "user.create", u.Username); err != nil {
		return err
	}
	return s.st.CreateUser(ctx, by, u)
}

// UpdateUser lets edit change the user's fields, then validates and stores
// the result. Status changes go through Transition.
func (s *Service) UpdateUser(ctx context.Context, by store.Actor, username string, edit func(*directory.User) error) (directory.User, error) {
	if err := s.allow(ctx, by, "user.update", username); err != nil {
		return directory.User{}, err
	}
	// Checked again inside the transaction, so a source taking the user
	// over meanwhile still wins.
	return s.st.UpdateUser(ctx, by, username, "user.update", func(u *directory.User) error {
		if err := ownedElsewhere("user", u.Username, u.Source); err != nil {
			return err
		}
		return edit(u)
	})
}

// Transition moves a user through the lifecycle; an action that off-boards
// (suspend, deactivate) needs its impact confirmed first (see Guarded).
func (s *Service) Transition(ctx context.Context, by store.Actor, username string, t directory.Transition, cf Confirm) (directory.User, engine.Impact, error) {
	if err := s.allow(ctx, by, "user."+string(t), username); err != nil {
		return directory.User{}, engine.Impact{}, err
	}
	var u directory.User
	change := func() (err error) {
		u, err = s.st.UpdateUser(ctx, by, username, "user."+string(t), func(u *directory.User) error {
			next, err := t.Apply(u.Status)
			u.Status = next
			return err
		})
		return err
	}
	c, ok := ChangeOf(t, username)
	if !ok {
		return u, engine.Impact{}, change()
	}
	im, err := s.Guarded(ctx, by, c, cf, change)
	return u, im, err
}

// DeleteUser deletes a deactivated user once what it off-boards is confirmed.
func (s *Service) DeleteUser(ctx context.Context, by store.Actor, username string, cf Confirm) (engine.Impact, error) {
	if err := s.allow(ctx, by, "user.delete", username); err != nil {
		return engine.Impact{}, err
	}
	if err := s.ownUser(ctx, username); err != nil {
		return engine.Impact{}, err
	}
	return s.Guarded(ctx, by, engine.DirChange{Users: []string{username}, Delete: true}, cf, func() error {
		return s.st.DeleteUser(ctx, by, username)
	})
}

// ImportUsers creates every user of a CSV, or none; a *csvload.Errors lists
// the rows refused. It says how many were created.
func (s *Service) ImportUsers(ctx context.Context, by store.Actor, csv io.Reader) (int, error) {
	if err := s.allow(ctx, by, "user.import", ""); err != nil {
		return 0, err
	}
	return csvload.Load(ctx, s.st, by, csv)
}

// UpsertUsers creates the users of a CSV whose username is new and updates
// the others, all or none (csvload.Upsert); a *csvload.Errors lists the
// rows refused.
func (s *Service) UpsertUsers(ctx context.Context, by store.Actor, csv io.Reader) (store.UpsertCounts, error) {
	if err := s.allow(ctx, by, "user.import", ""); err != nil {
		return store.UpsertCounts{}, err
	}
	return csvload.Upsert(ctx, s.st, by, csv, ownedElsewhere)
}
