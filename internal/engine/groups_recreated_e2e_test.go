package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestPushedGroupFollowsRecreatedMembers: members whose accounts are made
// again (removed past Dropbox's recovery window, then assigned again) get
// back into their pushed group within the next ordinary syncs, under their new
// ids: no full sync needed.
func TestPushedGroupFollowsRecreatedMembers(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := pushedWorld(t, b.Open, nil)
			old := w.knownIDs("Sales")
			if err := w.st.Unassign(bg, "t", "dbx", "", "Sales"); err != nil {
				t.Fatal(err)
			}
			w.sync()
			if got := w.dbxMembers(w.dbxGroup("Sales")); len(got) != 0 {
				t.Fatalf("group after the removals = %v", got)
			}
			w.emu.Advance(7*24*time.Hour + time.Hour)
			w.assignGroup("Sales")
			// Ordinary passes, as a worker makes them: the refused recovery,
			// the new accounts, then the group.
			for range 3 {
				w.sync()
			}
			if got := w.dbxMembers(w.dbxGroup("Sales")); !slices.Equal(got, []string{"ann", "bob"}) {
				t.Fatalf("pushed group after the accounts were made again = %v", got)
			}
			for _, id := range w.knownIDs("Sales") {
				if slices.Contains(old, id) {
					t.Fatalf("stale id %s still known: %v", id, w.knownIDs("Sales"))
				}
			}
			if pg := w.pushed()["Sales"]; pg.State != "in_step" || pg.Members != 2 {
				t.Fatalf("groups pushed = %+v drift %+v", pg, pg.Drift)
			}
		})
	}
}
