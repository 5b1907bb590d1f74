package directory

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Group is a named set of users; assigning a group to an app assigns its members.
type Group struct {
	ID int64 `json:"id"`
	// ExternalKey and Source are as on User.
	ExternalKey string    `json:"external_key"`
	Source      string    `json:"source"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Members     int       `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
}

// Normalize trims the group's fields.
func (g *Group) Normalize() {
	g.Name = strings.TrimSpace(g.Name)
	g.Description = strings.TrimSpace(g.Description)
	if g.Source == "" {
		g.Source = SourceAPI
	}
}

// Validate checks the group's fields. Dropbox caps group names, so we do too.
func (g *Group) Validate() error {
	if err := checkText("group name", g.Name, 255, true); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := checkText("description", g.Description, 1024, false); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if errs := checkIdentity(g.Source, g.ExternalKey); len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Role is the Dropbox "permissions" attribute carried by an assignment (MISSION F10).
type Role string

// The four permission levels of the seed.
const (
	RoleMember              Role = "member"
	RoleTeamAdmin           Role = "team_admin"
	RoleUserManagementAdmin Role = "user_management_admin"
	RoleSupportAdmin        Role = "support_admin"
)

// Roles lists the valid roles, least privileged first.
var Roles = []Role{RoleMember, RoleSupportAdmin, RoleUserManagementAdmin, RoleTeamAdmin}

// ParseRole validates a role name; the empty string means member.
func ParseRole(s string) (Role, error) {
	if s == "" {
		return RoleMember, nil
	}
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: role %q is not one of member, team_admin, user_management_admin, support_admin", ErrInvalid, s)
}

// rank orders roles so that the most privileged of several assignments wins.
func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

// Max returns the more privileged of two roles.
func Max(a, b Role) Role {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Assignment gives an app instance to a user directly or to every member of a group.
// Exactly one of UserID and GroupID is set.
type Assignment struct {
	ID        int64     `json:"id"`
	AppID     int64     `json:"app_id"`
	AppName   string    `json:"app"`
	UserID    int64     `json:"user_id,omitempty"`
	Username  string    `json:"user,omitempty"`
	GroupID   int64     `json:"group_id,omitempty"`
	GroupName string    `json:"group,omitempty"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks that the assignment names one subject and a known role.
func (a *Assignment) Validate() error {
	if (a.UserID == 0) == (a.GroupID == 0) {
		return fmt.Errorf("%w: an assignment names either a user or a group", ErrInvalid)
	}
	_, err := ParseRole(string(a.Role))
	return err
}
