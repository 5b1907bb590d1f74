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

// CheckOffboarding refuses transfer settings that Dropbox would refuse at
// the first leaver: the destination and the admin-notification account must
// be active members, the second a team admin. It answers
// directory.ErrInvalid naming each problem, or a *LookupError.
func CheckOffboarding(ctx context.Context, conn connector.Connector, d app.Deactivation) error {
	if d.FileManagement != app.FilesTransfer {
		return nil
	}
	found, err := conn.GetMembers(ctx, []connector.Selector{{Email: d.TransferDest}, {Email: d.TransferAdmin}})
	if err != nil {
		return &LookupError{err}
	}
	var problems []error
	if m := found[0]; m == nil || m.Status != connector.StatusActive {
		problems = append(problems, fmt.Errorf("destination %s is not an active member of the Dropbox team", d.TransferDest))
	}
	switch m := found[1]; {
	case m == nil || m.Status != connector.StatusActive:
		problems = append(problems, fmt.Errorf("admin-notification account %s is not an active member of the Dropbox team", d.TransferAdmin))
	case m.Role != connector.RoleTeamAdmin:
		problems = append(problems, fmt.Errorf("admin-notification account %s is not a team admin (role %s)", d.TransferAdmin, m.Role))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %w", directory.ErrInvalid, errors.Join(problems...))
	}
	return nil
}
