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

// Role is the role an assignment gives in its app: opaque to the directory.
// The app's kind defines its roles and their order (connector.Spec.Roles);
// whoever stores an assignment checks its role against them.
type Role string

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

// Validate checks that the assignment names one subject; its role is the
// app kind's to check.
func (a *Assignment) Validate() error {
	if (a.UserID == 0) == (a.GroupID == 0) {
		return fmt.Errorf("%w: an assignment names either a user or a group", ErrInvalid)
	}
	return nil
}
