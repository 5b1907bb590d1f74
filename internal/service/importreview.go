package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store"
)

// Importer runs imports and their review (an *importer.Importer).
type Importer interface {
	Run(ctx context.Context, a app.Instance, opt importer.Options) (importer.Result, error)
	Confirm(ctx context.Context, by store.Actor, a app.Instance, refs []string) (importer.Reviewed, error)
	Ignore(ctx context.Context, by store.Actor, a app.Instance, refs []string) (int, error)
	Link(ctx context.Context, by store.Actor, a app.Instance, ref, username string) (store.AppUser, error)
}

// ErrNoImporter says that this server runs no importer.
var ErrNoImporter = fmt.Errorf("%w: this server runs no importer", directory.ErrInvalid)

// HasImporter says whether imports can run here.
func (s *Service) HasImporter() bool { return s.opt.Importer != nil }

// importer returns the importer and the app it works on.
func (s *Service) importer(ctx context.Context, by store.Actor, action, appName string) (Importer, app.Instance, error) {
	if err := s.allow(ctx, by, action, appName); err != nil {
		return nil, app.Instance{}, err
	}
	if s.opt.Importer == nil {
		return nil, app.Instance{}, ErrNoImporter
	}
	a, err := s.st.GetApp(ctx, appName)
	return s.opt.Importer, a, err
}

// RunImport downloads the app's team and matches it to the directory;
// opt.Plan writes nothing. A *importer.SafeguardError says the import
// safeguard stopped it; a *RemoteError, that the app could not be read.
func (s *Service) RunImport(ctx context.Context, by store.Actor, appName string, opt importer.Options) (importer.Result, error) {
	im, a, err := s.importer(ctx, by, "import.run", appName)
	if err != nil {
		return importer.Result{}, err
	}
	if s.opt.Connect == nil {
		return importer.Result{}, ErrNoEngine
	}
	if !a.HasToken {
		return importer.Result{}, &NotConnectedError{a.Name}
	}
	opt.By = by
	res, err := im.Run(ctx, a, opt)
	var ce *connector.Error
	if errors.As(err, &ce) {
		return res, &RemoteError{err}
	}
	return res, err
}

// ImportRow is an app user with the username of its directory user, if any.
type ImportRow struct {
	store.AppUser
	Username string
}

// importStore is what listing app users needs.
type importStore interface {
	store.Imports
	UsersByID(ctx context.Context, ids []int64) (map[int64]directory.User, error)
}

func (s *Service) imports() (importStore, error) {
	st, ok := s.st.(importStore)
	if !ok {
		return nil, ErrNoImporter
	}
	return st, nil
}

// ImportRows lists a page of the app's app users in a state ("" for all).
func (s *Service) ImportRows(ctx context.Context, a app.Instance, state string, p store.Page) ([]ImportRow, error) {
	if err := importer.CheckState(state); err != nil {
		return nil, err
	}
	st, err := s.imports()
	if err != nil {
		return nil, err
	}
	aus, err := st.ListAppUsers(ctx, a.ID, state, p)
	if err != nil {
		return nil, err
	}
	return s.rows(ctx, st, aus)
}

// ImportRow finds one of the app's app users by ID, member ID or email.
func (s *Service) ImportRow(ctx context.Context, appName, ref string) (ImportRow, error) {
	st, err := s.imports()
	if err != nil {
		return ImportRow{}, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return ImportRow{}, err
	}
	au, err := st.GetAppUser(ctx, a.ID, ref)
	if err != nil {
		return ImportRow{}, err
	}
	rows, err := s.rows(ctx, st, []store.AppUser{au})
	if err != nil {
		return ImportRow{}, err
	}
	return rows[0], nil
}

// rows names the directory users of app users.
func (s *Service) rows(ctx context.Context, st importStore, aus []store.AppUser) ([]ImportRow, error) {
	var ids []int64
	for _, au := range aus {
		if au.UserID != 0 {
			ids = append(ids, au.UserID)
		}
	}
	users, err := st.UsersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ImportRow, len(aus))
	for i, au := range aus {
		out[i] = ImportRow{au, users[au.UserID].Username}
	}
	return out, nil
}

// ConfirmImport confirms app users' matches, creating directory users for
// the unmatched; nothing is sent to the app.
func (s *Service) ConfirmImport(ctx context.Context, by store.Actor, appName string, refs []string) (importer.Reviewed, error) {
	im, a, err := s.importer(ctx, by, "import.confirm", appName)
	if err != nil {
		return importer.Reviewed{}, err
	}
	return im.Confirm(ctx, by, a, refs)
}

// IgnoreImport has later imports leave app users alone; it says how many.
func (s *Service) IgnoreImport(ctx context.Context, by store.Actor, appName string, refs []string) (int, error) {
	im, a, err := s.importer(ctx, by, "import.ignore", appName)
	if err != nil {
		return 0, err
	}
	return im.Ignore(ctx, by, a, refs)
}

// LinkImport links an app user to a directory user; nothing is sent to the app.
func (s *Service) LinkImport(ctx context.Context, by store.Actor, appName, ref, username string) (ImportRow, error) {
	im, a, err := s.importer(ctx, by, "import.link", appName)
	if err != nil {
		return ImportRow{}, err
	}
	st, err := s.imports()
	if err != nil {
		return ImportRow{}, err
	}
	au, err := im.Link(ctx, by, a, ref, username)
	if err != nil {
		return ImportRow{}, err
	}
	rows, err := s.rows(ctx, st, []store.AppUser{au})
	if err != nil {
		return ImportRow{}, err
	}
	return rows[0], nil
}
