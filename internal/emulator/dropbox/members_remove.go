package dropbox

import (
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"
)

// removeReq is a parsed MembersRemoveArg (reference §5.10).
type removeReq struct {
	wipe, keep, retain, perm bool
	dest, admin              *selector
}

type removeArg struct {
	User                   json.RawMessage `json:"user"`
	WipeData               *bool           `json:"wipe_data"`
	TransferDestID         json.RawMessage `json:"transfer_dest_id"`
	TransferAdminID        json.RawMessage `json:"transfer_admin_id"`
	KeepAccount            bool            `json:"keep_account"`
	RetainTeamShares       bool            `json:"retain_team_shares"`
	PermanentlyDeleteFiles bool            `json:"permanently_delete_files"` // 2026 spec
}

// maxDisableEmail approximates email_address_too_long_to_be_disabled: Dropbox
// rewrites a removed member's email, and one this long leaves no room.
const maxDisableEmail = 240

// membersRemove is members/remove; every §9.2 error the state can produce.
func membersRemove(c *call) {
	var a removeArg
	if !c.decode(&a) {
		return
	}
	sel, ok := c.userArg(a.User, "user")
	if !ok {
		return
	}
	req := removeReq{wipe: a.WipeData == nil || *a.WipeData, keep: a.KeepAccount, retain: a.RetainTeamShares, perm: a.PermanentlyDeleteFiles}
	var err1, err2 error
	req.dest, err1 = optionalUser(a.TransferDestID, "transfer_dest_id")
	req.admin, err2 = optionalUser(a.TransferAdminID, "transfer_admin_id")
	if !c.check(err1, err2) {
		return
	}
	m := c.current(sel)
	if m == nil {
		return
	}
	dest, tag := c.t.checkRemove(m, req)
	if tag != "" {
		c.fail(tag)
		return
	}
	c.reply(c.t.remove(m, dest, req))
}

// checkRemove validates a removal in the order the reference suggests (§9.2)
// and returns the transfer destination, or the error tag.
func (t *Team) checkRemove(m *Member, req removeReq) (*Member, string) {
	if tag := optionConflict(req); tag != "" {
		return nil, tag
	}
	var dest *Member
	if req.dest != nil {
		var tag string
		if dest, tag = t.checkTransfer(m, *req.dest, *req.admin); tag != "" {
			return nil, tag
		}
	}
	return dest, t.stateConflict(m, req)
}

func optionConflict(req removeReq) string {
	switch {
	case req.keep && req.dest != nil:
		return "cannot_keep_account_and_transfer"
	case req.keep && req.wipe:
		return "cannot_keep_account_and_delete_data"
	case req.keep && req.perm:
		return "cannot_keep_account_and_permanently_delete"
	case req.perm && req.dest != nil:
		return "cannot_permanently_delete_and_transfer"
	case req.retain && req.wipe:
		return "cannot_retain_shares_when_data_wiped"
	case req.retain && !req.keep:
		return "cannot_retain_shares_when_no_account_kept"
	case req.dest != nil && req.admin == nil:
		return "unspecified_transfer_admin_id"
	}
	return ""
}

// checkTransfer resolves the transfer destination and admin (§9.2 group B).
func (t *Team) checkTransfer(m *Member, destSel, adminSel selector) (*Member, string) {
	d, a := t.resolve(destSel), t.resolve(adminSel)
	switch {
	case d == nil && !(destSel.Tag == "email" && t.onOtherTeam(destSel.Value)):
		return nil, "transfer_dest_user_not_found"
	case d == nil || d.Status == StatusRemoved:
		return nil, "transfer_dest_user_not_in_team"
	case d == m:
		return nil, "removed_and_transfer_dest_should_differ"
	case a == nil && !(adminSel.Tag == "email" && t.onOtherTeam(adminSel.Value)):
		return nil, "transfer_admin_user_not_found"
	case a == nil || a.Status == StatusRemoved:
		return nil, "transfer_admin_user_not_in_team"
	case a == m:
		return nil, "removed_and_transfer_admin_should_differ"
	case a.RoleID == "":
		return nil, "transfer_admin_is_not_admin"
	case !d.EmailVerified:
		return nil, "recipient_not_verified"
	}
	return d, ""
}

