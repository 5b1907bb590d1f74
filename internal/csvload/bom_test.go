package csvload_test

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
	"strings"
)

// TestByteOrderMarkIsNotAColumn: Excel's "CSV UTF-8" export starts with a
// UTF-8 byte-order mark; the file loads as if it had none.
func TestByteOrderMarkIsNotAColumn(t *testing.T) {
	s := storetest.OpenSQLite(t)
	csv := "\ufeffusername,email,first_name\nann,ann@corp.example,Ann\n"
	n, err := csvload.Load(context.Background(), s, "csv", strings.NewReader(csv))
	if err != nil || n != 1 {
		t.Fatalf("load = %d, %v", n, err)
	}
	users, err := s.ListUsers(context.Background(), store.UserFilter{})
	if err != nil || len(users) != 1 || users[0].Username != "ann" || users[0].FirstName != "Ann" {
		t.Fatalf("users = %+v, %v", users, err)
	}
}
