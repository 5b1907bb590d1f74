package importer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

func TestMatch(t *testing.T) {
	ix := NewIndex([]directory.User{
		{ID: 1, Username: "ann", Email: "ann@corp.io", FirstName: "Ann", LastName: "Lee"},
		{ID: 2, Username: "bob@corp.io", Email: "robert@corp.io", FirstName: "Bob", LastName: "Stone"},
		{ID: 3, Username: "cy", Email: "cy@corp.io", FirstName: "Sam", LastName: "Twin"},
		{ID: 4, Username: "dee", Email: "dee@corp.io", FirstName: "Sam", LastName: "Twin"},
		{ID: 5, Username: "eve@corp.io", Email: "eve@corp.io", FirstName: "Eve", LastName: "Ng"},
		{ID: 6, Username: "ann@corp.io", Email: "ann6@corp.io"}, // username collides with user 1's email
	})
	both := Rules{ExactOn: "username_or_email", Partial: true}
	cases := []struct {
		name  string
		m     connector.Member
		r     Rules
		kind  string
		users []int64
	}{
		{"email equals email, any case", connector.Member{Email: "ROBERT@corp.io"}, both, MatchExact, []int64{2}},
		{"email equals username", connector.Member{Email: "bob@corp.io"}, both, MatchExact, []int64{2}},
		{"username rule ignores email", connector.Member{Email: "robert@corp.io"}, Rules{ExactOn: "username"}, MatchNone, nil},
		{"email rule ignores username", connector.Member{Email: "bob@corp.io"}, Rules{ExactOn: "email"}, MatchNone, nil},
		{"same user by both keys", connector.Member{Email: "eve@corp.io"}, both, MatchExact, []int64{5}},
		{"two users by the two keys", connector.Member{Email: "ann@corp.io"}, both, MatchAmbiguous, []int64{6, 1}},
		{"partial on names", connector.Member{Email: "x@else.io", GivenName: "ann", Surname: "LEE"}, both, MatchPartial, []int64{1}},
		{"partial off", connector.Member{Email: "x@else.io", GivenName: "Ann", Surname: "Lee"}, Rules{}, MatchNone, nil},
		{"partial twins", connector.Member{Email: "x@else.io", GivenName: "Sam", Surname: "Twin"}, both, MatchAmbiguous, []int64{3, 4}},
		{"no names no partial", connector.Member{Email: "x@else.io"}, both, MatchNone, nil},
	}
	for _, c := range cases {
		kind, users := ix.Match(c.m, c.r)
		if kind != c.kind || !reflect.DeepEqual(users, c.users) {
			t.Errorf("%s: %s %v, want %s %v", c.name, kind, users, c.kind, c.users)
		}
	}
	ix.Add(directory.User{ID: 7, Username: "late", Email: "late@corp.io"})
	if kind, users := ix.Match(connector.Member{Email: "late@corp.io"}, both); kind != MatchExact || users[0] != 7 {
		t.Error("a user added later is not found")
	}
}

func TestNewUserFrom(t *testing.T) {
	u, why := NewUserFrom(connector.Member{Email: "Neo@corp.io", GivenName: "Neo", Surname: "Anderson"})
	if why != "" || u.Username != "Neo@corp.io" || u.Status != directory.StatusStaged || u.LastName != "Anderson" {
		t.Fatalf("new user = %+v, %q", u, why)
	}
	for _, m := range []connector.Member{
		{Email: "a@corp.io", Surname: "Only"},
		{Email: "b@corp.io", GivenName: "Only"},
		{Email: "c@corp.io", GivenName: " ", Surname: ""},
	} {
		if _, why := NewUserFrom(m); !strings.Contains(why, "has no") {
			t.Errorf("%s: %q", m.Email, why)
		}
	}
	if _, why := NewUserFrom(connector.Member{Email: "c@corp.io", GivenName: "No", Surname: "Name"}); why != "" {
		t.Error(why)
	}
}
