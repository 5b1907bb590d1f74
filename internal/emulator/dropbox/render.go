package dropbox

import (
	"strings"
	"time"
	"unicode"
)

// Typed answer shapes. Optional (?) fields carry omitempty so unset ones are
// omitted, as Dropbox omits them (reference §1); required ones never do.

type nameJSON struct {
	GivenName       string `json:"given_name"`
	Surname         string `json:"surname"`
	FamiliarName    string `json:"familiar_name"`
	DisplayName     string `json:"display_name"`
	AbbreviatedName string `json:"abbreviated_name"`
}

// statusJSON is a TeamMemberStatus; removed carries RemovedStatus flattened.
type statusJSON struct {
	Tag            string `json:".tag"`
	IsRecoverable  *bool  `json:"is_recoverable,omitempty"`
	IsDisconnected *bool  `json:"is_disconnected,omitempty"`
}

type secondaryEmail struct {
	Email      string `json:"email"`
	IsVerified bool   `json:"is_verified"`
}

// memberProfile is a MemberProfile (reference §4.2).
type memberProfile struct {
	TeamMemberID    string           `json:"team_member_id"`
	ExternalID      string           `json:"external_id,omitempty"`
	AccountID       string           `json:"account_id,omitempty"`
	Email           string           `json:"email"`
	EmailVerified   bool             `json:"email_verified"`
	SecondaryEmails []secondaryEmail `json:"secondary_emails"`
	Status          statusJSON       `json:"status"`
	Name            nameJSON         `json:"name"`
	MembershipType  tagged           `json:"membership_type"`
	InvitedOn       string           `json:"invited_on,omitempty"`
	JoinedOn        string           `json:"joined_on,omitempty"`
	SuspendedOn     string           `json:"suspended_on,omitempty"`
	PersistentID    string           `json:"persistent_id,omitempty"`
	DirRestricted   *bool            `json:"is_directory_restricted,omitempty"`
}

// teamMemberProfile is a TeamMemberProfile: a MemberProfile plus groups and folders.
type teamMemberProfile struct {
	memberProfile
	Groups         []string `json:"groups"`
	MemberFolderID string   `json:"member_folder_id"`
	RootFolderID   string   `json:"root_folder_id,omitempty"`
}

type roleJSON struct {
	RoleID      string `json:"role_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// memberInfoV2 is a TeamMemberInfoV2; roles is omitted for plain members.
type memberInfoV2 struct {
	Profile teamMemberProfile `json:"profile"`
	Roles   []roleJSON        `json:"roles,omitempty"`
}

// taggedInfo is a union member whose value, a TeamMemberInfoV2 struct, is
// flattened next to the tag (reference §1.1).
type taggedInfo struct {
	Tag string `json:".tag"`
	memberInfoV2
}

// stamp renders a DropboxTimestamp: UTC, whole seconds.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func (t *Team) statusOf(m *Member) statusJSON {
	if m.Status != StatusRemoved {
		return statusJSON{Tag: m.Status}
	}
	rec, disc := t.recoverable(m), m.Disconnected
	return statusJSON{Tag: StatusRemoved, IsRecoverable: &rec, IsDisconnected: &disc}
}

func (t *Team) profile(m *Member) memberProfile {
	p := memberProfile{
		TeamMemberID: m.ID, ExternalID: m.ExternalID, AccountID: m.AccountID, Email: m.Email,
		EmailVerified: m.EmailVerified, SecondaryEmails: []secondaryEmail{}, Status: t.statusOf(m),
		Name: names(m.GivenName, m.Surname), MembershipType: tagged{"full"},
		JoinedOn: stamp(m.JoinedOn), PersistentID: m.PersistentID, DirRestricted: m.DirRestricted,
	}
	// invited_on only while invited, suspended_on only while suspended (reference §4.2).
	switch m.Status {
	case StatusInvited:
		p.InvitedOn = stamp(m.InvitedOn)
	case StatusSuspended:
		p.SuspendedOn = stamp(m.SuspendedOn)
	}
	return p
}

func (t *Team) teamProfile(m *Member) teamMemberProfile {
	return teamMemberProfile{memberProfile: t.profile(m), Groups: t.groupIDs(m), MemberFolderID: m.FolderID, RootFolderID: m.RootFolderID}
}

func (t *Team) infoV2(m *Member) memberInfoV2 {
	out := memberInfoV2{Profile: t.teamProfile(m)}
	if r, ok := roleByID(m.RoleID); ok {
		out.Roles = []roleJSON{roleOut(r)}
	}
	return out
}

func roleOut(r role) roleJSON {
	return roleJSON{RoleID: r.ID, Name: r.Name, Description: r.Description}
}

// names derives the read-only name parts the way Dropbox shows them.
func names(given, surname string) nameJSON {
	display := strings.TrimSpace(given + " " + surname)
	familiar := given
	if familiar == "" {
		familiar = display
	}
	return nameJSON{GivenName: given, Surname: surname, FamiliarName: familiar, DisplayName: display,
		AbbreviatedName: initial(given) + initial(surname)}
}

func initial(s string) string {
	for _, r := range s {
		return string(unicode.ToUpper(r))
	}
	return ""
}
