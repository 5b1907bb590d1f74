package dropbox

import (
	"cmp"
	"context"

	"github.com/roster-dev/roster/internal/connector"
)

// groupMembersBatch bounds groups/members/add and remove calls: Dropbox
// documents no cap, so stay modest (reference §3).
const groupMembersBatch = 100

// CreateGroup creates an empty group of the configured management type.
func (c *Client) CreateGroup(ctx context.Context, name, externalID string) (connector.Group, error) {
	in := struct {
		GroupName           string `json:"group_name"`
		AddCreatorAsOwner   bool   `json:"add_creator_as_owner"`
		GroupExternalID     string `json:"group_external_id,omitempty"`
		GroupManagementType string `json:"group_management_type"` // undocumented default: always set
	}{name, false, externalID, c.groupType}
	var g wireGroup
	if err := c.do(ctx, call{route: "groups/create", in: in, out: &g}); err != nil {
		return connector.Group{}, err
	}
	return g.group(), nil
}

// ListGroups pages through the team's groups with groups/list and list/continue.
func (c *Client) ListGroups(ctx context.Context, page func([]connector.Group) error) error {
	k := call{route: "groups/list", read: true, in: struct {
		Limit int `json:"limit"`
	}{listLimit}}
	for {
		var r struct {
			Groups  []wireGroup `json:"groups"`
			Cursor  string      `json:"cursor"`
			HasMore bool        `json:"has_more"`
		}
		k.out = &r
		if err := c.do(ctx, k); err != nil {
			return err
		}
		gs := make([]connector.Group, len(r.Groups))
		for i := range r.Groups {
			gs[i] = r.Groups[i].group()
		}
		if err := page(gs); err != nil {
			return err
		}
		if !r.HasMore {
			return nil
		}
		k.route, k.in = "groups/list/continue", cursorArg{r.Cursor}
	}
}

type cursorArg struct {
	Cursor string `json:"cursor"`
}

// RenameGroup renames a group with groups/update, not asking for its members.
func (c *Client) RenameGroup(ctx context.Context, id, name string) (connector.Group, error) {
	in := struct {
		Group         groupSelector `json:"group"`
		ReturnMembers bool          `json:"return_members"` // default true: we do not need them
		NewGroupName  string        `json:"new_group_name"`
	}{groupByID(id), false, name}
	var g wireGroup
	if err := c.do(ctx, call{route: "groups/update", in: in, out: &g}); err != nil {
		return connector.Group{}, err
	}
	return g.group(), nil
}

// DeleteGroup deletes a group (bare selector body) and waits for its job.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	var l asyncLaunch
	if err := c.do(ctx, call{route: "groups/delete", in: groupByID(id), out: &l}); err != nil {
		return err
	}
	return c.launched(ctx, l, "groups/job_status/get")
}

type groupMember struct {
	User       userSelector `json:"user"`
	AccessType string       `json:"access_type"`
}

// AddGroupMembers adds members with access type member. Dropbox refuses a
// whole call with duplicate_user when one is already in; the call is then
// resent with only those missing, so adding is idempotent in effect.
func (c *Client) AddGroupMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.changeGroup(ctx, groupID, memberIDs, true)
}

// RemoveGroupMembers removes members; like AddGroupMembers it resends only
// those still in the group after member_not_in_group.
func (c *Client) RemoveGroupMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.changeGroup(ctx, groupID, memberIDs, false)
}

// changeGroup sends ids in chunks. A Conflict (all of a chunk already in the
// wanted state) does not stop later chunks; it is returned at the end.
func (c *Client) changeGroup(ctx context.Context, groupID string, ids []string, add bool) error {
	var conflict error
	for lo := 0; lo < len(ids); lo += groupMembersBatch {
		chunk := ids[lo:min(lo+groupMembersBatch, len(ids))]
		err := c.groupCall(ctx, groupID, chunk, add)
		if connector.KindOf(err) == connector.Conflict && len(chunk) > 1 {
			err = c.retryDifference(ctx, groupID, chunk, add, err)
		}
		switch {
		case err == nil:
		case connector.KindOf(err) == connector.Conflict:
			conflict = cmp.Or(conflict, err)
		default:
			return err
		}
	}
	return conflict
}

// retryDifference re-reads the group and resends the part of chunk that still
// needs the change; if none does, the original Conflict stands.
func (c *Client) retryDifference(ctx context.Context, groupID string, chunk []string, add bool, conflict error) error {
	in := make(map[string]bool)
	err := c.ListGroupMembers(ctx, groupID, func(ids []string) error {
		for _, id := range ids {
			in[id] = true
		}
		return nil
	})
	if err != nil {
		return conflict
	}
	var rest []string
	for _, id := range chunk {
		if in[id] != add {
			rest = append(rest, id)
		}
	}
	if len(rest) == 0 {
		return conflict
	}
	return c.groupCall(ctx, groupID, rest, add)
}

func (c *Client) groupCall(ctx context.Context, groupID string, ids []string, add bool) error {
	if add {
		ms := make([]groupMember, len(ids))
		for i, id := range ids {
			ms[i] = groupMember{byID(id), "member"}
		}
		return c.do(ctx, call{route: "groups/members/add", in: struct {
			Group         groupSelector `json:"group"`
			Members       []groupMember `json:"members"`
			ReturnMembers bool          `json:"return_members"`
		}{groupByID(groupID), ms, false}})
	}
	us := make([]userSelector, len(ids))
	for i, id := range ids {
		us[i] = byID(id)
	}
	return c.do(ctx, call{route: "groups/members/remove", in: struct {
		Group         groupSelector  `json:"group"`
		Users         []userSelector `json:"users"`
		ReturnMembers bool           `json:"return_members"`
	}{groupByID(groupID), us, false}})
}

// ListGroupMembers pages through a group's members, giving their team_member_ids.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, page func(memberIDs []string) error) error {
	k := call{route: "groups/members/list", read: true, in: struct {
		Group groupSelector `json:"group"`
		Limit int           `json:"limit"`
	}{groupByID(groupID), listLimit}}
	for {
		var r struct {
			Members []struct {
				Profile struct {
					TeamMemberID string `json:"team_member_id"`
				} `json:"profile"`
			} `json:"members"`
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		k.out = &r
		if err := c.do(ctx, k); err != nil {
			return err
		}
		ids := make([]string, len(r.Members))
		for i := range r.Members {
			ids[i] = r.Members[i].Profile.TeamMemberID
		}
		if err := page(ids); err != nil {
			return err
		}
		if !r.HasMore {
			return nil
		}
		k.route, k.in = "groups/members/list/continue", cursorArg{r.Cursor}
	}
}
