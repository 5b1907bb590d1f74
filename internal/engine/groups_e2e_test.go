package engine_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func pushGroupsOn(s *app.Settings) { s.Features.PushGroups = true }

func (w *world) group(name string, members ...string) {
	w.t.Helper()
	if err := w.st.CreateGroup(bg, "t", &directory.Group{Name: name}); err != nil {
		w.t.Fatal(err)
	}
	if len(members) > 0 {
		w.members(name, true, members...)
	}
}

func (w *world) members(group string, add bool, users ...string) {
	w.t.Helper()
	change := w.st.RemoveGroupMembers
	if add {
		change = w.st.AddGroupMembers
	}
	if err := change(bg, "t", group, users); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) push(r store.GroupPushRule) []string {
	w.t.Helper()
	got, err := w.st.PushGroups(bg, "t", "dbx", &r)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *world) unpush(r store.GroupPushRule, del bool) {
	w.t.Helper()
	if _, err := w.st.UnpushGroups(bg, "t", "dbx", r, del); err != nil {
		w.t.Fatal(err)
	}
}

// dbxGroup returns the Dropbox group of that name, or nil.
func (w *world) dbxGroup(name string) *emu.GroupSnapshot {
	for _, g := range w.emu.Team("acme").Snapshot().Groups {
		if strings.EqualFold(g.Name, name) {
			return &g
		}
	}
	return nil
}

// dbxMembers returns the emails of a Dropbox group's members, sorted.
func (w *world) dbxMembers(g *emu.GroupSnapshot) []string {
	sn := w.emu.Team("acme").Snapshot()
	byID := map[string]string{}
	for _, m := range sn.Members {
		byID[m.ID] = strings.TrimSuffix(m.Email, "@corp.example")
	}
	var out []string
	for _, id := range g.Members {
		out = append(out, byID[id])
	}
	sort.Strings(out)
	return out
}

func (w *world) pushed() map[string]store.PushedGroup {
	w.t.Helper()
	ps, err := w.st.ListPushedGroups(bg, w.app.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]store.PushedGroup{}
	for _, p := range ps {
		out[p.Group] = p
	}
	return out
}

func (w *world) routeCalls() map[string]int64 { return w.emu.Team("acme").Stats().Routes }

func delta(before, after map[string]int64, route string) int64 {
	return after["team/"+route] - before["team/"+route]
}

