package storetest

import (
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// identityTests cover the external key and owning source of users and groups.
func identityTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"UserIdentityGivenAtCreation", testUserIdentityCreate},
		{"UserIdentityKeptThroughChanges", testUserIdentityKept},
		{"UserByExternalKey", testUserByExternalKey},
		{"UserSourceFilter", testUserSourceFilter},
		{"GroupIdentity", testGroupIdentity},
		{"GroupSourceFilter", testGroupSourceFilter},
	}
}

func wantIdentity(t *testing.T, what, key, source, wantSource string) {
	t.Helper()
	if !directory.ValidExternalKey(key) || source != wantSource {
		t.Fatalf("%s: external key %q, source %q; want a UUID and %q", what, key, source, wantSource)
	}
}

// Every way of creating users gives each a distinct key and the api source,
// and the stored user reads back with both.
func testUserIdentityCreate(t *testing.T, s Store) {
	one := mustUser(t, s, "ivy")
	wantIdentity(t, "CreateUser", one.ExternalKey, one.Source, directory.SourceAPI)
	bulk := make([]directory.User, 3)
	for i := range bulk {
		bulk[i] = directory.User{Username: fmt.Sprintf("bulk%d", i), Email: fmt.Sprintf("bulk%d@example.com", i)}
	}
	if err := s.CreateUsers(ctx, actor, bulk); err != nil {
		t.Fatal(err)
	}
	seq := func(yield func(directory.User, error) bool) {
		for i := range 3 {
			if !yield(directory.User{Username: fmt.Sprintf("seq%d", i), Email: fmt.Sprintf("seq%d@example.com", i)}, nil) {
				return
			}
		}
	}
	if _, err := s.CreateUsersSeq(ctx, actor, iter.Seq2[directory.User, error](seq)); err != nil {
		t.Fatal(err)
	}
	users, err := s.ListUsers(ctx, store.UserFilter{})
	if err != nil || len(users) != 7 {
		t.Fatalf("users = %d, %v", len(users), err)
	}
	seen := map[string]string{}
	for _, u := range users {
		wantIdentity(t, u.Username, u.ExternalKey, u.Source, directory.SourceAPI)
		if other, dup := seen[u.ExternalKey]; dup {
			t.Fatalf("%s and %s share external key %s", other, u.Username, u.ExternalKey)
		}
		seen[u.ExternalKey] = u.Username
	}
	if got, _ := s.GetUser(ctx, "ivy"); got.ExternalKey != one.ExternalKey {
		t.Fatalf("stored key %q, CreateUser returned %q", got.ExternalKey, one.ExternalKey)
	}
}

