package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A name or email already taken is a conflict that names the field and the
// value, on every backend, never the database's own words.
func TestConflictsNameFieldAndValue(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, b.Open)
			f.user("ann")
			f.user("bob")
			if err := f.svc.CreateGroup(ctx, by, &directory.Group{Name: "Sales"}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.CreateGroup(ctx, by, &directory.Group{Name: "Ops"}); err != nil {
				t.Fatal(err)
			}
			_, renameErr := f.svc.RenameGroup(ctx, by, "Ops", "SALES")
			_, updateErr := f.svc.UpdateUser(ctx, by, "bob", func(u *directory.User) error { u.Email = "ANN@corp.example"; return nil })
			for _, tc := range []struct {
				name string
				err  error
				want string
			}{
				{"group", f.svc.CreateGroup(ctx, by, &directory.Group{Name: "sales"}), `group name "sales" is already taken`},
				{"group rename", renameErr, `group name "SALES" is already taken`},
				{"username", f.svc.CreateUser(ctx, by, &directory.User{Username: "ANN", Email: "x@corp.example"}), `username "ANN" is already taken`},
				{"email", f.svc.CreateUser(ctx, by, &directory.User{Username: "cy", Email: "Ann@corp.example"}), `email "Ann@corp.example" is already taken`},
				{"email update", updateErr, `email "ANN@corp.example" is already taken`},
			} {
				msg := ""
				if tc.err != nil {
					msg = tc.err.Error()
				}
				if !errors.Is(tc.err, directory.ErrConflict) || !strings.Contains(msg, tc.want) ||
					strings.Contains(msg, "constraint") || strings.Contains(msg, "name_key") {
					t.Errorf("%s: %v, want a conflict saying %q", tc.name, tc.err, tc.want)
				}
			}
		})
	}
}
