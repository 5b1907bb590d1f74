package dropbox

import (
	"context"
	"strings"

	"github.com/roster-dev/roster/internal/connector"
)

const rolesRoute = "members/get_available_team_member_roles"

// roleID returns the role_id of an admin role, resolving the team's roles by
// NAME once (ids are opaque, reference §4.3) and caching them.
func (c *Client) roleID(ctx context.Context, r connector.Role) (string, error) {
	ids, err := c.roleIDs(ctx)
	if err != nil {
		return "", err
	}
	if id, ok := ids[r]; ok {
		return id, nil
	}
	names := make([]string, 0, len(ids))
	for k := range ids {
		names = append(names, string(k))
	}
	return "", connector.Errorf(connector.Permanent, rolesRoute, "role_not_found",
		"the team offers no role %q (it offers: %s)", r, strings.Join(names, ", "))
}

// roleIDs resolves the cache under a one-slot semaphore, so concurrent
// callers make one call and a caller whose ctx ends stops waiting.
func (c *Client) roleIDs(ctx context.Context) (map[connector.Role]string, error) {
	select {
	case c.rolesSem <- struct{}{}:
	case <-ctx.Done():
		return nil, &connector.Error{Kind: connector.Retryable, Op: rolesRoute, Msg: "waiting for roles", Err: ctx.Err()}
	}
	defer func() { <-c.rolesSem }()
	if c.roles != nil {
		return c.roles, nil
	}
	var out struct {
		Roles []wireRole `json:"roles"`
	}
	if err := c.do(ctx, call{route: rolesRoute, out: &out, read: true}); err != nil {
		return nil, err
	}
	ids := make(map[connector.Role]string, len(out.Roles))
	for _, r := range out.Roles {
		role := roleOfName(r.Name)
		if _, seen := ids[role]; !seen && role != RoleMember {
			ids[role] = r.RoleID
		}
	}
	c.roles = ids
	c.log.Debug("dropbox: resolved roles", "roles", len(ids))
	return ids, nil
}

// forgetRoles drops the cache after Dropbox said role_not_found, so the next
// call resolves the ids again.
func (c *Client) forgetRoles() {
	c.rolesSem <- struct{}{}
	c.roles = nil
	<-c.rolesSem
}

// roleIDsFor returns the role_ids to send for role: none for a plain member.
func (c *Client) roleIDsFor(ctx context.Context, role connector.Role) ([]string, error) {
	if role == "" || role == RoleMember {
		return []string{}, nil
	}
	id, err := c.roleID(ctx, role)
	if err != nil {
		return nil, err
	}
	return []string{id}, nil
}
