package dropbox

import (
	"testing"

	"github.com/roster-dev/roster/internal/connector"
)

// Dropbox's roles, as the registry checks and ranks them: "" is a plain
// member, an unknown role is refused, and the most privileged of two wins
// (what the directory's ParseRole and Max did before roles were the kind's).
func TestRoles(t *testing.T) {
	reg := connector.NewRegistry(Spec())
	if r, err := reg.ParseRole(Kind, ""); err != nil || r != string(RoleMember) {
		t.Fatalf("empty role = %s, %v", r, err)
	}
	if _, err := reg.ParseRole(Kind, "admin"); err == nil {
		t.Fatal("unknown role accepted")
	}
	rank := reg.RoleRank(Kind)
	maxOf := func(a, b connector.Role) connector.Role {
		if rank(string(b)) > rank(string(a)) {
			return b
		}
		return a
	}
	cases := []struct{ a, b, want connector.Role }{
		{RoleMember, RoleTeamAdmin, RoleTeamAdmin},
		{RoleTeamAdmin, RoleSupportAdmin, RoleTeamAdmin},
		{RoleSupportAdmin, RoleUserManagementAdmin, RoleUserManagementAdmin},
		{RoleMember, RoleMember, RoleMember},
	}
	for _, c := range cases {
		if got := maxOf(c.a, c.b); got != c.want {
			t.Errorf("max(%s, %s) = %s", c.a, c.b, got)
		}
	}
}
