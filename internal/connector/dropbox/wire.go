package dropbox

import (
	"strings"

	"github.com/roster-dev/roster/internal/connector"
)

// The wire types hold only what the connector reads: unknown fields are skipped
// by the decoder, which keeps listing 100,000 members cheap.

// userSelector is a UserSelectorArg (reference §4.1); exactly one key is set.
type userSelector struct {
	Tag          string `json:".tag"`
	TeamMemberID string `json:"team_member_id,omitempty"`
	Email        string `json:"email,omitempty"`
	ExternalID   string `json:"external_id,omitempty"`
}

func byID(id string) userSelector { return userSelector{Tag: "team_member_id", TeamMemberID: id} }

func byEmail(email string) userSelector { return userSelector{Tag: "email", Email: email} }

// selectorOf maps a connector.Selector, preferring the id; ok is false when
// the selector names nothing (e.g. a user without external id).
func selectorOf(s connector.Selector) (userSelector, bool) {
	switch {
	case s.ID != "":
		return byID(s.ID), true
	case s.Email != "":
		return byEmail(s.Email), true
	case s.ExternalID != "":
		return userSelector{Tag: "external_id", ExternalID: s.ExternalID}, true
	}
	return userSelector{}, false
}

// groupSelector is a GroupSelector by group id.
type groupSelector struct {
	Tag     string `json:".tag"`
	GroupID string `json:"group_id"`
}

func groupByID(id string) groupSelector { return groupSelector{Tag: "group_id", GroupID: id} }

// tagged is any union answer whose members we tell apart by tag.
type tagged struct {
	Tag string `json:".tag"`
}

// asyncLaunch is a LaunchEmptyResult: complete, or a job to poll.
type asyncLaunch struct {
	Tag        string `json:".tag"`
	AsyncJobID string `json:"async_job_id"`
}

// memberInfo is a TeamMemberInfoV2: a profile and, for admins, roles.
type memberInfo struct {
	Profile profile    `json:"profile"`
	Roles   []wireRole `json:"roles"`
}

type profile struct {
	TeamMemberID string     `json:"team_member_id"`
	AccountID    string     `json:"account_id"`
	Email        string     `json:"email"`
	ExternalID   string     `json:"external_id"`
	Status       wireStatus `json:"status"`
	Name         struct {
		GivenName string `json:"given_name"`
		Surname   string `json:"surname"`
	} `json:"name"`
	Groups []string `json:"groups"`
}

// wireStatus is a TeamMemberStatus; removed carries its struct flattened.
type wireStatus struct {
	Tag           string `json:".tag"`
	IsRecoverable bool   `json:"is_recoverable"`
}

type wireRole struct {
	RoleID string `json:"role_id"`
	Name   string `json:"name"`
}

func (p *profile) member(roles []wireRole) connector.Member {
	return connector.Member{
		ID:          p.TeamMemberID,
		AccountID:   p.AccountID,
		Email:       p.Email,
		GivenName:   p.Name.GivenName,
		Surname:     p.Name.Surname,
		ExternalID:  p.ExternalID,
		Status:      connector.MemberStatus(p.Status.Tag),
		Recoverable: p.Status.Tag == "removed" && p.Status.IsRecoverable,
		Role:        roleOf(roles),
		Groups:      p.Groups,
	}
}

func (m *memberInfo) member() connector.Member { return m.Profile.member(m.Roles) }

// roleOf picks the member's role from its v2 roles: none means a plain member;
// of several, the most powerful known one wins.
func roleOf(roles []wireRole) connector.Role {
	best, rank := RoleMember, 0
	for _, r := range roles {
		role := roleOfName(r.Name)
		if k := roleRank(role); k > rank {
			best, rank = role, k
		}
	}
	return best
}

// roleOfName matches Dropbox's role names, which differ between the live
// service ("Team") and the spec examples ("Team admin"). A role we do not know
// (e.g. "Billing admin") is kept as its snake_cased name, so the engine sees
// it differs from any role it wants.
func roleOfName(name string) connector.Role {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	switch {
	case n == "":
		return RoleMember
	case n == "team" || strings.HasPrefix(n, "team admin"):
		return RoleTeamAdmin
	case strings.HasPrefix(n, "user management admin"):
		return RoleUserManagementAdmin
	case strings.HasPrefix(n, "support admin"):
		return RoleSupportAdmin
	}
	return connector.Role(strings.ReplaceAll(n, " ", "_"))
}

func roleRank(r connector.Role) int {
	switch r {
	case RoleMember:
		return 0
	case RoleTeamAdmin:
		return 4
	case RoleUserManagementAdmin:
		return 3
	case RoleSupportAdmin:
		return 2
	}
	return 1 // an admin role we do not map
}

// wireGroup is a GroupSummary (GroupFullInfo adds fields we do not read).
type wireGroup struct {
	GroupName      string `json:"group_name"`
	GroupID        string `json:"group_id"`
	ExternalID     string `json:"group_external_id"`
	MemberCount    int    `json:"member_count"`
	ManagementType tagged `json:"group_management_type"`
}

func (g *wireGroup) group() connector.Group {
	return connector.Group{ID: g.GroupID, Name: g.GroupName, ExternalID: g.ExternalID,
		MemberCount: g.MemberCount, ManagementType: g.ManagementType.Tag, AppManaged: g.ManagementType.Tag == "system_managed"}
}
