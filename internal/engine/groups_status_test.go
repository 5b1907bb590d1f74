package engine_test

import (
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A member who leaves (deactivated in the directory, suspended in Dropbox by
// the app's settings) leaves the pushed Dropbox group at the next sync, with
// no change to the group itself.
func TestGroupPushFollowsStatusChanges(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { pushGroupsOn(s); s.Deactivation.Type = app.DeactivateSuspend })
			w.user("ivy", nil)
			w.user("jon", nil)
			w.group("ops", "ivy", "jon")
			w.push(store.GroupPushRule{Group: "ops"})
			w.sync()
			w.sync()
			g := w.dbxGroup("ops")
			if g == nil || !slices.Equal(w.dbxMembers(g), []string{"ivy", "jon"}) {
				t.Fatalf("pushed group = %+v", g)
			}
			w.emu.Team("acme").Activate("jon@corp.example")
			w.status("jon", directory.StatusDeprovisioned)
			w.sync()
			w.sync()
			if m := w.member("jon"); m.Status != "suspended" {
				t.Fatalf("jon = %s, want suspended", m.Status)
			}
			if got := w.dbxMembers(w.dbxGroup("ops")); !slices.Equal(got, []string{"ivy"}) {
				t.Fatalf("after jon left the group holds %v", got)
			}
		})
	}
}
