package csvload_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A NUL byte anywhere in the file is refused, naming its line and column, and
// nothing is loaded: PostgreSQL cannot store it in text.
func TestNULRefused(t *testing.T) {
	cases := []struct {
		name, csv string
		line      int
		column    string
	}{
		{"email", "username,email\nann,ann@example.com\nbo,bo\x00@example.com\n", 3, "email"},
		{"username", "username,email\nan\x00n,ann@example.com\n", 2, "username"},
		{"first name", "username,email,first_name\nann,ann@example.com,A\x00nn\n", 2, "first_name"},
		{"attribute value", "username,email,department\nann,ann@example.com,Sa\x00les\n", 2, "department"},
		{"empty attribute value", "username,email,department\nann,ann@example.com, \x00\n", 2, "department"},
		{"header", "username,email,dept\x00\nann,ann@example.com,\n", 1, "header"},
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			for _, c := range cases {
				_, err := csvload.Load(context.Background(), s, "csv", strings.NewReader(c.csv))
				var rows *csvload.Errors
				if !errors.Is(err, directory.ErrInvalid) || !errors.As(err, &rows) || len(rows.Rows) != 1 {
					t.Errorf("%s: err = %v, want one row problem", c.name, err)
					continue
				}
				r := rows.Rows[0]
				if r.Line != c.line || !strings.Contains(r.Message, "NUL") || !strings.Contains(r.Message, c.column) {
					t.Errorf("%s: problem %+v, want line %d naming NUL and %s", c.name, r, c.line, c.column)
				}
			}
			if users, err := s.ListUsers(context.Background(), store.UserFilter{}); err != nil || len(users) != 0 {
				t.Fatalf("files with NUL left %d users (%v)", len(users), err)
			}
		})
	}
}
