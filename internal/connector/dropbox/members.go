package dropbox

import (
	"context"
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/connector"
)

const (
	addBatch     = 20   // members/add_v2 accepts at most 20 new members (reference §3)
	listLimit    = 1000 // the largest page members/list_v2 and groups/list allow
	getInfoBatch = 100  // no documented cap on get_info_v2: keep calls modest
)

// ListMembers pages through the team with members/list_v2 and list/continue_v2.
func (c *Client) ListMembers(ctx context.Context, includeRemoved bool, page func([]connector.Member) error) error {
	k := call{route: "members/list_v2", read: true,
		in: struct {
			Limit          int  `json:"limit"`
			IncludeRemoved bool `json:"include_removed"`
		}{listLimit, includeRemoved}}
	for {
		var p memberPage
		k.out = &p
		if err := c.do(ctx, k); err != nil {
			return err
		}
		if err := page(p.members); err != nil {
			return err
		}
		if !p.hasMore {
			return nil
		}
		k.route, k.in = "members/list/continue_v2", cursorArg{p.cursor}
	}
}

// getInfoItem is a MembersGetInfoItemV2: member_info (flattened) or id_not_found.
type getInfoItem struct {
	Tag string `json:".tag"`
	memberInfo
}

// GetMembers looks members up with members/get_info_v2; a selector that names
// nothing, or matches nobody, yields nil.
func (c *Client) GetMembers(ctx context.Context, sel []connector.Selector) ([]*connector.Member, error) {
	out := make([]*connector.Member, len(sel))
	idx := make([]int, 0, len(sel))
	sels := make([]userSelector, 0, len(sel))
	for i, s := range sel {
		if us, ok := selectorOf(s); ok {
			idx, sels = append(idx, i), append(sels, us)
		}
	}
	for lo := 0; lo < len(sels); lo += getInfoBatch {
		hi := min(lo+getInfoBatch, len(sels))
		if err := c.getInfo(ctx, sels[lo:hi], idx[lo:hi], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) getInfo(ctx context.Context, sels []userSelector, idx []int, out []*connector.Member) error {
	const route = "members/get_info_v2"
	var r struct {
		MembersInfo []getInfoItem `json:"members_info"`
	}
	in := struct {
		Members []userSelector `json:"members"`
	}{sels}
	if err := c.do(ctx, call{route: route, in: in, out: &r, read: true}); err != nil {
		return err
	}
	if len(r.MembersInfo) != len(sels) {
		return connector.Errorf(connector.Retryable, route, "", "asked for %d members, got %d answers", len(sels), len(r.MembersInfo))
	}
	for k := range r.MembersInfo {
		if it := &r.MembersInfo[k]; it.Tag == "member_info" {
			m := it.member()
			out[idx[k]] = &m
		}
	}
	return nil
}

// getOne returns the member with team_member_id id, or a NotFound error.
func (c *Client) getOne(ctx context.Context, id string) (connector.Member, error) {
	ms, err := c.GetMembers(ctx, []connector.Selector{{ID: id}})
	if err != nil {
		return connector.Member{}, err
	}
	if ms[0] == nil {
		return connector.Member{}, connector.Errorf(connector.NotFound, "members/get_info_v2", "id_not_found", "%s", id)
	}
	return *ms[0], nil
}

// SetProfile changes the fields of ch that are not nil with members/set_profile_v2.
// An empty ExternalID is sent as "" and clears it (the SDK cannot do that).
func (c *Client) SetProfile(ctx context.Context, id string, ch connector.ProfileChange) (connector.Member, error) {
	if ch.Email == nil && ch.GivenName == nil && ch.Surname == nil && ch.ExternalID == nil {
		return c.getOne(ctx, id) // Dropbox would answer no_new_data_specified
	}
	in := struct {
		User          userSelector `json:"user"`
		NewEmail      *string      `json:"new_email,omitempty"`
		NewExternalID *string      `json:"new_external_id,omitempty"`
		NewGivenName  *string      `json:"new_given_name,omitempty"`
		NewSurname    *string      `json:"new_surname,omitempty"`
	}{byID(id), ch.Email, ch.ExternalID, ch.GivenName, ch.Surname}
	var r struct {
		MemberInfo memberInfo `json:"member_info"`
	}
	if err := c.do(ctx, call{route: "members/set_profile_v2", in: in, out: &r}); err != nil {
		return connector.Member{}, err
	}
	return r.MemberInfo.member(), nil
}

// SetRole sets the member's admin role with members/set_admin_permissions_v2;
// RoleMember sends `new_roles: []`, which demotes.
func (c *Client) SetRole(ctx context.Context, id string, role connector.Role) error {
	roles, err := c.roleIDsFor(ctx, role)
	if err != nil {
		return err
	}
	in := struct {
		User     userSelector `json:"user"`
		NewRoles []string     `json:"new_roles"` // never omitempty: [] is the demotion
	}{byID(id), roles}
	err = c.do(ctx, call{route: "members/set_admin_permissions_v2", in: in})
	if connector.TagOf(err) == "role_not_found" {
		c.forgetRoles()
	}
	return err
}

// Suspend suspends an active member, always sending wipe_data (its default is true).
func (c *Client) Suspend(ctx context.Context, id string, wipeData bool) error {
	const route = "members/suspend"
	in := struct {
		User     userSelector `json:"user"`
		WipeData bool         `json:"wipe_data"`
	}{byID(id), wipeData}
	err := c.do(ctx, call{route: route, in: in})
	if connector.TagOf(err) == "suspend_inactive_user" {
		return c.inactive(ctx, id, err)
	}
	return err
}

// inactive refines suspend_inactive_user: it is a Conflict (state reached) when
// the member is already suspended, but Permanent for an invited member, which
// Dropbox cannot suspend until it joins.
func (c *Client) inactive(ctx context.Context, id string, err error) error {
	m, gerr := c.getOne(ctx, id)
	if gerr != nil || m.Status == connector.StatusSuspended {
		return err
	}
	var e *connector.Error
	errors.As(err, &e)
	p := *e
	p.Kind, p.Msg = connector.Permanent, "the member is "+string(m.Status)+", not active: only active members can be suspended"
	return &p
}

// Unsuspend makes a suspended member active again.
func (c *Client) Unsuspend(ctx context.Context, id string) error {
	return c.do(ctx, call{route: "members/unsuspend", in: userArg{byID(id)}})
}

// Recover restores a removed member still within its recovery window.
func (c *Client) Recover(ctx context.Context, id string) error {
	return c.do(ctx, call{route: "members/recover", in: userArg{byID(id)}})
}

// SendWelcomeEmail re-sends the invitation; its body is a bare selector.
func (c *Client) SendWelcomeEmail(ctx context.Context, id string) error {
	return c.do(ctx, call{route: "members/send_welcome_email", in: byID(id)})
}

type userArg struct {
	User userSelector `json:"user"`
}

// Remove removes a member with members/remove, sending wipe_data explicitly and
// the transfer target and admin as email selectors, then waits for the job.
// A transfer without an admin uses the token's admin (reference §11).
func (c *Client) Remove(ctx context.Context, id string, opt connector.RemoveOptions) error {
	const route = "members/remove"
	in := struct {
		User            userSelector  `json:"user"`
		WipeData        bool          `json:"wipe_data"`
		TransferDestID  *userSelector `json:"transfer_dest_id,omitempty"`
		TransferAdminID *userSelector `json:"transfer_admin_id,omitempty"`
	}{User: byID(id), WipeData: opt.WipeData}
	admin := opt.TransferAdminEmail
	if opt.TransferDestEmail != "" && admin == "" {
		a, err := c.AuthenticatedAdmin(ctx)
		if err != nil {
			return err
		}
		admin = a.Email
	}
	if opt.TransferDestEmail != "" {
		d := byEmail(opt.TransferDestEmail)
		in.TransferDestID = &d
	}
	if admin != "" {
		a := byEmail(admin)
		in.TransferAdminID = &a
	}
	var l asyncLaunch
	if err := c.do(ctx, call{route: route, in: in, out: &l}); err != nil {
		return err
	}
	return c.launched(ctx, l, "members/remove/job_status/get")
}

// isBadRequest tells a 400: Dropbox rejected the request before running it.
func isBadRequest(err error) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.StatusCode == http.StatusBadRequest
}
