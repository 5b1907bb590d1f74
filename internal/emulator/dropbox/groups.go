package dropbox

import (
	"encoding/json"
	"fmt"
	"strings"
)

type groupSummary struct {
	GroupName       string `json:"group_name"`
	GroupID         string `json:"group_id"`
	GroupExternalID string `json:"group_external_id,omitempty"`
	MemberCount     int    `json:"member_count"`
	ManagementType  tagged `json:"group_management_type"`
}

// groupFullInfo is a GroupFullInfo; members is nil (omitted) unless asked
// for, and never set for system-managed groups (reference §4.5).
type groupFullInfo struct {
	groupSummary
	Members *[]groupMemberInfo `json:"members,omitempty"`
	Created int64              `json:"created"` // milliseconds, unlike every other timestamp
}

// groupMemberInfo is a GroupMemberInfo: a MemberProfile, not a TeamMemberProfile.
type groupMemberInfo struct {
	Profile    memberProfile `json:"profile"`
	AccessType tagged        `json:"access_type"`
}

func (t *Team) newGroup(name, ext, mgmt string) *Group {
	g := &Group{ID: "g:" + randomHex(32), Name: name, ExternalID: ext, Management: mgmt, Created: t.now(),
		members: map[string]*groupMember{}}
	t.addGroup(g)
	return g
}

// addGroup files a group in the team's order and indexes.
func (t *Team) addGroup(g *Group) {
	t.groups = append(t.groups, g)
	t.groupByID[g.ID] = g
	if !g.Deleted {
		t.groupByName[key(g.Name)] = g
		if g.ExternalID != "" {
			t.groupByExt[g.ExternalID] = g
		}
	}
	t.s.reg.claimGroup(g.ID, t.name)
}

// lookupGroup finds a group by selector, deleted ones included (by id).
func (t *Team) lookupGroup(sel groupSelector) *Group {
	if sel.Tag == "group_id" {
		return t.groupByID[sel.Value]
	}
	return t.groupByExt[sel.Value]
}

func (t *Team) memberCount(g *Group) int {
	if g.System {
		return t.seats // every current member
	}
	return len(g.members)
}

func (t *Team) summary(g *Group) groupSummary {
	return groupSummary{GroupName: g.Name, GroupID: g.ID, GroupExternalID: g.ExternalID,
		MemberCount: t.memberCount(g), ManagementType: tagged{g.Management}}
}

func (t *Team) fullInfo(g *Group, withMembers bool) groupFullInfo {
	out := groupFullInfo{groupSummary: t.summary(g), Created: g.Created.UnixMilli()}
	if withMembers && !g.System {
		ms := make([]groupMemberInfo, 0, len(g.members))
		for _, gm := range g.order {
			if !gm.gone {
				ms = append(ms, t.groupMember(gm))
			}
		}
		out.Members = &ms
	}
	return out
}

func (t *Team) groupMember(gm *groupMember) groupMemberInfo {
	access := "member"
	if gm.owner {
		access = "owner"
	}
	return groupMemberInfo{Profile: t.profile(t.byID[gm.id]), AccessType: tagged{access}}
}

func validGroupName(name string) bool { return strings.TrimSpace(name) != "" }

// groupsCreate is groups/create (reference §7.1). Without
// group_management_type a group is user_managed: the default is undocumented.
func groupsCreate(c *call) {
	var a struct {
		Name       *string         `json:"group_name"`
		AddCreator bool            `json:"add_creator_as_owner"`
		ExternalID *string         `json:"group_external_id"`
		Management json.RawMessage `json:"group_management_type"`
	}
	if !c.decode(&a) {
		return
	}
	if a.Name == nil {
		c.bad(missing("group_name"))
		return
	}
	mgmt, ok := c.managementArg(a.Management, "group_management_type")
	if !ok {
		return
	}
	t, ext := c.t, deref(a.ExternalID)
	switch {
	case !validGroupName(*a.Name):
		c.fail("group_name_invalid")
	case mgmt == "system_managed":
		c.fail("system_managed_group_disallowed")
	case t.groupByName[key(*a.Name)] != nil:
		c.fail("group_name_already_used")
	case ext != "" && t.groupByExt[ext] != nil:
		c.fail("external_id_already_in_use")
	default:
		g := t.newGroup(*a.Name, ext, mgmt)
		if admin := t.byID[t.adminID]; a.AddCreator && admin != nil && admin.Status != StatusRemoved {
			t.joinGroup(g, admin.ID, mgmt != "company_managed") // company-managed groups have no owners
		}
		c.reply(t.fullInfo(g, true))
	}
}

