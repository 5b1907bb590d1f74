package dropbox

import (
	"encoding/json"
	"fmt"
)

type membersPage struct {
	Members []memberInfoV2 `json:"members"`
	Cursor  string         `json:"cursor"`
	HasMore bool           `json:"has_more"`
}

// membersList is members/list_v2 (reference §5.3).
func membersList(c *call) {
	var arg struct {
		Limit          *int64 `json:"limit"`
		IncludeRemoved bool   `json:"include_removed"`
	}
	if !c.decode(&arg) {
		return
	}
	limit, err := limitArg(arg.Limit)
	if !c.check(err) {
		return
	}
	c.memberPage(cursor{Kind: "members", Limit: limit, Removed: arg.IncludeRemoved})
}

func membersListContinue(c *call) {
	if cur, ok := c.continueArg("members"); ok {
		c.memberPage(cur)
	}
}

// memberPage answers one page in the order members were added. It costs
// O(page) plus the removed members it steps over, each of them once per
// listing; the cursor always comes back, has_more is exact.
func (c *call) memberPage(cur cursor) {
	t := c.t
	out := make([]memberInfoV2, 0, min(cur.Limit, 128))
	i := int(cur.Pos)
	for ; i < len(t.members) && len(out) < cur.Limit; i++ {
		if m := t.members[i]; cur.Removed || m.Status != StatusRemoved {
			out = append(out, t.infoV2(m))
		}
	}
	i = t.nextListed(i, cur.Removed)
	cur.Pos = int64(i)
	c.reply(membersPage{Members: out, Cursor: t.encodeCursor(cur), HasMore: i < len(t.members)})
}

// nextListed returns the first position from i whose member a listing shows.
func (t *Team) nextListed(i int, removed bool) int {
	for !removed && i < len(t.members) && t.members[i].Status == StatusRemoved {
		i++
	}
	return i
}

// membersGetInfo is members/get_info_v2: one item per selector, in order;
// unknown ones are id_not_found, not an error (reference §5.4). Removed
// members are id_not_found too, as the reference advises (§6).
func membersGetInfo(c *call) {
	var arg struct {
		Members *[]json.RawMessage `json:"members"`
	}
	if !c.decode(&arg) {
		return
	}
	if arg.Members == nil {
		c.bad(missing("members"))
		return
	}
	sels := make([]selector, len(*arg.Members))
	for i, raw := range *arg.Members {
		sel, err := parseUser(raw)
		if !c.check(at(fmt.Sprintf("members[%d]", i), err)) {
			return
		}
		sels[i] = sel
	}
	out := make([]any, len(sels))
	for i, sel := range sels {
		if m := c.t.resolve(sel); m != nil && m.Status != StatusRemoved {
			out[i] = taggedInfo{Tag: "member_info", memberInfoV2: c.t.infoV2(m)}
		} else {
			out[i] = unionValue("id_not_found", sel.Value)
		}
	}
	c.reply(map[string]any{"members_info": out})
}

// membersRoles is members/get_available_team_member_roles (reference §5.6).
func membersRoles(c *call) {
	out := make([]roleJSON, len(roles))
	for i, r := range roles {
		out[i] = roleOut(r)
	}
	c.reply(map[string]any{"roles": out})
}

// resolve finds the member a selector names on this team: by id any member,
// by email, external id only current and recoverable removed members.
func (t *Team) resolve(sel selector) *Member {
	switch sel.Tag {
	case "team_member_id":
		return t.byID[sel.Value]
	case "email":
		return t.byEmailKey(sel.Value)
	case "external_id":
		return t.byExtID(sel.Value)
	}
	return nil
}

// current resolves a selector for a route that needs a current member,
// answering user_not_found (nobody) or user_not_in_team (a removed member,
// or someone on another team) otherwise (reference §4.1).
func (c *call) current(sel selector) *Member {
	m := c.t.resolve(sel)
	switch {
	case m == nil && sel.Tag == "email" && c.t.onOtherTeam(sel.Value):
		c.fail("user_not_in_team")
	case m == nil:
		c.fail("user_not_found")
	case m.Status == StatusRemoved:
		c.fail("user_not_in_team")
	default:
		return m
	}
	return nil
}

// userArg reads a required UserSelectorArg field, answering 400 if it is bad.
func (c *call) userArg(raw json.RawMessage, field string) (selector, bool) {
	if isNull(raw) {
		c.bad(missing(field))
		return selector{}, false
	}
	sel, err := parseUser(raw)
	return sel, c.check(at(field, err))
}
