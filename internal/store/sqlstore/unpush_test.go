package sqlstore_test

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// Removing a rule with "delete in the app" deletes only the Dropbox groups
// that rule covered: a group an earlier removal unlinks with "leave" keeps
// its Dropbox group, even before a sync has unlinked it.
func TestUnpushDeleteReachesOnlyItsRule(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
			must(t, s.CreateApp(ctx, "test", &a))
			for _, n := range []string{"eng-web", "Sales"} {
				must(t, s.CreateGroup(ctx, "test", &directory.Group{Name: n}))
			}
			_, err := s.PushGroups(ctx, "test", "dbx", &store.GroupPushRule{Pattern: "eng-*"})
			must(t, err)
			_, err = s.PushGroups(ctx, "test", "dbx", &store.GroupPushRule{Group: "Sales"})
			must(t, err)
			left, err := s.UnpushGroups(ctx, "test", "dbx", store.GroupPushRule{Pattern: "eng-*"}, false)
			must(t, err)
			deleted, err := s.UnpushGroups(ctx, "test", "dbx", store.GroupPushRule{Group: "Sales"}, true)
			must(t, err)
			if len(left) != 1 || left[0] != "eng-web" || len(deleted) != 1 || deleted[0] != "Sales" {
				t.Fatalf("unlinking: leave %v, delete %v", left, deleted)
			}
			pgs, err := s.ListPushedGroups(ctx, a.ID)
			must(t, err)
			for _, g := range pgs {
				if want := g.Group == "Sales"; !g.Unlink || g.DeleteInApp != want {
					t.Errorf("%s: unlink %v, delete in app %v, want delete %v", g.Group, g.Unlink, g.DeleteInApp, want)
				}
			}
		})
	}
}
