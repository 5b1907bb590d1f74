package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// An admin's edit of a user or group that a directory source owns (MISSION
// D7) is refused with the owner's name: the source would overwrite it at its
// next push or sync. Status changes stay possible (an emergency suspension).
func TestAdminEditsOfSourceOwned(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			okta := directory.User{Username: "olga", Email: "olga@corp.example", FirstName: "Olga", LastName: "O", Source: "okta"}
			if err := f.st.CreateUser(ctx, by, &okta); err != nil {
				t.Fatal(err)
			}
			f.user("ann")
			grp := directory.Group{Name: "Sales", Source: "okta"}
			if err := f.st.CreateGroup(ctx, by, &grp); err != nil {
				t.Fatal(err)
			}
			refused := []struct {
				name string
				do   func() error
			}{
				{"update", func() error {
					_, err := f.svc.UpdateUser(ctx, by, "olga", func(u *directory.User) error { u.FirstName = "X"; return nil })
					return err
				}},
				{"delete", func() error {
					_, err := f.svc.DeleteUser(ctx, by, "olga", service.Confirm{})
					return err
				}},
				{"csv update", func() error {
					_, err := f.svc.UpsertUsers(ctx, by, strings.NewReader("username,email,first_name\nolga,olga@corp.example,X\n"))
					return err
				}},
				{"add members", func() error { return f.svc.AddMembers(ctx, by, "Sales", []string{"ann"}) }},
				{"remove members", func() error {
					_, err := f.svc.RemoveMembers(ctx, by, "Sales", []string{"ann"}, service.Confirm{})
					return err
				}},
				{"rename group", func() error {
					_, err := f.svc.RenameGroup(ctx, by, "Sales", "Sales EU")
					return err
				}},
				{"delete group", func() error {
					_, err := f.svc.DeleteGroup(ctx, by, "Sales", service.Confirm{})
					return err
				}},
			}
			for _, tc := range refused {
				err := tc.do()
				if !errors.Is(err, directory.ErrConflict) || !strings.Contains(err.Error(), "source okta") {
					t.Errorf("%s: want a conflict naming source okta, got %v", tc.name, err)
				}
			}
			if u, _ := f.st.GetUser(ctx, "olga"); u.FirstName != "Olga" || u.Source != "okta" {
				t.Errorf("a refused edit changed the user: %+v", u)
			}
			if g, err := f.st.GetGroup(ctx, "Sales"); err != nil || g.Source != "okta" {
				t.Errorf("a refused edit changed the group: %+v %v", g, err)
			}
			// What Roster owns stays editable, and a source-owned user can still be suspended.
			if _, err := f.svc.UpdateUser(ctx, by, "ann", func(u *directory.User) error { u.FirstName = "Anne"; return nil }); err != nil {
				t.Errorf("update of an api user: %v", err)
			}
			if _, _, err := f.svc.Transition(ctx, by, "olga", directory.Suspend, service.Confirm{}); err != nil {
				t.Errorf("suspend of a source-owned user: %v", err)
			}
		})
	}
}
