package dropbox

import (
	"encoding/json"
	"sort"
)

// changeGroup resolves the group of a membership change: a group id of
// another team is group_not_in_team, then as editableGroup.
func (c *call) changeGroup(sel groupSelector) *Group {
	if sel.Tag == "group_id" && c.t.groupByID[sel.Value] == nil && c.s.reg.groupTeam(sel.Value) != "" {
		c.fail("group_not_in_team")
		return nil
	}
	return c.editableGroup(sel)
}

type memberAccess struct {
	sel   selector
	owner bool
}

// changeAnswer is a GroupMembersChangeResult; async_job_id is deprecated and
// always a single space (reference §7.6).
func (c *call) changeAnswer(g *Group, returnMembers *bool) {
	c.reply(map[string]any{"group_info": c.t.fullInfo(g, returnMembers == nil || *returnMembers), "async_job_id": " "})
}

// groupMembersAdd is groups/members/add: all or nothing (reference §7.6, §10).
func groupMembersAdd(c *call) {
	var a struct {
		Group   json.RawMessage `json:"group"`
		Members *[]struct {
			User       json.RawMessage `json:"user"`
			AccessType json.RawMessage `json:"access_type"`
		} `json:"members"`
		ReturnMembers *bool `json:"return_members"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.groupArg(a.Group, "group")
	if !ok {
		return
	}
	if a.Members == nil {
		c.bad(missing("members"))
		return
	}
	adds := make([]memberAccess, len(*a.Members))
	for i, ma := range *a.Members {
		var err error
		if adds[i], err = parseMemberAccess(ma.User, ma.AccessType); !c.check(at(groupIndex(i), err)) {
			return
		}
	}
	g := c.changeGroup(sel)
	if g == nil {
		return
	}
	ms, ok := c.resolveAll(adds)
	if !ok || !c.checkAdds(g, adds, ms) {
		return
	}
	for i, m := range ms {
		c.t.joinGroup(g, m.ID, adds[i].owner)
	}
	c.changeAnswer(g, a.ReturnMembers)
}

// parseMemberAccess reads a MemberAccess: a user and a GroupAccessType.
func parseMemberAccess(user, access json.RawMessage) (memberAccess, error) {
	s, err := parseUser(user)
	if err != nil {
		return memberAccess{}, at("user", err)
	}
	if isNull(access) {
		return memberAccess{}, missing("access_type")
	}
	tag, err := voidTag(access, "member", "owner")
	return memberAccess{s, tag == "owner"}, at("access_type", err)
}

// resolveAll resolves every selector, answering users_not_found or
// members_not_in_team with the selectors as sent.
func (c *call) resolveAll(adds []memberAccess) ([]*Member, bool) {
	ms := make([]*Member, len(adds))
	var notFound, notInTeam []string
	for i, ad := range adds {
		m := c.t.resolve(ad.sel)
		switch {
		case m == nil && !(ad.sel.Tag == "email" && c.t.onOtherTeam(ad.sel.Value)):
			notFound = append(notFound, ad.sel.Value)
		case m == nil || m.Status == StatusRemoved:
			notInTeam = append(notInTeam, ad.sel.Value)
		}
		ms[i] = m
	}
	switch {
	case notFound != nil:
		c.fail("users_not_found", notFound)
	case notInTeam != nil:
		c.fail("members_not_in_team", notInTeam)
	default:
		return ms, true
	}
	return nil, false
}

func (c *call) checkAdds(g *Group, adds []memberAccess, ms []*Member) bool {
	seen := map[string]bool{}
	var managers []string
	for i, m := range ms {
		if _, in := g.members[m.ID]; in || seen[m.ID] {
			c.fail("duplicate_user")
			return false
		}
		seen[m.ID] = true
		if adds[i].owner && g.Management == "company_managed" {
			managers = append(managers, adds[i].sel.Value)
		}
	}
	if managers != nil {
		c.fail("user_cannot_be_manager_of_company_managed_group", managers)
		return false
	}
	for i, m := range ms {
		if adds[i].owner && m.Status != StatusActive {
			c.fail("user_must_be_active_to_be_owner")
			return false
		}
	}
	return true
}

// groupMembersRemove is groups/members/remove: all or nothing (reference §7.7).
func groupMembersRemove(c *call) {
	var a struct {
		Group         json.RawMessage    `json:"group"`
		Users         *[]json.RawMessage `json:"users"`
		ReturnMembers *bool              `json:"return_members"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.groupArg(a.Group, "group")
	if !ok {
		return
	}
	if a.Users == nil {
		c.bad(missing("users"))
		return
	}
	rms := make([]memberAccess, len(*a.Users))
	for i, raw := range *a.Users {
		s, err := parseUser(raw)
		if !c.check(at(groupIndex(i), err)) {
			return
		}
		rms[i].sel = s
	}
	g := c.changeGroup(sel)
	if g == nil {
		return
	}
	ms, ok := c.resolveAll(rms)
	if !ok {
		return
	}
	for _, m := range ms {
		if g.members[m.ID] == nil {
			c.fail("member_not_in_group")
			return
		}
	}
	for _, m := range ms {
		c.t.leaveGroup(g, m.ID)
	}
	c.changeAnswer(g, a.ReturnMembers)
}

// groupMembersSetAccess is groups/members/set_access_type; it answers a bare
// GroupsGetInfoResult list holding the group (reference §7.8).
func groupMembersSetAccess(c *call) {
	var a struct {
		Group         json.RawMessage `json:"group"`
		User          json.RawMessage `json:"user"`
		AccessType    json.RawMessage `json:"access_type"`
		ReturnMembers *bool           `json:"return_members"`
	}
	if !c.decode(&a) {
		return
	}
	gsel, ok := c.groupArg(a.Group, "group")
	if !ok {
		return
	}
	usel, ok := c.userArg(a.User, "user")
	if !ok {
		return
	}
	access, err := voidTag(a.AccessType, "member", "owner")
	if isNull(a.AccessType) {
		err = missing("access_type")
	}
	if !c.check(at("access_type", err)) {
		return
	}
	g := c.editableGroup(gsel)
	if g == nil {
		return
	}
	m := c.t.resolve(usel)
	switch {
	case m == nil || g.members[m.ID] == nil:
		c.fail("member_not_in_group")
	case access == "owner" && g.Management == "company_managed":
		c.fail("user_cannot_be_manager_of_company_managed_group")
	default:
		c.t.joinGroup(g, m.ID, access == "owner")
		info := struct {
			Tag string `json:".tag"`
			groupFullInfo
		}{"group_info", c.t.fullInfo(g, a.ReturnMembers == nil || *a.ReturnMembers)}
		c.reply([]any{info})
	}
}

type groupMembersPage struct {
	Members []groupMemberInfo `json:"members"`
	Cursor  string            `json:"cursor"`
	HasMore bool              `json:"has_more"`
}

// groupMembersList is groups/members/list (reference §7.9).
func groupMembersList(c *call) {
	var a struct {
		Group json.RawMessage `json:"group"`
		Limit *int64          `json:"limit"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.groupArg(a.Group, "group")
	if !ok {
		return
	}
	limit, err := limitArg(a.Limit)
	if !c.check(err) {
		return
	}
	g := c.t.lookupGroup(sel)
	if g == nil || g.Deleted {
		c.fail("group_not_found")
		return
	}
	c.groupMemberPage(g, cursor{Kind: "group_members", Limit: limit, Group: g.ID})
}

func groupMembersListContinue(c *call) {
	cur, ok := c.continueArg("group_members")
	if !ok {
		return
	}
	if g := c.t.groupByID[cur.Group]; g != nil && !g.Deleted {
		c.groupMemberPage(g, cur)
	} else {
		c.fail("invalid_cursor")
	}
}

// groupMemberPage pages a group in join order. The cursor holds the last join
// sequence number returned, so members leaving between pages shift nothing.
func (c *call) groupMemberPage(g *Group, cur cursor) {
	if g.System {
		c.everyonePage(cur)
		return
	}
	out := make([]groupMemberInfo, 0, min(cur.Limit, 128))
	i := sort.Search(len(g.order), func(i int) bool { return g.order[i].seq > cur.Pos })
	for ; i < len(g.order) && (len(out) < cur.Limit || g.order[i].gone); i++ {
		if gm := g.order[i]; !gm.gone {
			out = append(out, c.t.groupMember(gm))
		}
		cur.Pos = g.order[i].seq
	}
	c.reply(groupMembersPage{Members: out, Cursor: c.t.encodeCursor(cur), HasMore: i < len(g.order)})
}

// everyonePage pages the system group, whose members are the current members.
func (c *call) everyonePage(cur cursor) {
	t := c.t
	out := make([]groupMemberInfo, 0, min(cur.Limit, 128))
	i := int(cur.Pos)
	for ; i < len(t.members) && len(out) < cur.Limit; i++ {
		if m := t.members[i]; m.Status != StatusRemoved {
			out = append(out, groupMemberInfo{Profile: t.profile(m), AccessType: tagged{"member"}})
		}
	}
	i = t.nextListed(i, false)
	cur.Pos = int64(i)
	c.reply(groupMembersPage{Members: out, Cursor: t.encodeCursor(cur), HasMore: i < len(t.members)})
}
