package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A pushed group's task is listed under its group's name, not as the user
// who happens to share its ID, and can be retried and dismissed as a group's.
func TestGroupTasks(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			ctx := context.Background()
			e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx"}, 201, nil)
			e.call("POST", "/api/v1/groups", map[string]any{"name": "Sales"}, 201, nil)
			e.call("POST", "/api/v1/users", map[string]any{"username": "decoy", "email": "decoy@corp.example", "first_name": "D", "last_name": "C"}, 201, nil)
			e.call("POST", "/api/v1/apps/dbx/group-push", map[string]any{"group": "Sales"}, 200, nil)
			a, _ := e.st.GetApp(ctx, "dbx")
			items, err := e.st.ClaimWork(ctx, store.Claim{AppID: a.ID, Kinds: []string{store.WorkGroup}, Owner: "w", Lease: time.Minute, Limit: 10})
			if err != nil || len(items) != 1 {
				t.Fatalf("group items %+v %v", items, err)
			}
			out := []store.Outcome{{Item: items[0], Err: errors.New("name taken"), GiveUp: true, RetryAt: time.Now()}}
			if err := e.st.FinishWork(ctx, "w", out); err != nil {
				t.Fatal(err)
			}
			var l struct {
				Items []struct{ Kind, User, Group string }
			}
			e.call("GET", "/api/v1/tasks?app=dbx", nil, 200, &l)
			if len(l.Items) != 1 || l.Items[0].Kind != "group" || l.Items[0].Group != "Sales" || l.Items[0].User != "" {
				t.Fatalf("tasks = %+v", l.Items)
			}
			e.call("POST", "/api/v1/tasks/retry", map[string]any{"app": "dbx", "user": "decoy"}, 404, nil)
			e.call("POST", "/api/v1/tasks/retry", map[string]any{"app": "dbx", "user": "decoy", "group": "Sales"}, 400, nil)
			e.call("POST", "/api/v1/tasks/retry", map[string]any{"app": "dbx", "group": "Sales"}, 204, nil)
			e.call("GET", "/api/v1/tasks?app=dbx", nil, 200, &l)
			if len(l.Items) != 0 {
				t.Fatalf("after retry: %+v", l.Items)
			}
		})
	}
}
