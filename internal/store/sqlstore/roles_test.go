package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// Assignment roles are the app kind's: checked against its roles ("" is its
// least privileged), and of two group roles the higher in its order wins.
// A kind whose roles are not Dropbox's proves the store names none.
func TestRolesAreTheKinds(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			s.SetKinds(connector.NewRegistry(connector.Spec{Kind: "wiki", Roles: []string{"reader", "owner", "editor"}}))
			a := app.Instance{Name: "w", Kind: "wiki", BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
			must(t, s.CreateApp(ctx, "test", &a))
			var ids []int64
			for _, n := range []string{"ann", "bob"} {
				u := directory.User{Username: n, Email: n + "@example.com"}
				must(t, s.CreateUser(ctx, "test", &u))
				ids = append(ids, u.ID)
			}
			for _, g := range []struct{ name, role string }{{"eds", "editor"}, {"owners", "owner"}} {
				must(t, s.CreateGroup(ctx, "test", &directory.Group{Name: g.name}))
				must(t, s.AddGroupMembers(ctx, "test", g.name, []string{"ann", "bob"}))
				must(t, s.Assign(ctx, "test", &directory.Assignment{AppName: "w", GroupName: g.name, Role: directory.Role(g.role)}))
			}
			direct := directory.Assignment{AppName: "w", Username: "bob"}
			must(t, s.Assign(ctx, "test", &direct))
			if direct.Role != "reader" {
				t.Errorf("default role = %q, want the kind's first", direct.Role)
			}
			err := s.Assign(ctx, "test", &directory.Assignment{AppName: "w", Username: "ann", Role: "team_admin"})
			if !errors.Is(err, directory.ErrInvalid) {
				t.Errorf("a role the kind lacks: %v", err)
			}
			roles, err := s.EffectiveRoles(ctx, a.ID, ids)
			must(t, err)
			if roles[ids[0]] != "editor" || roles[ids[1]] != "reader" {
				t.Errorf("roles = %v, want ann editor (the kind's order), bob reader (direct)", roles)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
