package directory

import (
	"errors"
	"strings"
	"testing"
)

// TestTransitionMatrix checks every action from every status against the table
// of legal moves, so that adding or loosening a rule by accident fails here.
func TestTransitionMatrix(t *testing.T) {
	legal := map[Transition]map[Status]Status{
		Activate:   {StatusStaged: StatusActive},
		Suspend:    {StatusActive: StatusSuspended},
		Unsuspend:  {StatusSuspended: StatusActive},
		Deactivate: {StatusStaged: StatusDeprovisioned, StatusActive: StatusDeprovisioned, StatusSuspended: StatusDeprovisioned},
		Reactivate: {StatusDeprovisioned: StatusActive},
	}
	all := []Status{StatusStaged, StatusActive, StatusSuspended, StatusDeprovisioned}
	for _, tr := range Transitions() {
		for _, from := range all {
			got, err := tr.Apply(from)
			want, ok := legal[tr][from]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("%s from %s = %s, %v; want %s", tr, from, got, err, want)
			case !ok && (!errors.Is(err, ErrInvalidTransition) || got != from):
				t.Errorf("%s from %s = %s, %v; want refused", tr, from, got, err)
			}
		}
	}
	if _, err := Transition("promote").Apply(StatusActive); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown action: %v", err)
	}
}

func TestValidateUser(t *testing.T) {
	long := strings.Repeat("x", 101)
	cases := []struct {
		name string
		u    User
		want string // "" means valid
	}{
		{"ok", User{Username: "a", Email: "a@example.com", Status: StatusActive}, ""},
		{"unicode names", User{Username: "zoë", Email: "zoe@example.com", FirstName: "Zoë", LastName: "Ångström", Status: StatusActive}, ""},
		{"no username", User{Email: "a@example.com", Status: StatusActive}, "username is required"},
		{"space in username", User{Username: "a b", Email: "a@example.com", Status: StatusActive}, "spaces"},
		{"long name", User{Username: "a", Email: "a@example.com", FirstName: long, Status: StatusActive}, "longer than 100"},
		{"no email", User{Username: "a", Status: StatusActive}, "email is required"},
		{"no domain dot", User{Username: "a", Email: "a@localhost", Status: StatusActive}, "no domain"},
		{"display name", User{Username: "a", Email: "A <a@example.com>", Status: StatusActive}, "not a valid address"},
		{"bad status", User{Username: "a", Email: "a@example.com", Status: "on"}, "status"},
		{"control char", User{Username: "a", Email: "a@example.com", LastName: "x\ny", Status: StatusActive}, "control"},
		{"bad attr", User{Username: "a", Email: "a@example.com", Status: StatusActive, Attributes: map[string]string{"a-b": "1"}}, "attribute name"},
		{"all problems at once", User{Username: "", Email: "x", Status: "?"}, "username is required"},
	}
	for _, c := range cases {
		err := c.u.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	err := (&User{Username: "", Email: "x", Status: "?"}).Validate()
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("want all 3 problems reported together, got %d: %v", n, err)
	}
}

func TestChanges(t *testing.T) {
	old := User{Username: "a", Email: "a@x.io", Status: StatusActive, Attributes: map[string]string{"k": "1", "gone": "v"}}
	cur := old
	cur.Email, cur.Status = "b@x.io", StatusSuspended
	cur.Attributes = map[string]string{"k": "2", "new": "n"}
	got := Changes(old, cur)
	for _, f := range []string{"email", "status", "attributes.k", "attributes.gone", "attributes.new"} {
		if _, ok := got[f]; !ok {
			t.Errorf("change of %s not reported: %v", f, got)
		}
	}
	if len(got) != 5 || len(Changes(old, old)) != 0 {
		t.Errorf("changes = %v", got)
	}
}