// managementArg reads an optional GroupManagementType; absent means user_managed.
func (c *call) managementArg(raw json.RawMessage, field string) (string, bool) {
	if isNull(raw) {
		return "user_managed", true
	}
	v, err := voidTag(raw, "user_managed", "company_managed", "system_managed")
	return v, c.check(at(field, err))
}

// groupsGetInfo is groups/get_info: the body is a bare GroupsSelector, the
// answer a bare list (reference §7.2).
func groupsGetInfo(c *call) {
	if isNull(c.body) {
		c.bad(argErr("expected a groups selector"))
		return
	}
	u, err := parseUnion(c.body)
	if err == nil && u.tag != "group_ids" && u.tag != "group_external_ids" {
		err = argErr("unknown tag '%s'", u.tag)
	}
	var ids []string
	if err == nil {
		ids, err = u.strs()
	}
	if !c.check(err) {
		return
	}
	tagOne := map[string]string{"group_ids": "group_id", "group_external_ids": "group_external_id"}[u.tag]
	out := make([]any, len(ids))
	for i, id := range ids {
		g := c.t.lookupGroup(groupSelector{tagOne, id})
		switch {
		case g == nil && tagOne == "group_id" && c.s.reg.groupTeam(id) != "":
			c.fail("group_not_on_team") // a group of another team
			return
		case g == nil || g.Deleted:
			out[i] = unionValue("id_not_found", id)
		default:
			out[i] = struct {
				Tag string `json:".tag"`
				groupFullInfo
			}{"group_info", c.t.fullInfo(g, true)}
		}
	}
	c.reply(out)
}

type groupsPage struct {
	Groups  []groupSummary `json:"groups"`
	Cursor  string         `json:"cursor"`
	HasMore bool           `json:"has_more"`
}

// groupsList is groups/list (reference §7.3).
func groupsList(c *call) {
	var a struct {
		Limit *int64 `json:"limit"`
	}
	if !c.decode(&a) {
		return
	}
	limit, err := limitArg(a.Limit)
	if c.check(err) {
		c.groupPage(cursor{Kind: "groups", Limit: limit})
	}
}

func groupsListContinue(c *call) {
	if cur, ok := c.continueArg("groups"); ok {
		c.groupPage(cur)
	}
}

func (c *call) groupPage(cur cursor) {
	t := c.t
	out := make([]groupSummary, 0, min(cur.Limit, 128))
	i := int(cur.Pos)
	for ; i < len(t.groups) && len(out) < cur.Limit; i++ {
		if g := t.groups[i]; !g.Deleted {
			out = append(out, t.summary(g))
		}
	}
	for i < len(t.groups) && t.groups[i].Deleted {
		i++
	}
	cur.Pos = int64(i)
	c.reply(groupsPage{Groups: out, Cursor: t.encodeCursor(cur), HasMore: i < len(t.groups)})
}

// editableGroup resolves a group a route changes, answering group_not_found
// or system_managed_group_disallowed otherwise.
func (c *call) editableGroup(sel groupSelector) *Group {
	g := c.t.lookupGroup(sel)
	switch {
	case g == nil || g.Deleted:
		c.fail("group_not_found")
	case g.Management == "system_managed":
		c.fail("system_managed_group_disallowed")
	default:
		return g
	}
	return nil
}

func (c *call) groupArg(raw json.RawMessage, field string) (groupSelector, bool) {
	if isNull(raw) {
		c.bad(missing(field))
		return groupSelector{}, false
	}
	sel, err := parseGroup(raw)
	return sel, c.check(at(field, err))
}

