package web

import (
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
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

// notConnected explains what an app needs before anything is sent to it.
func notConnected(nc *service.NotConnectedError) error {
	return fmt.Errorf("%w: app %s is not connected to Dropbox yet; use Authenticate with Dropbox Business or paste a team token", directory.ErrInvalid, nc.App)
}

// explain says in the UI's words why a call to Dropbox could not be made
// or failed.
func explain(err error) error {
	var nc *service.NotConnectedError
	var re *service.RemoteError
	switch {
	case errors.As(err, &nc):
		return notConnected(nc)
	case errors.As(err, &re):
		return remoteErr(re.Err)
	}
	return err
}

// describeTeam is "Test connection"'s answer: who the token reaches.
func describeTeam(c service.Connection) string {
	msg := fmt.Sprintf("Dropbox team %q (%s): %d licences, %d provisioned members.", c.Team.Name, c.Team.TeamID, c.Team.LicensedUsers, c.Team.ProvisionedUsers)
	if c.Admin != "" {
		msg += " Authenticated admin: " + c.Admin + "."
	}
	return msg
}
