package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

// LookupError is a failed lookup of the transfer accounts: the settings
// could not be checked, which says nothing against them.
type LookupError struct{ Err error }

func (e *LookupError) Error() string { return e.Err.Error() }
func (e *LookupError) Unwrap() error { return e.Err }

// CheckOffboarding refuses transfer settings that the app would refuse at
// the first leaver, as its connector judges them (for Dropbox: both accounts
// active members, the second a team admin). It answers directory.ErrInvalid
// naming each problem, or a *LookupError. A connector that cannot check
// transfer accounts has nothing to refuse here.
func CheckOffboarding(ctx context.Context, conn connector.Connector, d app.Deactivation) error {
	if d.FileManagement != app.FilesTransfer {
		return nil
	}
	tc, ok := connector.Capable[connector.TransferChecker](conn)
	if !ok {
		return nil
	}
	problems, err := tc.CheckTransfer(ctx, d.TransferDest, d.TransferAdmin)
	if err != nil {
		return &LookupError{err}
	}
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = errors.New(p)
		}
		return fmt.Errorf("%w: %w", directory.ErrInvalid, errors.Join(errs...))
	}
	return nil
}