// groupsUpdate is groups/update (reference §7.4).
func groupsUpdate(c *call) {
	var a struct {
		Group         json.RawMessage `json:"group"`
		ReturnMembers *bool           `json:"return_members"`
		NewName       *string         `json:"new_group_name"`
		NewExternalID *string         `json:"new_group_external_id"`
		NewManagement json.RawMessage `json:"new_group_management_type"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.groupArg(a.Group, "group")
	if !ok {
		return
	}
	mgmt := ""
	if !isNull(a.NewManagement) {
		if mgmt, ok = c.managementArg(a.NewManagement, "new_group_management_type"); !ok {
			return
		}
	}
	g := c.editableGroup(sel)
	if g == nil {
		return
	}
	if tag := c.t.updateRefusal(g, a.NewName, a.NewExternalID, mgmt); tag != "" {
		c.fail(tag)
		return
	}
	c.t.applyGroupUpdate(g, a.NewName, a.NewExternalID, mgmt)
	c.reply(c.t.fullInfo(g, a.ReturnMembers == nil || *a.ReturnMembers))
}

func (t *Team) updateRefusal(g *Group, name, ext *string, mgmt string) string {
	switch {
	case mgmt == "system_managed":
		return "system_managed_group_disallowed"
	case name != nil && !validGroupName(*name):
		return "group_name_invalid"
	case name != nil && t.groupByName[key(*name)] != nil && t.groupByName[key(*name)] != g:
		return "group_name_already_used"
	case ext != nil && *ext != "" && t.groupByExt[*ext] != nil && t.groupByExt[*ext] != g:
		return "external_id_already_in_use"
	}
	return ""
}

func (t *Team) applyGroupUpdate(g *Group, name, ext *string, mgmt string) {
	if name != nil {
		delete(t.groupByName, key(g.Name))
		g.Name = *name
		t.groupByName[key(g.Name)] = g
	}
	if ext != nil { // "" clears it (reference §7.4)
		delete(t.groupByExt, g.ExternalID)
		if g.ExternalID = *ext; g.ExternalID != "" {
			t.groupByExt[g.ExternalID] = g
		}
	}
	if mgmt != "" {
		g.Management = mgmt
	}
}

// groupsDelete is groups/delete: the body is a bare GroupSelector. The group
// goes at once; revoking its members' access runs as a job when it had
// members, and a second delete while that job runs is group_already_deleted.
func groupsDelete(c *call) {
	if isNull(c.body) {
		c.bad(argErr("expected a group selector"))
		return
	}
	sel, err := parseGroup(c.body)
	if !c.check(err) {
		return
	}
	g := c.t.lookupGroup(sel)
	switch {
	case g != nil && g.Deleted && g.deleting.running():
		c.fail("group_already_deleted")
	case g == nil || g.Deleted:
		c.fail("group_not_found")
	case g.Management == "system_managed":
		c.fail("system_managed_group_disallowed")
	default:
		c.reply(c.t.deleteGroup(g))
	}
}

func (t *Team) deleteGroup(g *Group) any {
	had := len(g.members) > 0
	for id := range g.members {
		t.leaveGroup(g, id)
	}
	g.Deleted = true
	delete(t.groupByName, key(g.Name))
	delete(t.groupByExt, g.ExternalID)
	if had {
		return t.startJob(&job{Kind: "group_delete", Group: g.ID})
	}
	return tagged{"complete"}
}

// joinGroup adds a member to a group or changes its access.
func (t *Team) joinGroup(g *Group, memberID string, owner bool) {
	if gm := g.members[memberID]; gm != nil {
		gm.owner = owner
		return
	}
	g.jseq++
	gm := &groupMember{id: memberID, owner: owner, seq: g.jseq}
	g.members[memberID] = gm
	g.order = append(g.order, gm)
	if m := t.byID[memberID]; m != nil {
		m.groups[g.ID] = struct{}{}
	}
}

// leaveGroup takes a member out of a group; its entry in the join order is
// dropped lazily, when more than half the entries are gone.
func (t *Team) leaveGroup(g *Group, memberID string) {
	gm := g.members[memberID]
	if gm == nil {
		return
	}
	delete(g.members, memberID)
	gm.gone = true
	g.gone++
	if g.gone > 32 && 2*g.gone > len(g.order) {
		live := g.order[:0]
		for _, x := range g.order {
			if !x.gone {
				live = append(live, x)
			}
		}
		clear(g.order[len(live):])
		g.order, g.gone = live, 0
	}
	if m := t.byID[memberID]; m != nil {
		delete(m.groups, g.ID)
	}
}

func groupIndex(i int) string { return fmt.Sprintf("members[%d]", i) }