// TestGroupPushLifecycle: create with invited members provisioned first,
// member changes as differences, rename, unlink leaving the group, push
// again (linking Roster's own group), unlink with delete.
func TestGroupPushLifecycle(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, pushGroupsOn)
			for _, n := range []string{"ann", "bob", "cy"} {
				w.user(n, nil)
			}
			w.assign("bob", "member") // keeps his account when he leaves the group
			w.group("Sales", "ann", "bob")
			w.push(store.GroupPushRule{Group: "Sales"})
			// The push assigns the group, so ann (not assigned) is
			// provisioned first; both join while still invited (F9).
			st := w.sync()
			g := w.dbxGroup("Sales")
			if g == nil || st.Ops["account.create"] != 2 || st.Ops["app_group.create"] != 1 || st.Ops["app_group.add_members"] != 1 {
				t.Fatalf("first push: group %+v, ops %v", g, st.Ops)
			}
			if got := w.dbxMembers(g); !slices.Equal(got, []string{"ann", "bob"}) || w.member("ann").Status != "invited" {
				t.Fatalf("members = %v, ann %+v", got, w.member("ann"))
			}
			if p := w.pushed()["Sales"]; p.State != "in_step" || p.RemoteID != g.ID || p.Members != 2 || p.Pending != 0 {
				t.Fatalf("pushed = %+v", p)
			}
			id := g.ID

			// Membership changes go out as differences: one add, one remove.
			w.user("dee", nil)
			w.members("Sales", true, "cy", "dee")
			w.members("Sales", false, "bob")
			before := w.routeCalls()
			w.sync()
			after := w.routeCalls()
			if got := w.dbxMembers(w.dbxGroup("Sales")); !slices.Equal(got, []string{"ann", "cy", "dee"}) {
				t.Fatalf("after changes: %v", got)
			}
			if delta(before, after, "groups/members/add") != 1 || delta(before, after, "groups/members/remove") != 1 || delta(before, after, "groups/members/list") != 0 {
				t.Fatalf("calls: %v -> %v", before, after)
			}
			// bob keeps his account: he left the group, not the app.
			if w.member("bob").Status != "invited" {
				t.Fatalf("leaving a pushed group off-boarded a member assigned directly: %+v", w.member("bob"))
			}

			// Rename follows the directory; the group keeps its id.
			if _, err := w.st.RenameGroup(bg, "t", "Sales", "Sales EMEA"); err != nil {
				t.Fatal(err)
			}
			w.sync()
			if g := w.dbxGroup("Sales EMEA"); g == nil || g.ID != id || w.dbxGroup("Sales") != nil {
				t.Fatalf("after rename: %+v", g)
			}

			// Unlink without delete: the Dropbox group stays as it is.
			w.unpush(store.GroupPushRule{Group: "Sales EMEA"}, false)
			w.sync()
			if g := w.dbxGroup("Sales EMEA"); g == nil || len(g.Members) != 3 || len(w.pushed()) != 0 {
				t.Fatalf("after unlink: %+v, pushed %+v", g, w.pushed())
			}
			// Pushing again finds Roster's own group (by its external id)
			// without --link-existing; unlinking with delete removes it.
			w.push(store.GroupPushRule{Group: "Sales EMEA"})
			if st := w.sync(); st.Ops["app_group.link"] != 1 || st.Ops["app_group.create"] != 0 {
				t.Fatalf("push again: %v", st.Ops)
			}
			w.unpush(store.GroupPushRule{Group: "Sales EMEA"}, true)
			if st := w.sync(); st.Ops["app_group.delete"] != 1 || w.dbxGroup("Sales EMEA") != nil {
				t.Fatalf("delete: %v", st.Ops)
			}
			logs, _ := w.st.ListLog(bg, audit.Filter{App: "dbx", TargetKind: "group", Target: "Sales EMEA"})
			actions := map[string]bool{}
			for _, l := range logs {
				actions[l.Action] = true
			}
			for _, a := range []string{"app_group.rename", "app_group.unlink", "app_group.link", "app_group.delete", "group.unpush", "group.push"} {
				if !actions[a] {
					t.Errorf("system log lacks %s: %v", a, actions)
				}
			}
			if left, _ := w.st.PendingWork(bg, w.app.ID, 0); len(left) != 0 {
				t.Fatalf("work left: %+v", left)
			}
		})
	}
}

