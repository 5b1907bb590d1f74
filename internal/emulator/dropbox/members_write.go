package dropbox

import (
	"encoding/json"
	"time"
)

type setProfileArg struct {
	User             json.RawMessage `json:"user"`
	NewEmail         *string         `json:"new_email"`
	NewExternalID    *string         `json:"new_external_id"`
	NewGivenName     *string         `json:"new_given_name"`
	NewSurname       *string         `json:"new_surname"`
	NewPersistentID  *string         `json:"new_persistent_id"`
	NewDirRestricted *bool           `json:"new_is_directory_restricted"`
}

func (a setProfileArg) empty() bool {
	return a.NewEmail == nil && a.NewExternalID == nil && a.NewGivenName == nil && a.NewSurname == nil &&
		a.NewPersistentID == nil && a.NewDirRestricted == nil
}

// membersSetProfile is members/set_profile_v2 (reference §5.5).
func membersSetProfile(c *call) {
	var a setProfileArg
	if !c.decode(&a) {
		return
	}
	sel, ok := c.userArg(a.User, "user")
	nonEmpty := func(v string) error {
		if v == "" {
			return nil // answered as param_cannot_be_empty
		}
		return checkEmail(v)
	}
	if !ok || !c.check(optString("new_email", a.NewEmail, nonEmpty),
		optString("new_external_id", a.NewExternalID, func(v string) error { return checkLen(v, 64) }),
		optString("new_given_name", a.NewGivenName, checkName), optString("new_surname", a.NewSurname, checkName)) {
		return
	}
	m := c.t.resolve(sel)
	switch {
	case m == nil && sel.Tag == "email" && c.t.onOtherTeam(sel.Value):
		c.fail("user_not_in_team")
	case m == nil:
		c.fail("user_not_found")
	case m.Status == StatusRemoved:
		c.fail("set_profile_disallowed")
	default:
		tag := c.t.profileRefusal(m, sel, a)
		if tag == "" && a.NewEmail != nil && !c.s.reg.tryClaim(*a.NewEmail, c.t.name) {
			tag = "email_reserved_for_other_user"
		}
		if tag != "" {
			c.fail(tag)
			return
		}
		c.t.applyProfile(m, a)
		c.reply(map[string]any{"member_info": c.t.infoV2(m)})
	}
}

// profileRefusal returns the error tag for a profile change that cannot be made, or "".
func (t *Team) profileRefusal(m *Member, sel selector, a setProfileArg) string {
	owner := func(idx func(string) *Member, v *string) bool {
		if v == nil || *v == "" {
			return false
		}
		o := idx(*v)
		return o != nil && o != m
	}
	switch {
	case sel.Tag == "external_id" && a.NewExternalID != nil:
		return "external_id_and_new_external_id_unsafe"
	case a.empty():
		return "no_new_data_specified"
	case a.NewEmail != nil && *a.NewEmail == "":
		return "param_cannot_be_empty"
	case owner(t.byEmailKey, a.NewEmail) || (a.NewEmail != nil && t.onOtherTeam(*a.NewEmail)):
		return "email_reserved_for_other_user"
	case owner(t.byExtID, a.NewExternalID):
		return "external_id_used_by_other_user"
	case a.NewPersistentID != nil && !t.settings.PersistentIDs:
		return "persistent_id_disabled"
	case owner(t.byPersistentID, a.NewPersistentID):
		return "persistent_id_used_by_other_user"
	case a.NewDirRestricted != nil && !t.settings.DirRestrictions:
		return "directory_restricted_off"
	}
	return ""
}

func (t *Team) applyProfile(m *Member, a setProfileArg) {
	t.unindex(m)
	if a.NewEmail != nil { // the caller has claimed the new email
		if key(m.Email) != key(*a.NewEmail) {
			t.s.reg.releaseEmail(m.Email, t.name)
		}
		m.Email = *a.NewEmail
	}
	if a.NewExternalID != nil {
		m.ExternalID = *a.NewExternalID // "" clears it (reference §5.5)
	}
	if a.NewPersistentID != nil {
		m.PersistentID = *a.NewPersistentID
	}
	if a.NewGivenName != nil {
		m.GivenName = *a.NewGivenName
	}
	if a.NewSurname != nil {
		m.Surname = *a.NewSurname
	}
	if a.NewDirRestricted != nil {
		v := *a.NewDirRestricted
		m.DirRestricted = &v
	}
	t.index(m)
}

