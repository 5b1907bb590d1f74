package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// The use cases a directory source (a SCIM client) runs. A source acts as
// itself ("source:NAME" in the system log) and changes only what it owns.
// Its changes are not confirmed by an admin: the deletion guard of each app
// holds a mass off-boarding they would cause, as it does an import's.
// Each change queues its app work in its own transaction and wakes this
// process's worker, which claims it at once.

// ErrNoSourceDirectory says that this server's store cannot take a source's writes.
var ErrNoSourceDirectory = fmt.Errorf("%w: this server's store cannot take a directory source's changes", directory.ErrInvalid)

// SourceActor is who a source's changes are logged as.
func SourceActor(src store.Source) store.Actor { return store.Actor("source:" + src.Name) }

func (s *Service) sourceDir() (store.SourceDirectory, error) {
	sd, ok := s.st.(store.SourceDirectory)
	if !ok {
		return nil, ErrNoSourceDirectory
	}
	return sd, nil
}

// Wake tells this process's worker that a change may have queued work, so
// it claims it at once; the API calls it after each change it makes.
func (s *Service) Wake() { s.wake() }

// workNotifier is a store shared by several processes (PostgreSQL) that
// can tell their workers that work was queued.
type workNotifier interface {
	NotifyWork(ctx context.Context) error
}

// wake tells this process's worker that work was queued, and the workers
// of other processes sharing the store (a fleet's --role api process makes
// changes its workers claim): a notice lost only waits for their idle tick.
func (s *Service) wake() {
	if s.opt.Wake != nil {
		s.opt.Wake()
	}
	if n, ok := s.st.(workNotifier); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = n.NotifyWork(ctx)
	}
}

// UserTakenError refuses a source's new user whose username (or email)
// another owner's user holds, when the source may not adopt it.
type UserTakenError struct {
	Username string
	Owner    string // the owner of the user holding it; "" when it is the email that is taken
	Err      error
}

func (e *UserTakenError) Error() string {
	if e.Owner == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("user %s exists already and belongs to source %s; set adopt on this source to take it over", e.Username, e.Owner)
}

func (e *UserTakenError) Unwrap() error { return directory.ErrConflict }

// SourceCreateUser adds a user the source owns. A user of that username
// that another owner holds is taken over when the source's adopt setting
// allows it (fill then sets its fields, in the same transaction, logged as
// user.adopt); otherwise it is a *UserTakenError.
func (s *Service) SourceCreateUser(ctx context.Context, src store.Source, u directory.User, fill func(*directory.User) error) (directory.User, bool, error) {
	sd, err := s.sourceDir()
	if err != nil {
		return u, false, err
	}
	by := SourceActor(src)
	if err := s.allow(ctx, by, "user.create", u.Username); err != nil {
		return u, false, err
	}
	u.Source = src.Name
	err = s.st.CreateUser(ctx, by, &u)
	if err == nil {
		s.wake()
		return u, false, nil
	}
	if !errors.Is(err, directory.ErrConflict) {
		return u, false, err
	}
	old, gerr := s.st.GetUser(ctx, u.Username)
	switch {
	case gerr != nil:
		return u, false, &UserTakenError{Username: u.Username, Err: err} // the email is taken
	case old.Source == src.Name || !src.Settings.Adopt:
		return u, false, &UserTakenError{Username: old.Username, Owner: old.Source, Err: err}
	}
	out, err := sd.AdoptUser(ctx, by, old.Username, src.Name, fill)
	if err == nil {
		s.wake()
	}
	return out, err == nil, err
}

// SourceUpdateUser applies fn to a user the source owns, by its external
// key; the log names the change by the status move it makes (user.deactivate…).
func (s *Service) SourceUpdateUser(ctx context.Context, src store.Source, key string, fn func(*directory.User) error) (directory.User, error) {
	sd, err := s.sourceDir()
	if err != nil {
		return directory.User{}, err
	}
	by := SourceActor(src)
	if err := s.allow(ctx, by, "user.update", key); err != nil {
		return directory.User{}, err
	}
	u, err := sd.UpdateSourceUser(ctx, by, src.Name, key, "", fn, false)
	if err == nil {
		s.wake()
	}
	return u, err
}

// SourceDetachUser is a source's DELETE: the user is deactivated (the apps'
// deactivation settings apply) and passes to api, staying in the directory
// for audit.
func (s *Service) SourceDetachUser(ctx context.Context, src store.Source, key string) (directory.User, error) {
	sd, err := s.sourceDir()
	if err != nil {
		return directory.User{}, err
	}
	by := SourceActor(src)
	if err := s.allow(ctx, by, "user.deactivate", key); err != nil {
		return directory.User{}, err
	}
	u, err := sd.UpdateSourceUser(ctx, by, src.Name, key, "user.detach", func(u *directory.User) error {
		if u.Status != directory.StatusDeprovisioned {
			next, err := directory.Deactivate.Apply(u.Status)
			u.Status = next
			return err
		}
		return nil
	}, true)
	if err == nil {
		s.wake()
	}
	return u, err
}

// SourceWriteGroup creates or changes a group the source owns, with its
// members, in one transaction.
func (s *Service) SourceWriteGroup(ctx context.Context, src store.Source, w store.GroupWrite) (store.SourceGroup, error) {
	sd, err := s.sourceDir()
	if err != nil {
		return store.SourceGroup{}, err
	}
	by := SourceActor(src)
	if err := s.allow(ctx, by, "group.update", w.Key); err != nil {
		return store.SourceGroup{}, err
	}
	w.Source, w.Adopt = src.Name, src.Settings.Adopt
	if w.Members != nil && len(*w.Members) > maxMembers*10 || len(w.Add)+len(w.Remove) > maxMembers*10 {
		return store.SourceGroup{}, fmt.Errorf("%w: at most %d members change in one request", directory.ErrInvalid, maxMembers*10)
	}
	g, err := sd.WriteSourceGroup(ctx, by, w)
	if err == nil {
		s.wake()
	}
	return g, err
}

// SourceDeleteGroup deletes a group the source owns; its users stay.
func (s *Service) SourceDeleteGroup(ctx context.Context, src store.Source, key string) error {
	sd, err := s.sourceDir()
	if err != nil {
		return err
	}
	by := SourceActor(src)
	if err := s.allow(ctx, by, "group.delete", key); err != nil {
		return err
	}
	err = sd.DeleteSourceGroup(ctx, by, src.Name, key)
	if err == nil {
		s.wake()
	}
	return err
}

// SetActive moves a user to active or inactive the way a source asks:
// inactive is deprovisioned, or suspended when the source's deactivate_as
// says so (a staged user is deprovisioned: it cannot be suspended); active
// reactivates, unsuspends or activates.
func SetActive(u *directory.User, active bool, deactivateAs string) error {
	var t directory.Transition
	switch {
	case active && u.Status == directory.StatusSuspended:
		t = directory.Unsuspend
	case active && u.Status == directory.StatusDeprovisioned:
		t = directory.Reactivate
	case active && u.Status == directory.StatusStaged:
		t = directory.Activate
	case active:
		return nil
	case u.Status == directory.StatusActive && deactivateAs == store.DeactivateAsSuspend:
		t = directory.Suspend
	case u.Status == directory.StatusDeprovisioned || (u.Status == directory.StatusSuspended && deactivateAs == store.DeactivateAsSuspend):
		return nil
	default:
		t = directory.Deactivate
	}
	next, err := t.Apply(u.Status)
	u.Status = next
	return err
}