// TestGroupPushLinkExisting: a name clash is reported, never duplicated;
// with --link-existing the group is linked, Roster's members are put in
// step and members Roster does not manage are left alone.
func TestGroupPushLinkExisting(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, pushGroupsOn)
	team := w.emu.Team("acme")
	if _, err := team.Seed([]emu.SeedMember{{Email: "outsider@corp.example", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"ann", "bob", "cy"} {
		w.user(n, nil)
		w.assign(n, "member")
	}
	w.sync()
	// Dropbox already has "eng" with bob (provisioned by Roster, but not in
	// the directory group) and an outsider.
	gid, err := team.SeedGroup(emu.SeedGroup{Name: "eng", Members: []string{"bob@corp.example", "outsider@corp.example"}})
	if err != nil {
		t.Fatal(err)
	}
	w.group("Eng", "ann", "cy")
	w.push(store.GroupPushRule{Group: "Eng"})
	p, err := w.e.Plan(bg, w.app, false)
	if err != nil || len(p.Groups) != 1 || p.Groups[0].Op != engine.GroupCreate || !strings.Contains(p.Groups[0].Skipped, "--link-existing") {
		t.Fatalf("plan of a clash: %+v, %v", p.Groups, err)
	}
	st := w.sync()
	if st.Tasks != 1 || len(w.emu.Team("acme").Snapshot().Groups) != 1 {
		t.Fatalf("clash: %+v, groups %+v", st, w.emu.Team("acme").Snapshot().Groups)
	}
	if pg := w.pushed()["Eng"]; pg.State != "task" || !strings.Contains(pg.LastError, "--link-existing") || pg.RemoteID != "" {
		t.Fatalf("clash state = %+v", pg)
	}

	w.push(store.GroupPushRule{Group: "Eng", LinkExisting: true})
	writes := w.emu.Team("acme").Stats().Writes
	p, _ = w.e.Plan(bg, w.app, false)
	if got := w.emu.Team("acme").Stats().Writes; got != writes {
		t.Fatalf("plan made %d write calls", got-writes)
	}
	st = w.sync()
	g := w.dbxGroup("eng")
	if st.Ops["app_group.link"] != 1 || g.ID != gid || g.Name != "Eng" {
		t.Fatalf("link: %v, %+v", st.Ops, g)
	}
	if got := w.dbxMembers(g); !slices.Equal(got, []string{"ann", "cy", "outsider"}) {
		t.Fatalf("linked members = %v", got)
	}
	// The plan said the same before the sync did it.
	var ops []string
	for _, c := range p.Groups {
		ops = append(ops, c.Op+":"+strings.Join(c.Members, ","))
	}
	if want := []string{"link:", "rename:", "remove_members:bob", "add_members:ann,cy"}; !slices.Equal(ops, want) {
		t.Fatalf("plan = %v, want %v", ops, want)
	}
}

// TestGroupPushPatternAndPending: a pattern covers groups made later; a
// member whose account cannot be made yet is left pending, not fought over,
// and joins once the account exists.
func TestGroupPushPatternAndPending(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, pushGroupsOn)
	lic := 2 // the team's admin holds one
	if err := w.emu.Team("acme").Configure(emu.TeamSettings{Licenses: &lic}); err != nil {
		t.Fatal(err)
	}
	w.user("ann", nil)
	w.user("bob", nil)
	w.group("ops", "ann")
	if got := w.push(store.GroupPushRule{Pattern: "eng-*"}); len(got) != 0 {
		t.Fatalf("matched %v", got)
	}
	w.group("eng-web", "ann", "bob") // made after the rule
	st := w.sync()
	g := w.dbxGroup("eng-web")
	if g == nil || w.dbxGroup("ops") != nil || st.Tasks != 1 {
		t.Fatalf("pattern: %+v, stats %+v", g, st)
	}
	if got := w.dbxMembers(g); !slices.Equal(got, []string{"ann"}) {
		t.Fatalf("members = %v", got)
	}
	if p := w.pushed()["eng-web"]; p.Pending != 1 || p.State != "queued" {
		t.Fatalf("pending = %+v", p)
	}
	lic = 5
	_ = w.emu.Team("acme").Configure(emu.TeamSettings{Licenses: &lic})
	tasks, _ := w.st.ListTasks(bg, w.app.ID)
	if err := w.st.RetryTask(bg, "t", w.app.ID, store.WorkUser, tasks[0].RefID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		w.sync()
		return slices.Equal(w.dbxMembers(w.dbxGroup("eng-web")), []string{"ann", "bob"})
	})
	if p := w.pushed()["eng-web"]; p.Pending != 0 || p.State != "in_step" {
		t.Fatalf("after the account: %+v", p)
	}
	// A group deleted in Dropbox by hand is made again.
	conn := w.otherAdmin()
	if err := conn.DeleteGroup(bg, w.dbxGroup("eng-web").ID); err != nil {
		t.Fatal(err)
	}
	w.user("cy", nil)
	w.members("eng-web", true, "cy")
	waitFor(t, func() bool {
		w.sync()
		g := w.dbxGroup("eng-web")
		return g != nil && slices.Equal(w.dbxMembers(g), []string{"ann", "bob", "cy"})
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(5 * time.Millisecond) // past a pending group's short retry delay
	}
	t.Fatal("condition not reached")
}
