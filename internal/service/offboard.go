package service

import (
	"context"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// Confirm is what an admin sent to confirm an impact: the impact's token as
// shown and, where a face asks for it, what they typed for an irreversible one.
type Confirm struct {
	Token string
	Typed string
	// NeedTyped asks for Impact.TypeToConfirm typed (the web UI); the API
	// takes the token alone, which a client shows its user first.
	NeedTyped bool
}

// Why a confirmation was not enough.
const (
	NotConfirmed = "not_confirmed" // no token: the admin has not seen the impact
	Changed      = "changed"       // the token is of another impact: it changed since shown
	NotTyped     = "not_typed"     // an irreversible impact's words were not typed
)

// ConfirmError refuses an action that would off-board until the admin
// confirms its impact; nothing was changed.
type ConfirmError struct {
	Impact engine.Impact
	Reason string // NotConfirmed, Changed or NotTyped
}

func (e *ConfirmError) Error() string { return e.Impact.Summary() }

// check says whether cf confirms im.
func (cf Confirm) check(im engine.Impact) error {
	token := strings.TrimSpace(cf.Token)
	switch {
	case im.Count == 0:
		return nil
	case token == "":
		return &ConfirmError{im, NotConfirmed}
	case token != im.Confirm:
		return &ConfirmError{im, Changed}
	case cf.NeedTyped && im.TypeToConfirm != "" && strings.TrimSpace(cf.Typed) != im.TypeToConfirm:
		return &ConfirmError{im, NotTyped}
	}
	return nil
}

// Impact computes what a directory change would off-board in every app.
func (s *Service) Impact(ctx context.Context, c engine.DirChange) (engine.Impact, error) {
	return engine.ImpactOf(ctx, s.st, c)
}

// Guarded makes a directory change once what it would off-board is
// confirmed (nothing irreversible on one click), then records the confirmed
// off-boardings so the deletion guard never holds them. A *ConfirmError
// means nothing was changed.
func (s *Service) Guarded(ctx context.Context, by store.Actor, c engine.DirChange, cf Confirm, change func() error) (engine.Impact, error) {
	im, err := s.Impact(ctx, c)
	if err != nil {
		return im, err
	}
	if err := cf.check(im); err != nil {
		return im, err
	}
	if err := change(); err != nil {
		return im, err
	}
	return im, s.recordConfirmed(ctx, by, im)
}

// recordConfirmed marks the confirmed off-boardings. The change is made by
// then: a cancelled request must not skip the record.
func (s *Service) recordConfirmed(ctx context.Context, by store.Actor, im engine.Impact) error {
	for appID, users := range im.ByApp() {
		if err := s.st.ConfirmOffboardings(context.WithoutCancel(ctx), by, appID, users); err != nil {
			return err
		}
	}
	return nil
}

// ChangeOf describes a lifecycle action as a directory change; false: the
// action off-boards nothing.
func ChangeOf(t directory.Transition, username string) (engine.DirChange, bool) {
	switch t {
	case directory.Suspend:
		return engine.DirChange{Users: []string{username}, Status: directory.StatusSuspended}, true
	case directory.Deactivate:
		return engine.DirChange{Users: []string{username}, Status: directory.StatusDeprovisioned}, true
	}
	return engine.DirChange{}, false
}

// PastLeavers shows what applying the app's off-boarding settings in force
// now to past leavers would do; nothing changes.
func (s *Service) PastLeavers(ctx context.Context, appName string) (engine.Impact, error) {
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return engine.Impact{}, err
	}
	return engine.PastLeavers(ctx, s.st, a)
}

// Reapply applies the app's off-boarding settings in force now to past
// leavers, once confirmed: never a side effect of saving settings. An impact
// of no account changes nothing and needs no confirmation.
func (s *Service) Reapply(ctx context.Context, by store.Actor, appName string, cf Confirm) (engine.Impact, error) {
	if err := s.allow(ctx, by, "offboarding.reapply", appName); err != nil {
		return engine.Impact{}, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return engine.Impact{}, err
	}
	im, err := engine.PastLeavers(ctx, s.st, a)
	if err != nil || im.Count == 0 {
		return im, err
	}
	if err := cf.check(im); err != nil {
		return im, err
	}
	return im, s.st.ReapplyOffboardings(ctx, by, a.ID, im.ByApp()[a.ID])
}

// Offboardings lists the app's off-boardings.
func (s *Service) Offboardings(ctx context.Context, appName string) ([]store.Offboarding, error) {
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return nil, err
	}
	obs, err := s.st.ListOffboardings(ctx, a.ID)
	if obs == nil && err == nil {
		obs = []store.Offboarding{}
	}
	return obs, err
}

// HeldCount counts the app's off-boardings the deletion guard holds.
func (s *Service) HeldCount(ctx context.Context, appID int64) (int, error) {
	obs, err := s.st.ListOffboardings(ctx, appID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ob := range obs {
		if ob.Held {
			n++
		}
	}
	return n, nil
}

// ReleaseHeld releases what the deletion guard holds in the app, as
// confirmed by the actor, and says how many. A face may ask its admin to
// type HeldCount first.
func (s *Service) ReleaseHeld(ctx context.Context, by store.Actor, appName string) (int, error) {
	if err := s.allow(ctx, by, "offboarding.release", appName); err != nil {
		return 0, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return 0, err
	}
	return s.st.ReleaseHeld(ctx, by, a.ID, nil)
}

// KeepOffboarded cancels a leaver's pending removal from an app: they stay suspended.
func (s *Service) KeepOffboarded(ctx context.Context, by store.Actor, appName, username string) (string, error) {
	if err := s.allow(ctx, by, "offboarding.keep", appName); err != nil {
		return "", err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return "", err
	}
	u, err := s.st.GetUser(ctx, username)
	if err != nil {
		return a.Name, err
	}
	return a.Name, s.st.KeepOffboarded(ctx, by, a.ID, u.ID)
}
