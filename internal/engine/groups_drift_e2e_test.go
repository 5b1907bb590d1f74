package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// pushedWorld is a world with the pushed group "Sales" of ann and bob in
// Dropbox, both members active.
func pushedWorld(t *testing.T, open func(testing.TB) *sqlstore.DB, edit func(*app.Settings)) *world {
	w := newWorld(t, open, func(s *app.Settings) {
		pushGroupsOn(s)
		if edit != nil {
			edit(s)
		}
	})
	w.user("ann", nil)
	w.user("bob", nil)
	w.group("Sales", "ann", "bob")
	w.push(store.GroupPushRule{Group: "Sales"})
	w.sync()
	w.emu.Team("acme").Activate("ann@corp.example", "bob@corp.example")
	if got := w.dbxMembers(w.dbxGroup("Sales")); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Fatalf("pushed group = %v", got)
	}
	return w
}

// reconcile runs a full reconciliation, as `roster sync --full` does.
func (w *world) reconcile() engine.ReconcileResult {
	w.t.Helper()
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.e.Reconcile(bg, a, engine.SyncOptions{AllowDeletes: true})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// knownIDs returns the member ids Roster knows in a pushed group, sorted.
func (w *world) knownIDs(group string) []string {
	w.t.Helper()
	g, err := w.st.GetGroup(bg, group)
	if err != nil {
		w.t.Fatal(err)
	}
	known, err := w.st.KnownGroupMembers(bg, w.app.ID, []int64{g.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, k := range known[g.ID] {
		out = append(out, k.MemberID)
	}
	slices.Sort(out)
	return out
}

// TestGroupPushMemberRecreated: a member whose account is made again with a
// new team_member_id gets back into the pushed group under the new id, and
// the old id is no longer known.
func TestGroupPushMemberRecreated(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := pushedWorld(t, b.Open, nil)
			old := w.member("ann").ID
			// Removed in Dropbox behind Roster's back, past the recovery window:
			// the full sync makes her a new account.
			if err := w.otherAdmin().Remove(bg, old, connector.RemoveOptions{WipeData: true}); err != nil {
				t.Fatal(err)
			}
			w.emu.Advance(7*24*time.Hour + time.Hour)
			w.reconcile()
			w.sync() // a pending group comes back after its short delay
			ann := w.member("ann")
			if ann == nil || ann.ID == old || ann.Status == "removed" {
				t.Fatalf("ann was not made again: %+v (old id %s)", ann, old)
			}
			waitFor(t, func() bool {
				w.sync()
				return slices.Equal(w.dbxMembers(w.dbxGroup("Sales")), []string{"ann", "bob"})
			})
			want := []string{ann.ID, w.member("bob").ID}
			slices.Sort(want)
			if got := w.knownIDs("Sales"); !slices.Equal(got, want) {
				t.Fatalf("known members = %v, want %v (the old id %s must be gone)", got, want, old)
			}
		})
	}
}

// TestGroupPushFullSyncRepairsMembers: members removed from or added to a
// pushed group in Dropbox directly are put back to the directory's truth by
// a full reconciliation, which a full plan announces; a member Roster holds
// no account for is left alone.
func TestGroupPushFullSyncRepairsMembers(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := pushedWorld(t, b.Open, nil)
			team := w.emu.Team("acme")
			if _, err := team.Seed([]emu.SeedMember{{Email: "outsider@corp.example", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			w.user("carol", nil)
			w.assign("carol", "member") // an account, but not in Sales
			w.sync()
			c, gid := w.otherAdmin(), w.dbxGroup("Sales").ID
			if err := c.RemoveGroupMembers(bg, gid, []string{w.member("bob").ID}); err != nil {
				t.Fatal(err)
			}
			if err := c.AddGroupMembers(bg, gid, []string{w.member("carol").ID, w.member("outsider").ID}); err != nil {
				t.Fatal(err)
			}
			// An ordinary sync has nothing queued and so nothing to compare.
			w.sync()
			if got := w.dbxMembers(w.dbxGroup("Sales")); !slices.Equal(got, []string{"ann", "carol", "outsider"}) {
				t.Fatalf("drifted group = %v", got)
			}

			p, err := w.e.Plan(bg, w.app, true)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := groupOps(p), []string{"remove_members:carol", "add_members:bob"}; !slices.Equal(got, want) {
				t.Fatalf("full plan = %v, want %v", got, want)
			}
			created := w.pushed()["Sales"].VerifiedAt
			w.reconcile()
			if got := w.dbxMembers(w.dbxGroup("Sales")); !slices.Equal(got, []string{"ann", "bob", "outsider"}) {
				t.Fatalf("after the full sync the group holds %v", got)
			}
			if pg := w.pushed()["Sales"]; pg.State != "in_step" || pg.Members != 3 || created == nil || pg.VerifiedAt == nil || !pg.VerifiedAt.After(*created) {
				t.Fatalf("pushed = %+v (verified at creation %v)", pg, created)
			}
			logs, _ := w.st.ListLog(bg, audit.Filter{App: "dbx", Action: "reconcile.group_drift", Target: "Sales"})
			if len(logs) != 1 || fmt.Sprint(logs[0].Detail["removed_in_dropbox"]) != "[bob]" || !strings.Contains(fmt.Sprint(logs[0].Detail["added_in_dropbox"]), "carol") {
				t.Fatalf("drift log = %+v", logs)
			}
			if p, _ := w.e.Plan(bg, w.app, true); len(groupOps(p)) != 0 {
				t.Fatalf("a second full plan is not empty: %v", groupOps(p))
			}
		})
	}
}