// membersSetPermissions is members/set_admin_permissions_v2 (reference §5.7).
// An absent new_roles demotes like [] does: the Go SDK drops an empty list
// (omitempty), and the reference leaves the absent case open (§14).
func membersSetPermissions(c *call) {
	var a struct {
		User     json.RawMessage `json:"user"`
		NewRoles []string        `json:"new_roles"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.userArg(a.User, "user")
	if !ok || !c.check(at("new_roles", checkItems(len(a.NewRoles), 1))) {
		return
	}
	m := c.current(sel)
	if m == nil {
		return
	}
	newRole := ""
	if len(a.NewRoles) == 1 {
		newRole = a.NewRoles[0]
	}
	if _, known := roleByID(newRole); newRole != "" && !known {
		c.fail("role_not_found")
		return
	}
	switch {
	case m.Status == StatusSuspended:
		c.fail("cannot_set_permissions")
	case newRole != teamAdminRole && c.t.isLastTeamAdmin(m):
		c.fail("last_admin")
	default:
		c.t.setRole(m, newRole)
		out := map[string]any{"team_member_id": m.ID}
		if r, ok := roleByID(newRole); ok {
			out["roles"] = []roleJSON{roleOut(r)}
		}
		c.reply(out)
	}
}

// userWipeArg reads {"user", "wipe_data"}; wipe_data defaults to true.
func (c *call) userWipeArg() (*Member, bool, bool) {
	var a struct {
		User     json.RawMessage `json:"user"`
		WipeData *bool           `json:"wipe_data"`
	}
	if !c.decode(&a) {
		return nil, false, false
	}
	sel, ok := c.userArg(a.User, "user")
	if !ok {
		return nil, false, false
	}
	m := c.current(sel)
	return m, a.WipeData == nil || *a.WipeData, m != nil
}

// membersSuspend is members/suspend (reference §5.8); its result is Void (null).
func membersSuspend(c *call) {
	m, wipe, ok := c.userWipeArg()
	switch {
	case !ok:
	case m.Status != StatusActive:
		c.fail("suspend_inactive_user")
	case c.t.isLastTeamAdmin(m):
		c.fail("suspend_last_admin")
	default:
		m.SuspendedOn = c.t.now()
		c.t.setStatus(m, StatusSuspended)
		if wipe {
			m.DevicesWiped++
		}
		c.reply(nil)
	}
}

// userOnly reads {"user": UserSelectorArg} and resolves a current member.
func (c *call) userOnly() *Member {
	var a struct {
		User json.RawMessage `json:"user"`
	}
	if !c.decode(&a) {
		return nil
	}
	sel, ok := c.userArg(a.User, "user")
	if !ok {
		return nil
	}
	return c.current(sel)
}

// membersUnsuspend is members/unsuspend (reference §5.9).
func membersUnsuspend(c *call) {
	m := c.userOnly()
	switch {
	case m == nil:
	case m.Status != StatusSuspended:
		c.fail("unsuspend_non_suspended_member")
	case c.t.seats > c.t.licenses: // suspended members keep their seat; only an over-full team refuses
		c.fail("team_license_limit")
	default:
		m.SuspendedOn = time.Time{}
		c.t.setStatus(m, StatusActive)
		c.reply(nil)
	}
}

// membersSendWelcome is members/send_welcome_email: the body is a bare
// UserSelectorArg; a no-op unless the member is invited (reference §5.13).
func membersSendWelcome(c *call) {
	if isNull(c.body) {
		c.bad(argErr("expected a user selector"))
		return
	}
	sel, err := parseUser(c.body)
	if !c.check(err) {
		return
	}
	if m := c.current(sel); m != nil {
		if m.Status == StatusInvited {
			c.t.addWelcome(m)
		}
		c.reply(nil)
	}
}
