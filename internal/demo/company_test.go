package demo

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
)

func TestGenerate(t *testing.T) {
	c := Generate(500, "corp.example", 1)
	if len(c.Users) != 500 {
		t.Fatalf("%d users", len(c.Users))
	}
	emails := map[string]bool{}
	members := 0
	for _, u := range c.Users {
		if emails[directory.Key(u.Email)] {
			t.Fatalf("duplicate email %s", u.Email)
		}
		emails[directory.Key(u.Email)] = true
		if err := u.Validate(); err != nil {
			t.Fatalf("invalid user %+v: %v", u, err)
		}
	}
	for _, m := range c.Groups {
		members += len(m)
	}
	if members != 500 || len(c.Groups) < 5 {
		t.Fatalf("groups cover %d users in %d groups", members, len(c.Groups))
	}
	kinds := map[directory.Role]int{}
	for _, r := range c.Roles {
		kinds[r]++
	}
	if kinds["team_admin"] != 1 || kinds["support_admin"] == 0 || kinds["user_management_admin"] == 0 {
		t.Fatalf("roles = %v", kinds)
	}
	if again := Generate(500, "corp.example", 1); again.Users[123].Email != c.Users[123].Email {
		t.Fatal("the same seed must give the same company")
	}
	users, _, err := csvload.Parse(strings.NewReader(c.CSV()))
	if err != nil || len(users) != 500 || users[7].LastName != c.Users[7].LastName {
		t.Fatalf("CSV does not load back: %v", err)
	}
}