// stateConflict checks what the member's and team's state forbid.
func (t *Team) stateConflict(m *Member, req removeReq) string {
	actor := t.byID[t.adminID]
	switch {
	case t.isLastTeamAdmin(m):
		return "remove_last_admin"
	case t.transferring(m):
		return "member_is_transfer_destination"
	case req.keep && m.Status == StatusInvited:
		return "cannot_keep_invited_user_account"
	case req.keep && (actor == nil || actor.RoleID != teamAdminRole):
		return "cannot_keep_account" // only a full team admin may convert an account to Basic
	case req.keep && m.LegalHold:
		return "cannot_keep_account_under_legal_hold"
	case req.keep && m.MustSignTOS:
		return "cannot_keep_account_required_to_sign_tos"
	case req.retain && !t.settings.ExternalSharing:
		return "cannot_retain_shares_when_team_external_sharing_off"
	case !req.keep && utf8.RuneCountInString(m.Email) > maxDisableEmail:
		return "email_address_too_long_to_be_disabled"
	}
	return ""
}

// remove takes a member off the team and returns the launch answer.
func (t *Team) remove(m *Member, dest *Member, req removeReq) any {
	m.PrevStatus, m.SuspendedOn, m.RemovedAt = m.Status, time.Time{}, t.now()
	t.setStatus(m, StatusRemoved)
	t.s.reg.releaseEmail(m.Email, t.name)
	if req.wipe {
		m.DevicesWiped++
	}
	t.leaveAllGroups(m)
	switch {
	case req.keep: // the account lives on as a personal Basic account with its files
		m.Disconnected, m.RetainedShares = true, req.retain
		t.personal[key(m.Email)] = &Personal{Plan: "basic", AccountID: m.AccountID, Files: m.Files}
		m.Files = nil
		t.unindex(m)
	case req.perm:
		m.PermanentlyDeleted, m.Files = true, nil
		t.unindex(m)
	case dest != nil: // one-time and irreversible: the member can no longer be recovered
		for _, f := range m.Files {
			dest.Files = append(dest.Files, m.Email+"/"+f)
		}
		m.Files, m.Transferred, m.TransferredTo = nil, true, dest.ID
		t.unindex(m)
		return t.startJob(&job{Kind: "remove", Member: m.ID, Dest: dest.ID})
	}
	return tagged{"complete"}
}

func (t *Team) leaveAllGroups(m *Member) {
	m.FormerGroups = m.FormerGroups[:0]
	for id := range m.groups {
		m.FormerGroups = append(m.FormerGroups, id)
		t.leaveGroup(t.groupByID[id], m.ID)
	}
	slices.Sort(m.FormerGroups)
}

// membersRecover is members/recover: within 7 days, unless the files were
// transferred or deleted or the account kept (reference §5.12).
func membersRecover(c *call) {
	var a struct {
		User json.RawMessage `json:"user"`
	}
	if !c.decode(&a) {
		return
	}
	sel, ok := c.userArg(a.User, "user")
	if !ok {
		return
	}
	t := c.t
	m := t.resolve(sel)
	switch {
	case m == nil && sel.Tag == "email" && t.onOtherTeam(sel.Value):
		c.fail("user_not_in_team")
	case m == nil:
		c.fail("user_not_found")
	case !t.recoverable(m) || t.onOtherTeam(m.Email):
		c.fail("user_unrecoverable")
	case t.seats >= t.licenses:
		c.fail("team_license_limit")
	case !t.s.reg.tryClaim(m.Email, t.name):
		c.fail("user_unrecoverable") // the email went to another team meanwhile
	default:
		t.recover(m)
		c.reply(nil)
	}
}

// recover restores a removed member to the status it had, in the groups it left.
func (t *Team) recover(m *Member) {
	prev := m.PrevStatus
	if prev == "" {
		prev = StatusActive
	}
	m.RemovedAt, m.PrevStatus = time.Time{}, ""
	if prev == StatusSuspended {
		m.SuspendedOn = t.now()
	}
	t.setStatus(m, prev)
	t.s.reg.claimEmail(m.Email, t.name)
	for _, id := range m.FormerGroups {
		if g := t.groupByID[id]; g != nil && !g.Deleted {
			t.joinGroup(g, m.ID, false)
		}
	}
	m.FormerGroups = nil
}
