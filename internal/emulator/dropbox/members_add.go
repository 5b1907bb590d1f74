package dropbox

import (
	"encoding/json"
	"fmt"
)

// newMemberArg is a MemberAddV2Arg (reference §5.1).
type newMemberArg struct {
	Email         *string  `json:"member_email"`
	GivenName     *string  `json:"member_given_name"`
	Surname       *string  `json:"member_surname"`
	ExternalID    *string  `json:"member_external_id"`
	PersistentID  *string  `json:"member_persistent_id"`
	SendWelcome   *bool    `json:"send_welcome_email"`
	DirRestricted *bool    `json:"is_directory_restricted"`
	RoleIDs       []string `json:"role_ids"`
}

func (a newMemberArg) check() error {
	if a.Email == nil {
		return missing("member_email")
	}
	var roleErr error
	for _, id := range a.RoleIDs {
		if roleErr == nil && !roleRE.MatchString(id) {
			roleErr = at("role_ids", argErr("'%s' did not match pattern '%s'", id, roleRE.String()))
		}
	}
	return firstErr(
		at("member_email", checkEmail(*a.Email)),
		optString("member_given_name", a.GivenName, checkName),
		optString("member_surname", a.Surname, checkName),
		optString("member_external_id", a.ExternalID, func(v string) error { return checkLen(v, 64) }),
		at("role_ids", checkItems(len(a.RoleIDs), 1)),
		roleErr,
	)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// membersAdd is members/add_v2: up to 20 members, one result each, in order;
// per-member failures come back inside the 200 (reference §5.1).
func membersAdd(c *call) {
	var arg struct {
		NewMembers *[]newMemberArg `json:"new_members"`
		ForceAsync bool            `json:"force_async"`
	}
	if !c.decode(&arg) {
		return
	}
	if arg.NewMembers == nil {
		c.bad(missing("new_members"))
		return
	}
	ms := *arg.NewMembers
	if !c.check(at("new_members", checkItems(len(ms), 20))) {
		return
	}
	for i, nm := range ms {
		if !c.check(at(fmt.Sprintf("new_members[%d]", i), nm.check())) {
			return
		}
	}
	results := make([]any, len(ms))
	for i, nm := range ms {
		results[i] = c.t.addOne(nm)
	}
	done := map[string]any{".tag": "complete", "complete": results}
	if n := c.s.faults.asyncAdd(); arg.ForceAsync || (n > 0 && len(ms) >= n) {
		b, _ := json.Marshal(done)
		c.reply(c.t.startJob(&job{Kind: "add", Result: b}))
		return
	}
	c.reply(done)
}

// addOne adds one member or returns its per-member failure, which always
// carries the email (reference §5.1, MemberAddV2Result).
func (t *Team) addOne(a newMemberArg) any {
	email := *a.Email
	tag := t.addRefusal(a)
	if tag == "" && !t.s.reg.tryClaim(email, t.name) { // another team took it since the check
		tag = "user_on_another_team"
	}
	if tag != "" {
		return unionValue(tag, email)
	}
	m := t.newMember(email, deref(a.GivenName), deref(a.Surname))
	m.ExternalID, m.PersistentID, m.DirRestricted = deref(a.ExternalID), deref(a.PersistentID), a.DirRestricted
	t.index(m)
	if len(a.RoleIDs) == 1 {
		t.setRole(m, a.RoleIDs[0])
	}
	t.capture(m)
	if a.SendWelcome == nil || *a.SendWelcome { // send_welcome_email defaults to true
		t.addWelcome(m)
	}
	return taggedInfo{Tag: "success", memberInfoV2: t.infoV2(m)}
}

// addRefusal returns the failure tag for a member that cannot be added, or "".
func (t *Team) addRefusal(a newMemberArg) string {
	email, ext, pid := *a.Email, deref(a.ExternalID), deref(a.PersistentID)
	p := t.personal[key(email)]
	switch {
	case t.byEmailKey(email) != nil: // includes recoverable removed members (reference §6)
		return "user_already_on_team"
	case t.onOtherTeam(email):
		return "user_on_another_team"
	case ext != "" && t.byExtID(ext) != nil:
		return "duplicate_external_member_id"
	case pid != "" && !t.settings.PersistentIDs:
		return "persistent_id_disabled"
	case pid != "" && t.byPersistentID(pid) != nil:
		return "duplicate_member_persistent_id"
	case p != nil && p.Paired:
		return "user_already_paired"
	case t.seats >= t.licenses:
		return "team_license_limit"
	}
	if len(a.RoleIDs) == 1 {
		if _, ok := roleByID(a.RoleIDs[0]); !ok {
			return "user_creation_failed" // the route has no role error of its own
		}
	}
	return ""
}

// capture takes a personal Basic or Pro account on a claimed domain into the
// team with its files (F8); elsewhere the new member is a fresh invitee and
// the personal account stays apart.
func (t *Team) capture(m *Member) {
	p := t.personal[key(m.Email)]
	if p == nil || p.Captured || !t.claimedDomain(m.Email) {
		return
	}
	p.Captured, m.Captured, m.EmailVerified = true, true, true
	if p.AccountID != "" {
		m.AccountID = p.AccountID
	}
	m.Files = append(m.Files, p.Files...)
}
