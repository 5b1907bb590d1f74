package dropbox

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The Go side of the admin endpoint: seeding and inspecting a team from tests.
// Each method takes the team's lock, so it is safe while the emulator serves.

// SeedMember describes a member to put on a team directly, as if an admin
// had added it long ago; no welcome email is recorded.
type SeedMember struct {
	Email        string   `json:"email"`
	GivenName    string   `json:"given_name"`
	Surname      string   `json:"surname"`
	ExternalID   string   `json:"external_id"`
	PersistentID string   `json:"persistent_id"`
	Status       string   `json:"status"` // invited (default), active, suspended, removed (recoverable)
	Role         string   `json:"role"`   // a role name such as "Team" or "User management admin"; "": member
	Files        []string `json:"files"`
	LegalHold    bool     `json:"legal_hold"`    // keep_account then fails
	MustSignTOS  bool     `json:"must_sign_tos"` // keep_account then fails
}

// Seed adds members and returns their team_member_ids, stopping at the first
// that cannot be added.
func (t *Team) Seed(ms []SeedMember) ([]string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.s.changed()
	ids := make([]string, 0, len(ms))
	for _, sm := range ms {
		id, err := t.seedOne(sm)
		if err != nil {
			return ids, fmt.Errorf("seed %s: %w", sm.Email, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (t *Team) seedOne(sm SeedMember) (string, error) {
	roleID := RoleID(sm.Role)
	switch {
	case checkEmail(sm.Email) != nil:
		return "", errors.New("not a valid email")
	case t.byEmailKey(sm.Email) != nil || t.onOtherTeam(sm.Email):
		return "", errors.New("email already on a team")
	case sm.ExternalID != "" && t.byExtID(sm.ExternalID) != nil:
		return "", errors.New("external id already used")
	case sm.Role != "" && roleID == "":
		return "", fmt.Errorf("no role named %q", sm.Role)
	case !slices.Contains([]string{"", StatusInvited, StatusActive, StatusSuspended, StatusRemoved}, sm.Status):
		return "", fmt.Errorf("status %q is not invited, active, suspended or removed", sm.Status)
	case !t.s.reg.tryClaim(sm.Email, t.name):
		return "", errors.New("email already on another team")
	}
	m := t.newMember(sm.Email, sm.GivenName, sm.Surname)
	m.ExternalID, m.PersistentID, m.LegalHold, m.MustSignTOS = sm.ExternalID, sm.PersistentID, sm.LegalHold, sm.MustSignTOS
	m.Files = slices.Clone(sm.Files)
	t.index(m)
	t.setRole(m, roleID)
	if sm.Status != "" && sm.Status != StatusInvited {
		t.activate(m)
	}
	switch sm.Status {
	case StatusSuspended:
		m.SuspendedOn = t.now()
		t.setStatus(m, StatusSuspended)
	case StatusRemoved:
		t.remove(m, nil, removeReq{})
	}
	return m.ID, nil
}

// Activate marks invited members active, as if they had accepted their
// invitation; unknown or non-invited emails are skipped.
func (t *Team) Activate(emails ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range emails {
		if m := t.byEmailKey(e); m != nil && m.Status == StatusInvited {
			t.activate(m)
		}
	}
	t.s.changed()
}

// SSOSignIn is an invited member signing in through the Dropbox SSO page, the
// way silently provisioned members activate (F8). It needs SSO on and the
// email's domain claimed by the team.
func (t *Team) SSOSignIn(email string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byEmailKey(email)
	switch {
	case t.settings.SSO == "disabled":
		return errors.New("SSO is disabled on this team")
	case !t.claimedDomain(email):
		return errors.New("the email's domain is not claimed by the team")
	case m == nil || m.Status != StatusInvited:
		return errors.New("no invited member with that email")
	}
	t.activate(m)
	t.s.changed()
	return nil
}

// AddFiles gives a current member files, so wipes and transfers can be observed.
func (t *Team) AddFiles(email string, files ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byEmailKey(email)
	if m == nil || m.Status == StatusRemoved {
		return fmt.Errorf("no current member %s", email)
	}
	m.Files = append(m.Files, files...)
	t.s.changed()
	return nil
}

// SeedGroup describes a group to create directly.
type SeedGroup struct {
	Name       string   `json:"name"`
	ExternalID string   `json:"external_id"`
	Management string   `json:"management"` // user_managed (default) or company_managed
	Members    []string `json:"members"`    // emails
	Owners     []string `json:"owners"`     // emails, added as owners
}

// SeedGroup creates a group with members and returns its id.
func (t *Team) SeedGroup(sg SeedGroup) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sg.Management == "" {
		sg.Management = "user_managed"
	}
	switch {
	case !validGroupName(sg.Name) || t.groupByName[key(sg.Name)] != nil:
		return "", fmt.Errorf("group name %q is empty or used", sg.Name)
	case sg.ExternalID != "" && t.groupByExt[sg.ExternalID] != nil:
		return "", fmt.Errorf("group external id %q is used", sg.ExternalID)
	case sg.Management != "user_managed" && sg.Management != "company_managed":
		return "", fmt.Errorf("management %q is not user_managed or company_managed", sg.Management)
	}
	ms := make([]*Member, 0, len(sg.Members)+len(sg.Owners))
	for _, e := range append(slices.Clone(sg.Members), sg.Owners...) {
		m := t.byEmailKey(e)
		if m == nil || m.Status == StatusRemoved {
			return "", fmt.Errorf("no current member %s", e)
		}
		ms = append(ms, m)
	}
	g := t.newGroup(sg.Name, sg.ExternalID, sg.Management)
	for i, m := range ms {
		t.joinGroup(g, m.ID, i >= len(sg.Members))
	}
	t.s.changed()
	return g.ID, nil
}

// TeamSettings are the parts of a team only its admin console sets. Nil
// fields are left as they are.
type TeamSettings struct {
	SSO             *string             `json:"sso"`              // disabled, optional or required
	Domains         []string            `json:"verified_domains"` // claimed (verified) domains
	Licenses        *int                `json:"licenses"`
	Personal        map[string]Personal `json:"personal_accounts"` // by email: accounts add_v2 may capture
	PersistentIDs   *bool               `json:"persistent_ids"`
	DirRestrictions *bool               `json:"directory_restrictions"`
	ExternalSharing *bool               `json:"external_sharing"`
	AdminEmail      *string             `json:"admin_email"` // the admin tokens act for; "": none (mapping_not_found)
	Activate        []string            `json:"activate"`    // invited members who accept
}

// Configure applies team settings.
func (t *Team) Configure(ts TeamSettings) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.configure(ts); err != nil {
		return err
	}
	t.s.changed()
	for _, e := range ts.Activate {
		if m := t.byEmailKey(e); m != nil && m.Status == StatusInvited {
			t.activate(m)
		}
	}
	return nil
}

func (t *Team) configure(ts TeamSettings) error {
	if ts.SSO != nil && !slices.Contains([]string{"disabled", "optional", "required"}, *ts.SSO) {
		return fmt.Errorf("sso %q is not disabled, optional or required", *ts.SSO)
	}
	var admin *Member
	if ts.AdminEmail != nil && *ts.AdminEmail != "" {
		if admin = t.byEmailKey(*ts.AdminEmail); admin == nil {
			return fmt.Errorf("no member %s to act as admin", *ts.AdminEmail)
		}
	}
	set(&t.settings.SSO, ts.SSO)
	set(&t.licenses, ts.Licenses)
	set(&t.settings.PersistentIDs, ts.PersistentIDs)
	set(&t.settings.DirRestrictions, ts.DirRestrictions)
	set(&t.settings.ExternalSharing, ts.ExternalSharing)
	if ts.Domains != nil {
		t.settings.Domains = slices.Clone(ts.Domains)
	}
	for email, p := range ts.Personal {
		if p.AccountID == "" {
			p.AccountID = "dbid:AA" + randomString(33)
		}
		t.personal[key(email)] = &p
	}
	if ts.AdminEmail != nil {
		t.adminID = ""
		if admin != nil {
			t.adminID = admin.ID
		}
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Snapshot is a copy of a team's state, safe to keep while the emulator runs.
type Snapshot struct {
	Name            string              `json:"name"`
	ID              string              `json:"team_id"`
	Licenses        int                 `json:"licenses"`
	Seats           int                 `json:"seats_used"` // invited + active + suspended
	SSO             string              `json:"sso"`
	Domains         []string            `json:"verified_domains"`
	PersistentIDs   bool                `json:"persistent_ids"`
	DirRestrictions bool                `json:"directory_restrictions"`
	ExternalSharing bool                `json:"external_sharing"`
	Personal        map[string]Personal `json:"personal_accounts"`
	AdminID         string              `json:"authenticated_admin"`
	Members         []Member            `json:"members"`
	Groups          []GroupSnapshot     `json:"groups"`
	Welcome         []WelcomeEmail      `json:"welcome_emails"`
	Stats           Stats               `json:"stats"`
}

// GroupSnapshot is a live group with its members' ids in join order.
type GroupSnapshot struct {
	ID          string    `json:"group_id"`
	Name        string    `json:"group_name"`
	ExternalID  string    `json:"group_external_id,omitempty"`
	Management  string    `json:"group_management_type"`
	System      bool      `json:"system,omitempty"`
	MemberCount int       `json:"member_count"`
	Members     []string  `json:"members"`
	Owners      []string  `json:"owners,omitempty"`
	Created     time.Time `json:"created"`
}

// Snapshot copies the team's state. Deleted groups are left out.
func (t *Team) Snapshot() Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	sn := Snapshot{Name: t.name, ID: t.id, Licenses: t.licenses, Seats: t.seats, SSO: t.settings.SSO,
		Domains: slices.Clone(t.settings.Domains), PersistentIDs: t.settings.PersistentIDs,
		DirRestrictions: t.settings.DirRestrictions, ExternalSharing: t.settings.ExternalSharing,
		Personal: map[string]Personal{}, AdminID: t.adminID, Welcome: slices.Clone(t.welcome), Stats: t.stats.snapshot()}
	for k, p := range t.personal {
		c := *p
		c.Files = slices.Clone(p.Files)
		sn.Personal[k] = c
	}
	sn.Members = make([]Member, len(t.members))
	for i, m := range t.members {
		sn.Members[i] = copyMember(m)
	}
	for _, g := range t.groups {
		if !g.Deleted {
			sn.Groups = append(sn.Groups, t.groupSnapshot(g))
		}
	}
	return sn
}

func copyMember(m *Member) Member {
	c := *m
	c.Files, c.FormerGroups, c.groups = slices.Clone(m.Files), slices.Clone(m.FormerGroups), nil
	if m.DirRestricted != nil {
		v := *m.DirRestricted
		c.DirRestricted = &v
	}
	return c
}

func (t *Team) groupSnapshot(g *Group) GroupSnapshot {
	gs := GroupSnapshot{ID: g.ID, Name: g.Name, ExternalID: g.ExternalID, Management: g.Management, System: g.System,
		MemberCount: t.memberCount(g), Members: []string{}, Created: g.Created}
	for _, gm := range g.order {
		if gm.gone {
			continue
		}
		gs.Members = append(gs.Members, gm.id)
		if gm.owner {
			gs.Owners = append(gs.Owners, gm.id)
		}
	}
	return gs
}

// Member returns a copy of the member holding an email (current or
// recoverable removed), or of the member with that team_member_id.
func (t *Team) Member(emailOrID string) (Member, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byID[emailOrID]
	if m == nil {
		m = t.byEmailKey(emailOrID)
	}
	if m == nil {
		return Member{}, false
	}
	return copyMember(m), true
}

// WelcomeEmails returns the invitations sent so far.
func (t *Team) WelcomeEmails() []WelcomeEmail {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]WelcomeEmail{}, t.welcome...) // [] rather than null in JSON
}

// Stats returns the team's call counters.
func (t *Team) Stats() Stats { return t.stats.snapshot() }

// MemberByEmail returns the newest member with that email (any status), or nil.
func (sn Snapshot) MemberByEmail(email string) *Member {
	for i := len(sn.Members) - 1; i >= 0; i-- {
		if key(sn.Members[i].Email) == key(email) {
			return &sn.Members[i]
		}
	}
	return nil
}

// PersonalAccount returns a personal account by email.
func (sn Snapshot) PersonalAccount(email string) (Personal, bool) {
	p, ok := sn.Personal[key(email)]
	return p, ok
}
