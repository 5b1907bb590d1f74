package dropbox

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// recoverWindow is how long a removed member can be recovered (reference §5.12).
const recoverWindow = 7 * 24 * time.Hour

// Member statuses (reference §4.2, TeamMemberStatus).
const (
	StatusInvited   = "invited"
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRemoved   = "removed"
)

// Member is one team member as the emulator holds it. Its fields are exported
// so that tests and the admin endpoint can inspect them; Snapshot hands out copies.
type Member struct {
	ID            string    `json:"team_member_id"`
	AccountID     string    `json:"account_id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	GivenName     string    `json:"given_name"`
	Surname       string    `json:"surname"`
	ExternalID    string    `json:"external_id,omitempty"`
	PersistentID  string    `json:"persistent_id,omitempty"`
	DirRestricted *bool     `json:"is_directory_restricted,omitempty"`
	Status        string    `json:"status"`                    // invited, active, suspended, removed
	PrevStatus    string    `json:"previous_status,omitempty"` // before removal; recover restores it
	RoleID        string    `json:"role_id,omitempty"`         // "" for a plain member
	InvitedOn     time.Time `json:"invited_on,omitzero"`
	JoinedOn      time.Time `json:"joined_on,omitzero"`
	SuspendedOn   time.Time `json:"suspended_on,omitzero"`
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	FolderID      string    `json:"member_folder_id"`
	RootFolderID  string    `json:"root_folder_id"`

	// Off-boarding outcomes, so wipes, transfers and kept accounts are observable.
	Files              []string `json:"files,omitempty"`
	DevicesWiped       int      `json:"devices_wiped,omitempty"`        // remote wipes ordered (suspend/remove with wipe_data)
	Disconnected       bool     `json:"is_disconnected,omitempty"`      // keep_account: now a personal Basic account
	RetainedShares     bool     `json:"retained_team_shares,omitempty"` // keep_account with retain_team_shares
	Transferred        bool     `json:"files_transferred,omitempty"`    // files moved to TransferredTo
	TransferredTo      string   `json:"files_transferred_to,omitempty"`
	PermanentlyDeleted bool     `json:"permanently_deleted,omitempty"`
	FormerGroups       []string `json:"former_groups,omitempty"` // groups left at removal; recover rejoins them

	// Seeded account conditions that make some removals fail (reference §9.2).
	Captured    bool `json:"captured,omitempty"` // a personal account taken into the team
	LegalHold   bool `json:"legal_hold,omitempty"`
	MustSignTOS bool `json:"must_sign_tos,omitempty"`

	groups map[string]struct{} // current group ids
}

// Group is one team group.
type Group struct {
	ID         string
	Name       string
	ExternalID string
	Management string // user_managed, company_managed, system_managed
	Created    time.Time
	System     bool // the "Everyone" group: its members are all current members
	Deleted    bool // kept so a second delete can tell "already deleted" (while its job runs)
	deleting   *job // the background revocation job of a delete, if any

	members map[string]*groupMember // by team_member_id
	order   []*groupMember          // join order; entries of members who left are compacted lazily
	gone    int                     // entries in order that left
	jseq    int64
}

type groupMember struct {
	id    string
	owner bool
	seq   int64
	gone  bool
}

// WelcomeEmail records an invitation Dropbox would have sent.
type WelcomeEmail struct {
	Email        string    `json:"email"`
	TeamMemberID string    `json:"team_member_id"`
	At           time.Time `json:"at"`
}

// Personal is a personal Basic or Pro Dropbox account whose email is on a
// domain the team claims; add_v2 captures it into the team with its files.
type Personal struct {
	Plan      string   `json:"plan"` // basic or pro
	AccountID string   `json:"account_id,omitempty"`
	Files     []string `json:"files,omitempty"`
	Paired    bool     `json:"paired,omitempty"` // already paired with another work account: user_already_paired
	Captured  bool     `json:"captured,omitempty"`
}

// role is a Dropbox admin role; ids are opaque, as on a real team (reference §4.3).
type role struct {
	ID, Name, Description string
}

// teamAdminRole is the role whose last active holder cannot be removed.
const teamAdminRole = "pid_dbtmr:AAAAAFMcx6E0tax39Kb0H671TzWLeE07dwaqFQ5fDRy2"

var roles = []role{
	{teamAdminRole, "Team", "Manage everything and access all permissions"},
	{"pid_dbtmr:AAAAAGDkFh1GwH0y1OjcXEoU2ZsuzEeRzGMRp3kYr7Q7", "User management admin", "Add, edit, and delete team members"},
	{"pid_dbtmr:AAAAAKx2JaVdX9yTPhPfn4uPHSRU0bXm7eNk06GuHSn1", "Support admin", "Help team members with general tasks"},
	{"pid_dbtmr:AAAAAOp1BnK8F2g5Zt4mYcQvL3xW6eRuJa9HdS0iTb4C", "Billing admin", "Make payments and renew contracts"},
}

// RoleID returns the role id of a role as the emulator names it ("Team",
// "User management admin", "Support admin", "Billing admin"), or "".
func RoleID(name string) string {
	for _, r := range roles {
		if r.Name == name {
			return r.ID
		}
	}
	return ""
}

func roleByID(id string) (role, bool) {
	for _, r := range roles {
		if r.ID == id {
			return r, true
		}
	}
	return role{}, false
}

// Team is one Dropbox team and everything in it. All fields are guarded by mu.
type Team struct {
	mu sync.Mutex
	s  *Server

	name, id string
	licenses int
	settings settings
	personal map[string]*Personal // by lower-case email
	adminID  string               // the admin every team token acts for
	welcome  []WelcomeEmail

	members []*Member // in the order they were added: list cursors are positions in it
	byID    map[string]*Member
	byEmail map[string]*Member // current and recoverable-removed members
	byExt   map[string]*Member // same
	byPID   map[string]*Member // same, persistent ids

	groups      []*Group // creation order, deleted ones included: list cursors are positions
	groupByID   map[string]*Group
	groupByExt  map[string]*Group // live groups only
	groupByName map[string]*Group // live groups, lower-case name
	everyone    *Group

	jobs      map[string]*job
	transfers map[string]*job // member id -> running remove job moving its files

	seats, provisioned, used, teamAdmins int // counters kept by setStatus/setRole

	writes *bucket
	stats  teamStats
}

// settings are the parts of a team only its admin console sets.
type settings struct {
	SSO             string   `json:"sso"` // disabled, optional, required
	Domains         []string `json:"verified_domains"`
	PersistentIDs   bool     `json:"persistent_ids"`         // SAML persistent-ID teams
	DirRestrictions bool     `json:"directory_restrictions"` // is_directory_restricted allowed
	ExternalSharing bool     `json:"external_sharing"`       // retain_team_shares needs it
}

func newTeam(s *Server, name string, licenses int) *Team {
	t := &Team{s: s, name: name, id: "dbtid:" + randomString(32), licenses: licenses,
		settings: settings{SSO: "disabled", ExternalSharing: true}}
	t.init()
	return t
}

// init makes the maps; load fills them afterwards.
func (t *Team) init() {
	t.personal = map[string]*Personal{}
	t.byID, t.byEmail, t.byExt, t.byPID = map[string]*Member{}, map[string]*Member{}, map[string]*Member{}, map[string]*Member{}
	t.groupByID, t.groupByExt, t.groupByName = map[string]*Group{}, map[string]*Group{}, map[string]*Group{}
	t.jobs, t.transfers = map[string]*job{}, map[string]*job{}
	t.writes = &bucket{}
}

// Name is the team's name.
func (t *Team) Name() string { return t.name }

// ID is the team's dbtid: identifier.
func (t *Team) ID() string { return t.id }

func (t *Team) now() time.Time { return t.s.now().UTC().Truncate(time.Second) }

func key(s string) string { return strings.ToLower(s) }

// recoverable reports whether a removed member can still be recovered.
func (t *Team) recoverable(m *Member) bool {
	return m.Status == StatusRemoved && !m.Transferred && !m.Disconnected && !m.PermanentlyDeleted &&
		!t.transferring(m) && t.now().Sub(m.RemovedAt) < recoverWindow
}

// holdsKeys reports whether a member still reserves its email, external id
// and persistent id: current members and recoverable removed ones (reference §6).
func (t *Team) holdsKeys(m *Member) bool { return m.Status != StatusRemoved || t.recoverable(m) }

func (t *Team) index(m *Member) {
	t.byEmail[key(m.Email)] = m
	if m.ExternalID != "" {
		t.byExt[m.ExternalID] = m
	}
	if m.PersistentID != "" {
		t.byPID[m.PersistentID] = m
	}
}

// unindex frees a member's email, external id and persistent id.
func (t *Team) unindex(m *Member) {
	if t.byEmail[key(m.Email)] == m {
		delete(t.byEmail, key(m.Email))
	}
	if t.byExt[m.ExternalID] == m {
		delete(t.byExt, m.ExternalID)
	}
	if t.byPID[m.PersistentID] == m {
		delete(t.byPID, m.PersistentID)
	}
}

// lookup finds the member holding a key, freeing the key first when a removed
// member's recovery window has closed (lazily, so no timer walks all members).
func (t *Team) lookup(idx map[string]*Member, k string) *Member {
	m := idx[k]
	if m != nil && !t.holdsKeys(m) {
		t.unindex(m)
		return nil
	}
	return m
}

func (t *Team) byEmailKey(email string) *Member { return t.lookup(t.byEmail, key(email)) }
func (t *Team) byExtID(ext string) *Member      { return t.lookup(t.byExt, ext) }
func (t *Team) byPersistentID(p string) *Member { return t.lookup(t.byPID, p) }

// count adds d to the counters a member's status and role feed: seats are
// invited+active+suspended (suspended members keep their licence), provisioned
// users invited+active and used licences active+suspended (reference §6, §8.1).
func (t *Team) count(m *Member, d int) {
	switch m.Status {
	case StatusInvited:
		t.seats, t.provisioned = t.seats+d, t.provisioned+d
	case StatusActive:
		t.seats, t.provisioned, t.used = t.seats+d, t.provisioned+d, t.used+d
		if m.RoleID == teamAdminRole {
			t.teamAdmins += d
		}
	case StatusSuspended:
		t.seats, t.used = t.seats+d, t.used+d
	}
}

func (t *Team) setStatus(m *Member, status string) {
	t.count(m, -1)
	m.Status = status
	t.count(m, 1)
}

func (t *Team) setRole(m *Member, roleID string) {
	t.count(m, -1)
	m.RoleID = roleID
	t.count(m, 1)
}

// isLastTeamAdmin reports whether m is the only active team admin.
func (t *Team) isLastTeamAdmin(m *Member) bool {
	return m.Status == StatusActive && m.RoleID == teamAdminRole && t.teamAdmins == 1
}

// newMember creates an invited member and indexes it; the caller has checked
// that its keys are free.
func (t *Team) newMember(email, given, surname string) *Member {
	n := len(t.members) + 1
	m := &Member{
		ID: "dbmid:AA" + randomString(32), AccountID: "dbid:AA" + randomString(33), // 40 characters (reference §1.2)
		Email: email, GivenName: given, Surname: surname, Status: StatusInvited, InvitedOn: t.now(),
		FolderID: fmt.Sprint(11_900_000_000 + 2*n), RootFolderID: fmt.Sprint(11_900_000_001 + 2*n),
		groups: map[string]struct{}{},
	}
	t.members = append(t.members, m)
	t.byID[m.ID] = m
	t.index(m)
	t.count(m, 1)
	t.s.reg.claimEmail(email, t.name)
	return m
}

// activate marks an invited member active, as accepting the invitation or
// signing in through SSO does.
func (t *Team) activate(m *Member) {
	m.InvitedOn, m.JoinedOn, m.EmailVerified = time.Time{}, t.now(), true
	t.setStatus(m, StatusActive)
}

// groupIDs lists a member's groups for TeamMemberProfile.groups, the
// everyone group first.
func (t *Team) groupIDs(m *Member) []string {
	out := make([]string, 0, len(m.groups)+1)
	if t.everyone != nil && m.Status != StatusRemoved {
		out = append(out, t.everyone.ID)
	}
	start := len(out)
	for id := range m.groups {
		out = append(out, id)
	}
	slices.Sort(out[start:])
	return out
}

func (t *Team) addWelcome(m *Member) {
	t.welcome = append(t.welcome, WelcomeEmail{Email: m.Email, TeamMemberID: m.ID, At: t.now()})
}

// claimedDomain reports whether the email's domain is one the team verified.
func (t *Team) claimedDomain(email string) bool {
	_, domain, ok := strings.Cut(email, "@")
	return ok && slices.ContainsFunc(t.settings.Domains, func(d string) bool { return strings.EqualFold(d, domain) })
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randomString returns n random characters; ids are opaque on the real
// service too.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[b[i]&63]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = "0123456789abcdef"[b[i]&15]
	}
	return string(b)
}
