package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
)

// errRemote marks a failed call to Dropbox, explained for an admin.
var errRemote = errors.New("dropbox")

func isRemote(err error) bool { return errors.Is(err, errRemote) }

// remoteErr explains a failed call to the app without internal detail.
func remoteErr(err error) error {
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Kind != connector.Retryable {
		return fmt.Errorf("%w answered: %s", errRemote, ce.Error())
	}
	return fmt.Errorf("cannot reach %w: %v", errRemote, err)
}

// connect builds the app's connector, explaining what is missing first.
func (s *Server) connect(ctx context.Context, a app.Instance) (connector.Connector, error) {
	if s.opt.Connect == nil {
		return nil, fmt.Errorf("%w: this server runs no provisioning engine", directory.ErrInvalid)
	}
	if !a.HasToken {
		return nil, fmt.Errorf("%w: app %s is not connected to Dropbox yet; use Authenticate with Dropbox Business or paste a team token", directory.ErrInvalid, a.Name)
	}
	return s.opt.Connect(ctx, a, engine.NewPacer(0))
}

// describeTeam is "Test connection": who the token reaches.
func (s *Server) describeTeam(ctx context.Context, a app.Instance) (string, error) {
	conn, err := s.connect(ctx, a)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	team, err := conn.TeamInfo(ctx)
	if err != nil {
		return "", remoteErr(err)
	}
	msg := fmt.Sprintf("Dropbox team %q (%s): %d licences, %d provisioned members.", team.Name, team.TeamID, team.LicensedUsers, team.ProvisionedUsers)
	if admin, err := conn.AuthenticatedAdmin(ctx); err == nil {
		msg += " Authenticated admin: " + admin.Email + "."
	}
	return msg, nil
}

// checkTransfer refuses transfer settings that Dropbox would refuse at the
// first leaver (engine.CheckOffboarding, as the API does).
func (s *Server) checkTransfer(ctx context.Context, a app.Instance) error {
	if a.Settings.Deactivation.FileManagement != app.FilesTransfer {
		return nil
	}
	conn, err := s.connect(ctx, a)
	if err != nil {
		return fmt.Errorf("%w (the transfer accounts are checked with Dropbox when saved)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = engine.CheckOffboarding(ctx, conn, a.Settings.Deactivation)
	var le *engine.LookupError
	if errors.As(err, &le) {
		return remoteErr(le.Err)
	}
	return err
}
