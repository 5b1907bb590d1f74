package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// remoteTimeout bounds one admin-facing check with the app.
const remoteTimeout = 30 * time.Second

// Kinds answers for the app kinds a binary supports (app.Kinds).
type Kinds = app.Kinds

// RemoteError is a call to the app that failed; each face explains Err
// (a *connector.Error when the app answered) in its own words.
type RemoteError struct{ Err error }

func (e *RemoteError) Error() string { return e.Err.Error() }
func (e *RemoteError) Unwrap() error { return e.Err }

// NotConnectedError says the app holds no credential yet, so nothing can be
// checked with it. It is an invalid request (directory.ErrInvalid).
type NotConnectedError struct{ App string }

func (e *NotConnectedError) Error() string {
	return fmt.Sprintf("app %s is not connected yet", e.App)
}

// Is makes a NotConnectedError a directory.ErrInvalid.
func (e *NotConnectedError) Is(target error) bool { return target == directory.ErrInvalid }

// ErrMovedTransfer refuses new transfer settings saved with a new base URL:
// the new address drops the stored token, so the transfer accounts cannot be
// checked with the app now.
var ErrMovedTransfer = fmt.Errorf("%w: a new base URL drops the stored token, so the transfer accounts cannot be checked now", directory.ErrInvalid)

// AppChange is what an admin sent to create or change an app; nil fields
// keep what the app has.
type AppChange struct {
	Name    *string
	Kind    *string // at creation only
	BaseURL *string // spaces and a trailing slash are trimmed
	// Settings merges the face's input over the app's settings; an error
	// refuses the change before anything else is checked.
	Settings func(*app.Settings) error
	Token    *string // a team token, stored sealed once the app is saved
	// Problems are what the face found wrong reading its input; they are
	// reported with the service's own, and nothing is saved.
	Problems []error
}

// merge applies the change's fields to a.
func (ch AppChange) merge(a *app.Instance) error {
	if ch.Name != nil {
		a.Name = *ch.Name
	}
	if ch.BaseURL != nil {
		a.BaseURL = strings.TrimRight(strings.TrimSpace(*ch.BaseURL), "/")
	}
	if ch.Settings != nil {
		before := a.Settings.Deactivation
		if err := ch.Settings(&a.Settings); err != nil {
			return err
		}
		a.Settings.Deactivation.SwitchOffTransfer(before)
	}
	return nil
}

// check merges the change into a and validates it, with the face's own
// problems; it returns the cleaned token, if one came.
func (s *Service) check(ch AppChange, a *app.Instance) (string, error) {
	if err := ch.merge(a); err != nil {
		return "", err
	}
	errs := append([]error(nil), ch.Problems...)
	if err := a.Validate(s.kinds()); err != nil {
		errs = append(errs, err)
	}
	var tok string
	if ch.Token != nil {
		var err error
		if tok, err = credential.CleanToken(*ch.Token); err != nil {
			errs = append(errs, err)
		}
	}
	return tok, errors.Join(errs...)
}

func (s *Service) kinds() Kinds {
	if s.opt.Kinds != nil {
		return s.opt.Kinds
	}
	return connectors.Registry()
}

// CreateApp adds an app: a Dropbox app at Dropbox's address with default
// settings unless the change says otherwise. A token that came with it is
// stored sealed once the app exists.
func (s *Service) CreateApp(ctx context.Context, by store.Actor, ch AppChange) (app.Instance, error) {
	a := app.Instance{Kind: app.KindDropbox, BaseURL: app.DefaultDropboxURL, Settings: app.DefaultSettings()}
	if ch.Kind != nil {
		a.Kind = *ch.Kind
	}
	name := a.Name
	if ch.Name != nil {
		name = *ch.Name
	}
	if err := s.allow(ctx, by, "app.create", name); err != nil {
		return a, err
	}
	tok, err := s.check(ch, &a)
	if err != nil {
		return a, err
	}
	if err := s.st.CreateApp(ctx, by, &a); err != nil {
		return a, err
	}
	return a, s.storeToken(ctx, by, &a, tok)
}

// AppSaved is what saving an app's settings did.
type AppSaved struct {
	App app.Instance
	// OffboardingChanged: new off-boarding settings apply to people who
	// leave from now on, not to past leavers.
	OffboardingChanged bool
	// TokenDropped: a new base URL dropped the stored token and no new one came.
	TokenDropped bool
	// TransferCleared: the change switched file transfer off (file
	// management manage_in_dropbox, or deactivation suspend), so the
	// transfer accounts were cleared with it.
	TransferCleared bool
}

