package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// TestGroupTaskCanBeRetried: a pushed group's task is shown under its
// group and the page's Retry and Dismiss act on that group's task.
func TestGroupTaskCanBeRetried(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		ctx := context.Background()
		a := e.addApp(t, "dbx", false)
		g := directory.Group{Name: "Sales"}
		if err := e.st.CreateGroup(ctx, "t", &g); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.PushGroups(ctx, "t", "dbx", &store.GroupPushRule{Group: "Sales"}); err != nil {
			t.Fatal(err)
		}
		fail := func() {
			items, err := e.st.ClaimWork(ctx, store.Claim{AppID: a.ID, Kinds: []string{store.WorkGroup}, Owner: "w", Lease: time.Minute, Limit: 10})
			if err != nil || len(items) != 1 {
				t.Fatalf("group items %+v %v", items, err)
			}
			if err := e.st.FinishWork(ctx, "w", []store.Outcome{{Item: items[0], Err: errors.New("name taken"), GiveUp: true, RetryAt: time.Now()}}); err != nil {
				t.Fatal(err)
			}
		}
		fail()
		c := e.client(t).signin()
		if p := c.get("/tasks"); !strings.Contains(p.body, `name="group" value="Sales"`) || !strings.Contains(p.body, "group <a") {
			t.Fatalf("tasks page does not show the group's task:\n%s", p.body)
		}
		for _, act := range []string{"retry", "dismiss"} {
			r := c.post("/tasks", "/tasks/"+act, url.Values{"app": {"dbx"}, "group": {"Sales"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", act, r.status, r.body)
			}
			if tasks, _ := e.st.ListTasks(ctx, a.ID); len(tasks) != 0 {
				t.Fatalf("after %s: %+v", act, tasks)
			}
			if act == "retry" {
				fail()
			}
		}
	})
}
