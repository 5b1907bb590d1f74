package dropbox

import (
	"context"

	"github.com/roster-dev/roster/internal/connector"
)

// TeamInfo reads the team's name, id and license counts with team/get_info.
func (c *Client) TeamInfo(ctx context.Context) (connector.TeamInfo, error) {
	var r struct {
		Name                string `json:"name"`
		TeamID              string `json:"team_id"`
		NumLicensedUsers    int    `json:"num_licensed_users"`
		NumProvisionedUsers int    `json:"num_provisioned_users"`
		NumUsedLicenses     int    `json:"num_used_licenses"`
	}
	if err := c.do(ctx, call{route: "get_info", out: &r, read: true}); err != nil {
		return connector.TeamInfo{}, err
	}
	return connector.TeamInfo{Name: r.Name, TeamID: r.TeamID, LicensedUsers: r.NumLicensedUsers,
		ProvisionedUsers: r.NumProvisionedUsers, UsedLicenses: r.NumUsedLicenses}, nil
}

// AuthenticatedAdmin returns the admin who linked the token. Its profile has no
// roles, so the member is read again with get_info_v2 to learn its role.
func (c *Client) AuthenticatedAdmin(ctx context.Context) (connector.Member, error) {
	var r struct {
		AdminProfile profile `json:"admin_profile"`
	}
	if err := c.do(ctx, call{route: "token/get_authenticated_admin", out: &r, read: true}); err != nil {
		return connector.Member{}, err
	}
	m, err := c.getOne(ctx, r.AdminProfile.TeamMemberID)
	if connector.KindOf(err) == connector.NotFound {
		return r.AdminProfile.member(nil), nil
	}
	return m, err
}