// TestGroupPushFullSyncRemakesDeletedGroup: a pushed group deleted in
// Dropbox directly is made again by a full sync, with its members.
func TestGroupPushFullSyncRemakesDeletedGroup(t *testing.T) {
	w := pushedWorld(t, storetest.OpenSQLite, nil)
	old := w.dbxGroup("Sales").ID
	if err := w.otherAdmin().DeleteGroup(bg, old); err != nil {
		t.Fatal(err)
	}
	if p, err := w.e.Plan(bg, w.app, true); err != nil || !slices.Equal(groupOps(p), []string{"create:", "add_members:ann,bob"}) {
		t.Fatalf("full plan = %v, %v", groupOps(p), err)
	}
	w.reconcile()
	g := w.dbxGroup("Sales")
	if g == nil || g.ID == old || !slices.Equal(w.dbxMembers(g), []string{"ann", "bob"}) {
		t.Fatalf("after the full sync: %+v", g)
	}
	if pg := w.pushed()["Sales"]; pg.State != "in_step" || pg.RemoteID != g.ID || pg.Members != 2 {
		t.Fatalf("pushed = %+v", pg)
	}
}

func groupOps(p engine.Preview) []string {
	var out []string
	for _, c := range p.Groups {
		if c.Skipped == "" {
			out = append(out, c.Op+":"+strings.Join(c.Members, ","))
		}
	}
	return out
}

// TestGroupsPushedShowsDrift: members who lost their accounts and got new
// ones outside the group's own work leave the pushed group behind; `groups
// pushed` says so (not in_step, no stale count) until the group is put in
// step: by a full sync, or by any change that works the group's item, which
// drops the stale ids and adds the current ones.
func TestGroupsPushedShowsDrift(t *testing.T) {
	for _, b := range storetest.Backends() {
		for _, tc := range []struct {
			name   string
			repair func(*world)
			want   []string
		}{
			{"full sync", func(w *world) { w.reconcile() }, []string{"ann", "bob"}},
			{"a change to the group", func(w *world) {
				w.user("cy", nil)
				w.members("Sales", true, "cy")
				w.sync()
			}, []string{"ann", "bob", "cy"}},
		} {
			t.Run(b.Name+"/"+tc.name, func(t *testing.T) {
				w := pushedWorld(t, b.Open, nil)
				old := w.knownIDs("Sales")
				// Unassigning the group removes its members' accounts; the push stays.
				if err := w.st.Unassign(bg, "t", "dbx", "", "Sales"); err != nil {
					t.Fatal(err)
				}
				w.sync()
				if got := w.dbxMembers(w.dbxGroup("Sales")); len(got) != 0 {
					t.Fatalf("group after the removals = %v", got)
				}
				if pg := w.pushed()["Sales"]; pg.State != "drifted" || pg.Members != 0 || pg.Drift == nil || pg.Drift.Stale != 2 {
					t.Fatalf("after the removals: %+v drift %+v", pg, pg.Drift)
				}
				// Assigned again once the old accounts can no longer be
				// recovered (within the window they would be recovered, ids kept):
				// new accounts.
				w.emu.Advance(7*24*time.Hour + time.Hour)
				w.assignGroup("Sales")
				w.sync()
				tasks, _ := w.st.ListTasks(bg, w.app.ID)
				for _, tk := range tasks {
					if err := w.st.RetryTask(bg, "t", w.app.ID, tk.Kind, tk.RefID); err != nil {
						t.Fatal(err)
					}
				}
				w.sync()
				if m := w.member("ann"); m == nil || slices.Contains(old, m.ID) {
					t.Fatalf("ann was not made again: %+v", m)
				}
				// Not in step: the re-created accounts queued the group
				// (state queued), which the next pass repairs.
				pg := w.pushed()["Sales"]
				if pg.State == "in_step" || pg.Drift == nil || pg.Drift.Missing != 2 || pg.Drift.Stale != 2 || pg.Members != 0 {
					t.Fatalf("new accounts outside the group: %+v drift %+v", pg, pg.Drift)
				}
				tc.repair(w)
				waitFor(t, func() bool {
					w.sync()
					return slices.Equal(w.dbxMembers(w.dbxGroup("Sales")), tc.want)
				})
				pg = w.pushed()["Sales"]
				if pg.State != "in_step" || pg.Members != len(tc.want) || pg.Drift != nil {
					t.Fatalf("after the repair: %+v drift %+v", pg, pg.Drift)
				}
				for _, id := range w.knownIDs("Sales") {
					if slices.Contains(old, id) {
						t.Fatalf("stale id %s still known: %v", id, w.knownIDs("Sales"))
					}
				}
			})
		}
	}
}

func (w *world) assignGroup(group string) {
	w.t.Helper()
	if err := w.st.Assign(bg, "t", &directory.Assignment{AppName: "dbx", GroupName: group, Role: "member"}); err != nil {
		w.t.Fatal(err)
	}
}
