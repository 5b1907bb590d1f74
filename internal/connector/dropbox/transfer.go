package dropbox

import (
	"context"
	"fmt"

	"github.com/roster-dev/roster/internal/connector"
)

var _ connector.TransferChecker = (*Client)(nil)

// CheckTransfer finds the problems Dropbox would raise at the first removal
// with these transfer accounts: both must be active members, and the
// admin-notification account a team admin.
func (c *Client) CheckTransfer(ctx context.Context, dest, admin string) ([]string, error) {
	found, err := c.GetMembers(ctx, []connector.Selector{{Email: dest}, {Email: admin}})
	if err != nil {
		return nil, err
	}
	var problems []string
	if m := found[0]; m == nil || m.Status != connector.StatusActive {
		problems = append(problems, fmt.Sprintf("destination %s is not an active member of the Dropbox team", dest))
	}
	switch m := found[1]; {
	case m == nil || m.Status != connector.StatusActive:
		problems = append(problems, fmt.Sprintf("admin-notification account %s is not an active member of the Dropbox team", admin))
	case m.Role != connector.RoleTeamAdmin:
		problems = append(problems, fmt.Sprintf("admin-notification account %s is not a team admin (role %s)", admin, m.Role))
	}
	return problems, nil
}
