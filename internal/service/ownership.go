package service

import (
	"context"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
)

// A user or group that a directory source (SCIM, LDAP) owns is changed by
// that source only (MISSION D7): an admin's edit here would be overwritten
// at the source's next push or sync, silently. Status changes stay open to
// admins (suspending a leaver's account cannot wait for the IdP).

// ownedElsewhere refuses an admin's change of what a source owns.
func ownedElsewhere(kind, name, source string) error {
	if source == "" || source == directory.SourceAPI {
		return nil
	}
	return fmt.Errorf("%w: %s %s belongs to source %s, which would overwrite a change made here: change it in that source, or hand what it owns to Roster with roster sources remove %s",
		directory.ErrConflict, kind, name, source, source)
}

// ownUser refuses an admin's edit of a source's user.
func (s *Service) ownUser(ctx context.Context, username string) error {
	u, err := s.st.GetUser(ctx, username)
	if err != nil {
		return nil // the change itself says the user is not found
	}
	return ownedElsewhere("user", u.Username, u.Source)
}

// ownGroup refuses an admin's edit of a source's group.
func (s *Service) ownGroup(ctx context.Context, name string) error {
	g, err := s.st.GetGroup(ctx, name)
	if err != nil {
		return nil // the change itself says the group is not found
	}
	return ownedElsewhere("group", g.Name, g.Source)
}
