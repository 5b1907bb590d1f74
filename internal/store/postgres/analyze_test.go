package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestAnalyzesGrownTables: a table that grew from empty is analyzed by the
// store within seconds, not at autovacuum's next round (a minute or more).
func TestAnalyzesGrownTables(t *testing.T) {
	ctx := context.Background()
	st, err := postgres.Open(ctx, storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users := make([]directory.User, 3000)
	for i := range users {
		name := fmt.Sprintf("a%05d@corp.example", i)
		users[i] = directory.User{Username: name, Email: name, FirstName: "A", LastName: "B"}
	}
	if err := st.CreateUsers(ctx, "test", users); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var analyzed bool
		err := st.SQL().QueryRowContext(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'users'`).Scan(&analyzed)
		if err != nil {
			t.Fatal(err)
		}
		if analyzed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("users grew by 3,000 rows and were not analyzed within 20 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