// UpdateApp changes an app's name, base URL or settings. Transfer accounts
// are checked with the app before saving, outside the transaction: a bad
// setting is refused now, not found at the first leaver. A new base URL
// drops the stored token (the store does it); a token that came with it is
// the new one.
func (s *Service) UpdateApp(ctx context.Context, by store.Actor, name string, ch AppChange) (AppSaved, error) {
	if err := s.allow(ctx, by, "app.update", name); err != nil {
		return AppSaved{}, err
	}
	cur, err := s.st.GetApp(ctx, name)
	if err != nil {
		return AppSaved{}, err
	}
	next := cur
	tok, err := s.check(ch, &next)
	if err != nil {
		return AppSaved{App: next}, err
	}
	moved := !app.KeepsCredential(cur, next)
	res := AppSaved{App: next, OffboardingChanged: next.Settings.Deactivation != cur.Settings.Deactivation}
	if res.OffboardingChanged {
		if moved && next.Settings.Deactivation.FileManagement == app.FilesTransfer {
			return res, ErrMovedTransfer
		}
		if err := s.CheckTransfer(ctx, next); err != nil {
			return res, err
		}
	}
	saved, err := s.st.UpdateApp(ctx, by, name, ch.merge)
	if err != nil {
		return res, err
	}
	res.App = saved
	res.TokenDropped = moved && cur.HasToken && tok == ""
	was, now := cur.Settings.Deactivation, saved.Settings.Deactivation
	res.TransferCleared = was.FileManagement == app.FilesTransfer && now.FileManagement != app.FilesTransfer &&
		(was.TransferDest != "" || was.TransferAdmin != "") && now.TransferDest == "" && now.TransferAdmin == ""
	return res, s.storeToken(ctx, by, &res.App, tok)
}

// storeToken stores a token that came with a change, if any.
func (s *Service) storeToken(ctx context.Context, by store.Actor, a *app.Instance, tok string) error {
	if tok == "" {
		return nil
	}
	if err := s.SetAppToken(ctx, by, *a, tok); err != nil {
		return err
	}
	a.HasToken = true
	return nil
}

// connect builds the app's connector, saying first what is missing.
func (s *Service) connect(ctx context.Context, a app.Instance) (connector.Connector, error) {
	if s.opt.Connect == nil {
		return nil, ErrNoEngine
	}
	if !a.HasToken {
		return nil, &NotConnectedError{a.Name}
	}
	return s.opt.Connect(ctx, a, engine.NewPacer(0))
}

// CheckTransfer refuses transfer settings whose accounts the app would
// refuse at the first leaver (engine.CheckOffboarding).
func (s *Service) CheckTransfer(ctx context.Context, a app.Instance) error {
	if a.Settings.Deactivation.FileManagement != app.FilesTransfer {
		return nil
	}
	conn, err := s.connect(ctx, a)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	err = engine.CheckOffboarding(ctx, conn, a.Settings.Deactivation)
	var le *engine.LookupError
	if errors.As(err, &le) {
		return &RemoteError{le.Err}
	}
	return err
}

// Connection is what "Test connection" found: the team the credential
// reaches and, when the app says, the admin it acts as.
type Connection struct {
	Team  connector.TeamInfo
	Admin string // empty when the app does not say
}

// TestConnection is "Test connection": who the app's credential reaches.
func (s *Service) TestConnection(ctx context.Context, by store.Actor, name string) (Connection, error) {
	if err := s.allow(ctx, by, "app.test", name); err != nil {
		return Connection{}, err
	}
	a, err := s.st.GetApp(ctx, name)
	if err != nil {
		return Connection{}, err
	}
	return s.Connection(ctx, a)
}

// Connection reaches the app and says who its credential reaches.
func (s *Service) Connection(ctx context.Context, a app.Instance) (Connection, error) {
	conn, err := s.connect(ctx, a)
	if err != nil {
		return Connection{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	team, err := conn.TeamInfo(ctx)
	if err != nil {
		return Connection{}, &RemoteError{err}
	}
	c := Connection{Team: team}
	if admin, err := conn.AuthenticatedAdmin(ctx); err == nil {
		c.Admin = admin.Email
	}
	return c, nil
}