// A rename and every other change keep the key; nothing an update does can
// change the key or the source.
func testUserIdentityKept(t *testing.T, s Store) {
	u := mustUser(t, s, "jay")
	renamed, err := s.UpdateUser(ctx, actor, "jay", "user.update", func(u *directory.User) error {
		u.Username, u.Email = "jay.renamed", "jay.renamed@example.com"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx, "jay.renamed")
	if err != nil || renamed.ExternalKey != u.ExternalKey || got.ExternalKey != u.ExternalKey || got.Source != directory.SourceAPI {
		t.Fatalf("after rename: %+v (returned %+v), %v; want key %s", got, renamed, err, u.ExternalKey)
	}
	for name, change := range map[string]func(*directory.User){
		"key":    func(u *directory.User) { u.ExternalKey = directory.NewExternalKey(u.CreatedAt) },
		"source": func(u *directory.User) { u.Source = "ldap" },
	} {
		_, err := s.UpdateUser(ctx, actor, "jay.renamed", "user.update", func(u *directory.User) error {
			u.FirstName = "Changed"
			change(u)
			return nil
		})
		wantErr(t, err, directory.ErrInvalid)
		if got, _ := s.GetUser(ctx, "jay.renamed"); got.ExternalKey != u.ExternalKey || got.Source != directory.SourceAPI || got.FirstName == "Changed" {
			t.Fatalf("an update changing the %s was stored: %+v", name, got)
		}
	}
}

// A user is found by its key, in any case; a key given at creation is kept,
// and must be unique.
func testUserByExternalKey(t *testing.T, s Store) {
	u := mustUser(t, s, "kim")
	mustUser(t, s, "lee")
	for _, k := range []string{u.ExternalKey, strings.ToUpper(u.ExternalKey), " " + u.ExternalKey + " "} {
		got, err := s.GetUserByExternalKey(ctx, k)
		if err != nil || got.ID != u.ID || got.Username != "kim" {
			t.Fatalf("GetUserByExternalKey(%q) = %+v, %v", k, got, err)
		}
	}
	_, err := s.GetUserByExternalKey(ctx, directory.NewExternalKey(u.CreatedAt))
	wantErr(t, err, directory.ErrNotFound)
	_, err = s.GetUserByExternalKey(ctx, "")
	wantErr(t, err, directory.ErrNotFound)

	const given = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	v := directory.User{Username: "mo", Email: "mo@example.com", ExternalKey: given, Source: "ldap"}
	if err := s.CreateUser(ctx, actor, &v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetUserByExternalKey(ctx, given); err != nil || got.Username != "mo" || got.Source != "ldap" {
		t.Fatalf("user created with a key: %+v, %v", got, err)
	}
	dup := directory.User{Username: "ned", Email: "ned@example.com", ExternalKey: given}
	err = s.CreateUser(ctx, actor, &dup)
	wantErr(t, err, directory.ErrConflict)
	if !strings.Contains(err.Error(), "external key") {
		t.Fatalf("conflict = %v, want it to name the external key", err)
	}
	bad := directory.User{Username: "ola", Email: "ola@example.com", ExternalKey: "not-a-uuid"}
	wantErr(t, s.CreateUser(ctx, actor, &bad), directory.ErrInvalid)
}

// ListUsers narrowed to a source lists only what that source owns, page by
// page, and combines with the other filters.
func testUserSourceFilter(t *testing.T, s Store) {
	var ldap []string
	for i := range 5 {
		u := directory.User{Username: fmt.Sprintf("src%d", i), Email: fmt.Sprintf("src%d@example.com", i)}
		if i%2 == 0 {
			u.Source = "ldap:corp"
			ldap = append(ldap, u.Username)
		}
		if i == 4 {
			u.Status = directory.StatusStaged
		}
		if err := s.CreateUser(ctx, actor, &u); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for after := int64(0); ; {
		page, err := s.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: 2}, Source: "ldap:corp"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			got = append(got, u.Username)
		}
		after = page[len(page)-1].ID
	}
	if strings.Join(got, ",") != strings.Join(ldap, ",") {
		t.Fatalf("ldap:corp users = %v, want %v", got, ldap)
	}
	api, _ := s.ListUsers(ctx, store.UserFilter{Source: directory.SourceAPI})
	staged, _ := s.ListUsers(ctx, store.UserFilter{Source: "ldap:corp", Status: directory.StatusStaged})
	none, _ := s.ListUsers(ctx, store.UserFilter{Source: "scim"})
	if len(api) != 2 || len(staged) != 1 || staged[0].Username != "src4" || len(none) != 0 {
		t.Fatalf("api %d, staged ldap %v, scim %d", len(api), staged, len(none))
	}
}

// A group gets a key and the api source at creation, keeps the key through
// a rename, is found by it, and must have a unique one.
func testGroupIdentity(t *testing.T, s Store) {
	g := directory.Group{Name: "Finance"}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	wantIdentity(t, "CreateGroup", g.ExternalKey, g.Source, directory.SourceAPI)
	h := directory.Group{Name: "Legal"}
	if err := s.CreateGroup(ctx, actor, &h); err != nil {
		t.Fatal(err)
	}
	if h.ExternalKey == g.ExternalKey {
		t.Fatalf("two groups share key %s", g.ExternalKey)
	}
	renamed, err := s.RenameGroup(ctx, actor, "Finance", "Treasury")
	if err != nil || renamed.ExternalKey != g.ExternalKey {
		t.Fatalf("rename = %+v, %v; want key %s", renamed, err, g.ExternalKey)
	}
	for _, k := range []string{g.ExternalKey, strings.ToUpper(g.ExternalKey)} {
		got, err := s.GetGroupByExternalKey(ctx, k)
		if err != nil || got.ID != g.ID || got.Name != "Treasury" || got.Source != directory.SourceAPI {
			t.Fatalf("GetGroupByExternalKey(%q) = %+v, %v", k, got, err)
		}
	}
	if got, _ := s.GetGroup(ctx, "treasury"); got.ExternalKey != g.ExternalKey {
		t.Fatalf("GetGroup key = %q, want %q", got.ExternalKey, g.ExternalKey)
	}
	_, err = s.GetGroupByExternalKey(ctx, directory.NewExternalKey(g.CreatedAt))
	wantErr(t, err, directory.ErrNotFound)
	dup := directory.Group{Name: "Audit", ExternalKey: g.ExternalKey}
	err = s.CreateGroup(ctx, actor, &dup)
	wantErr(t, err, directory.ErrConflict)
	if !strings.Contains(err.Error(), "external key") {
		t.Fatalf("conflict = %v, want it to name the external key", err)
	}
}

func testGroupSourceFilter(t *testing.T, s Store) {
	for i, src := range []string{"", "scim", "", "scim", "scim"} {
		g := directory.Group{Name: fmt.Sprintf("g%d", i), Source: src}
		if err := s.CreateGroup(ctx, actor, &g); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for after := int64(0); ; {
		page, err := s.FilterGroups(ctx, store.GroupFilter{Page: store.Page{After: after, Limit: 2}, Source: "scim"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, g := range page {
			if g.Source != "scim" {
				t.Fatalf("group %s of source %q listed for scim", g.Name, g.Source)
			}
			got = append(got, g.Name)
		}
		after = page[len(page)-1].ID
	}
	all, _ := s.ListGroups(ctx, store.Page{})
	api, _ := s.FilterGroups(ctx, store.GroupFilter{Source: directory.SourceAPI})
	if strings.Join(got, ",") != "g1,g3,g4" || len(all) != 5 || len(api) != 2 {
		t.Fatalf("scim groups %v, all %d, api %d", got, len(all), len(api))
	}
}
