package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func groupPushTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"GroupPushRules", testGroupPushRules},
		{"GroupPushPatternFollowsGroups", testGroupPushPattern},
		{"GroupPushMembershipQueues", testGroupPushMembership},
		{"GroupPushUnpush", testGroupPushUnpush},
		{"GroupPushClaimFinish", testGroupPushClaimFinish},
		{"GroupPushFinishKeepsState", testGroupPushFinishState},
		{"GroupPushComparesWithDirectory", testGroupPushCompare},
		{"GroupPushRecordCheck", testGroupPushCheck},
	}
}

func mustGroup(t *testing.T, s Store, name string, members ...string) directory.Group {
	t.Helper()
	g := directory.Group{Name: name}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
	if len(members) > 0 {
		if err := s.AddGroupMembers(ctx, actor, name, members); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// queued returns the queued items of one kind in an app, by ref id.
func queued(t *testing.T, s Store, appID int64, kind string) map[int64]store.WorkItem {
	t.Helper()
	items, err := s.PendingWork(ctx, appID, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.WorkItem{}
	for _, it := range items {
		if it.Kind == kind {
			out[it.RefID] = it
		}
	}
	return out
}

func pushed(t *testing.T, s Store, appID int64) map[string]store.PushedGroup {
	t.Helper()
	ps, err := s.ListPushedGroups(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.PushedGroup{}
	for _, p := range ps {
		out[p.Group] = p
	}
	return out
}

func testGroupPushRules(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	mustUser(t, s, "ann")
	sales := mustGroup(t, s, "Sales", "ann")
	for _, tc := range []struct {
		name string
		rule store.GroupPushRule
		want error
	}{
		{"neither group nor pattern", store.GroupPushRule{}, directory.ErrInvalid},
		{"both group and pattern", store.GroupPushRule{Group: "Sales", Pattern: "S*"}, directory.ErrInvalid},
		{"unknown group", store.GroupPushRule{Group: "Nope"}, directory.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rule
			_, err := s.PushGroups(ctx, actor, "dbx", &r)
			wantErr(t, err, tc.want)
		})
	}
	if rules, _ := s.ListGroupPushRules(ctx, a.ID); len(rules) != 0 || len(pushed(t, s, a.ID)) != 0 {
		t.Fatalf("refused rules left state: %+v", rules)
	}
	r := store.GroupPushRule{Group: "sales"}
	matched, err := s.PushGroups(ctx, actor, "DBX", &r)
	if err != nil || !slices.Equal(matched, []string{"Sales"}) || r.GroupID != sales.ID {
		t.Fatalf("push = %v, %v, %+v", matched, err, r)
	}
	// The push assigns the group (role member) and queues its members and itself.
	as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx", Group: "Sales"})
	if len(as) != 1 || as[0].Role != directory.RoleMember {
		t.Fatalf("assignments = %+v", as)
	}
	if len(queued(t, s, a.ID, store.WorkUser)) != 1 || len(queued(t, s, a.ID, store.WorkGroup)) != 1 {
		t.Fatalf("work = %+v", queued(t, s, a.ID, ""))
	}
	logs, _ := s.ListLog(ctx, audit.Filter{Action: "assign", Target: "Sales"})
	if len(logs) != 1 || logs[0].Detail["reason"] == nil {
		t.Fatalf("assignment by push not logged: %+v", logs)
	}
	// Pushing again updates the rule in place and does not assign twice.
	r2 := store.GroupPushRule{Group: "SALES", LinkExisting: true}
	if _, err := s.PushGroups(ctx, actor, "dbx", &r2); err != nil {
		t.Fatal(err)
	}
	rules, _ := s.ListGroupPushRules(ctx, a.ID)
	if len(rules) != 1 || !rules[0].LinkExisting || rules[0].Group != "Sales" || r2.ID != r.ID {
		t.Fatalf("rules = %+v", rules)
	}
	if p := pushed(t, s, a.ID)["Sales"]; !p.LinkExisting || p.State != "queued" || !p.InDirectory {
		t.Fatalf("pushed = %+v", p)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "assign", Target: "Sales"}); len(logs) != 1 {
		t.Fatalf("assigned twice: %d", len(logs))
	}
}

func testGroupPushPattern(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	engA := mustGroup(t, s, "eng-a")
	mustGroup(t, s, "ops")
	r := store.GroupPushRule{Pattern: "ENG-*"}
	if matched, err := s.PushGroups(ctx, actor, "dbx", &r); err != nil || !slices.Equal(matched, []string{"eng-a"}) {
		t.Fatalf("pattern push = %v, %v", matched, err)
	}
	engB := mustGroup(t, s, "eng-b") // created later: covered too
	for _, tc := range []struct {
		rename, to string
		want       map[string]bool // group -> unlink
	}{
		{"", "", map[string]bool{"eng-a": false, "eng-b": false}},
		{"ops", "eng-ops", map[string]bool{"eng-a": false, "eng-b": false, "eng-ops": false}},
		{"eng-b", "platform", map[string]bool{"eng-a": false, "platform": true, "eng-ops": false}},
		{"platform", "eng-platform", map[string]bool{"eng-a": false, "eng-platform": false, "eng-ops": false}},
	} {
		if tc.rename != "" {
			if _, err := s.RenameGroup(ctx, actor, tc.rename, tc.to); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]bool{}
		for name, p := range pushed(t, s, a.ID) {
			got[name] = p.Unlink
		}
		if len(got) != len(tc.want) {
			t.Fatalf("after %s -> %s: pushed %v, want %v", tc.rename, tc.to, got, tc.want)
		}
		for k, v := range tc.want {
			if u, ok := got[k]; !ok || u != v {
				t.Fatalf("after %s -> %s: pushed %v, want %v", tc.rename, tc.to, got, tc.want)
			}
		}
	}
	if q := queued(t, s, a.ID, store.WorkGroup); len(q) != 3 || q[engB.ID].Generation < 3 || q[engA.ID].Generation != 1 {
		t.Fatalf("group items = %+v", q)
	}
	// A rename onto a taken name is refused and changes nothing.
	_, err := s.RenameGroup(ctx, actor, "eng-a", "ENG-OPS")
	wantErr(t, err, directory.ErrConflict)
	_, err = s.RenameGroup(ctx, actor, "eng-a", " ")
	wantErr(t, err, directory.ErrInvalid)
	if _, err := s.GetGroup(ctx, "eng-a"); err != nil {
		t.Fatal("a refused rename lost the group")
	}
	// A deleted group is unlinked (its Dropbox group left alone).
	if err := s.DeleteGroup(ctx, actor, "eng-a"); err != nil {
		t.Fatal(err)
	}
	if p := pushed(t, s, a.ID)["eng-a"]; !p.Unlink || p.InDirectory || p.DeleteInApp {
		t.Fatalf("deleted group = %+v", p)
	}
}

func testGroupPushMembership(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	b := mustApp(t, s, "other")
	for _, n := range []string{"ann", "bob"} {
		mustUser(t, s, n)
	}
	sales := mustGroup(t, s, "Sales", "ann")
	plain := mustGroup(t, s, "Plain")
	for _, app := range []string{"dbx", "other"} {
		if _, err := s.PushGroups(ctx, actor, app, &store.GroupPushRule{Group: "Sales"}); err != nil {
			t.Fatal(err)
		}
	}
	gen := func(appID, groupID int64) int64 { return queued(t, s, appID, store.WorkGroup)[groupID].Generation }
	before := gen(a.ID, sales.ID)
	for _, tc := range []struct {
		name   string
		change func() error
		bump   int64
	}{
		{"add two members: one item per app", func() error { return s.AddGroupMembers(ctx, actor, "Sales", []string{"bob", "ann"}) }, 1},
		{"nothing changed: nothing queued", func() error { return s.AddGroupMembers(ctx, actor, "Sales", []string{"bob"}) }, 0},
		{"remove a member", func() error { return s.RemoveGroupMembers(ctx, actor, "Sales", []string{"ann"}) }, 1},
		{"a group not pushed", func() error { return s.AddGroupMembers(ctx, actor, "Plain", []string{"ann"}) }, 0},
	} {
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := gen(a.ID, sales.ID); got != before+tc.bump || gen(b.ID, sales.ID) != got {
			t.Fatalf("%s: generation %d (other app %d), want %d", tc.name, got, gen(b.ID, sales.ID), before+tc.bump)
		}
		before += tc.bump
	}
	if _, ok := queued(t, s, a.ID, store.WorkGroup)[plain.ID]; ok {
		t.Fatal("a group that is not pushed was queued")
	}
	dm, err := s.DirectoryMembers(ctx, []int64{sales.ID, plain.ID})
	if err != nil || len(dm[sales.ID]) != 1 || dm[sales.ID][0].Username != "bob" || dm[sales.ID][0].Status != directory.StatusActive || len(dm[plain.ID]) != 1 {
		t.Fatalf("directory members = %+v, %v", dm, err)
	}
}

func testGroupPushUnpush(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	mustGroup(t, s, "eng-a")
	mustGroup(t, s, "eng-b")
	for _, r := range []store.GroupPushRule{{Pattern: "eng-*"}, {Group: "eng-a"}} {
		if _, err := s.PushGroups(ctx, actor, "dbx", &r); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.UnpushGroups(ctx, actor, "dbx", store.GroupPushRule{Pattern: "ops-*"}, false)
	wantErr(t, err, directory.ErrNotFound)
	// eng-a stays pushed by its name rule; eng-b is unlinked, deleted in Dropbox.
	unlinked, err := s.UnpushGroups(ctx, actor, "dbx", store.GroupPushRule{Pattern: "ENG-*"}, true)
	if err != nil || !slices.Equal(unlinked, []string{"eng-b"}) {
		t.Fatalf("unpush = %v, %v", unlinked, err)
	}
	p := pushed(t, s, a.ID)
	if p["eng-a"].Unlink || !p["eng-b"].Unlink || !p["eng-b"].DeleteInApp {
		t.Fatalf("pushed = %+v", p)
	}
	// The assignment the push made stays: unpushing never off-boards anyone.
	if as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx"}); len(as) != 2 {
		t.Fatalf("assignments = %+v", as)
	}
	// Pushing it again before the unlink ran cancels the unlink.
	if _, err := s.PushGroups(ctx, actor, "dbx", &store.GroupPushRule{Group: "eng-b"}); err != nil {
		t.Fatal(err)
	}
	if p := pushed(t, s, a.ID)["eng-b"]; p.Unlink || p.DeleteInApp {
		t.Fatalf("pushed again = %+v", p)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "group.unpush"}); len(logs) != 1 || logs[0].Detail["delete_in_app"] != true {
		t.Fatalf("unpush log = %+v", logs)
	}
}

func groupItem(t *testing.T, s Store) (int64, directory.Group) {
	a := mustApp(t, s, "dbx")
	mustUser(t, s, "ann")
	g := mustGroup(t, s, "Sales", "ann")
	if _, err := s.PushGroups(ctx, actor, "dbx", &store.GroupPushRule{Group: "Sales"}); err != nil {
		t.Fatal(err)
	}
	return a.ID, g
}

func testGroupPushClaimFinish(t *testing.T, s Store) {
	appID, g := groupItem(t, s)
	// User items and group items are claimed apart.
	users, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Minute, Limit: 10})
	if len(users) != 1 || users[0].Kind != store.WorkUser {
		t.Fatalf("ClaimWork = %+v", users)
	}
	items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkGroup}, Owner: "w1", Lease: time.Minute, Limit: 10})
	if err != nil || len(items) != 1 || items[0].Kind != store.WorkGroup || items[0].RefID != g.ID {
		t.Fatalf("claim groups = %+v, %v", items, err)
	}
	if again, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkGroup}, Owner: "w2", Lease: time.Minute, Limit: 10}); len(again) != 0 {
		t.Fatalf("claimed a leased item: %+v", again)
	}
	for _, tc := range []struct {
		name      string
		out       store.Outcome
		wantState string
		attempts  int
	}{
		{"failure retries", store.Outcome{Err: errors.New("503"), RetryAt: time.Now().Add(-time.Second)}, "retrying", 1},
		{"pending waits without an attempt", store.Outcome{Wait: true, RetryAt: time.Now().Add(-time.Second)}, "retrying", 1},
		{"give up makes a task", store.Outcome{Err: errors.New("clash"), GiveUp: true, RetryAt: time.Now()}, "task", 2},
	} {
		if len(items) == 0 {
			items, _ = s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkGroup}, Owner: "w1", Lease: time.Minute, Limit: 10})
		}
		if len(items) != 1 {
			t.Fatalf("%s: nothing to claim", tc.name)
		}
		tc.out.Item, tc.out.Group.Row = items[0], store.PushedGroup{RemoteID: "g:1", RemoteName: "Sales", Pending: 1}
		items = nil
		if err := s.FinishWork(ctx, "w1", []store.Outcome{tc.out}); err != nil {
			t.Fatal(err)
		}
		q := queued(t, s, appID, store.WorkGroup)[g.ID]
		if p := pushed(t, s, appID)["Sales"]; p.State != tc.wantState || q.Attempts != tc.attempts || p.RemoteID != "g:1" {
			t.Fatalf("%s: %+v, item %+v", tc.name, p, q)
		}
	}
	tasks, _ := s.ListTasks(ctx, appID)
	if len(tasks) != 1 || tasks[0].Kind != store.WorkGroup || tasks[0].LastError != "clash" {
		t.Fatalf("tasks = %+v", tasks)
	}
	// A push again queues the task afresh.
	if _, err := s.PushGroups(ctx, actor, "dbx", &store.GroupPushRule{Group: "Sales"}); err != nil {
		t.Fatal(err)
	}
	if p := pushed(t, s, appID)["Sales"]; p.State != "queued" {
		t.Fatalf("after push again: %+v", p)
	}
}

func testGroupPushFinishState(t *testing.T, s Store) {
	appID, g := groupItem(t, s)
	finish := func(name string, o store.Outcome, change func()) {
		t.Helper()
		items, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkGroup}, Owner: "w", Lease: time.Minute, Limit: 10})
		if len(items) != 1 {
			t.Fatalf("%s: claimed %+v", name, items)
		}
		if change != nil {
			change()
		}
		o.Item = items[0]
		if err := s.FinishWork(ctx, "w", []store.Outcome{o}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	known := func() []store.GroupMember {
		m, err := s.KnownGroupMembers(ctx, appID, []int64{g.ID})
		if err != nil {
			t.Fatal(err)
		}
		return m[g.ID]
	}
	st := store.PushedGroup{RemoteID: "g:1", RemoteName: "Sales"}
	ann := account(t, s, appID, "ann", "dbmid:1")
	finish("added", store.Outcome{Logs: []audit.Entry{{Actor: "engine", Action: "app_group.create", Outcome: audit.Success}}, Group: store.GroupResult{Row: st, Added: []store.GroupMember{{MemberID: "dbmid:1", UserID: ann}, {MemberID: "dbmid:x"}}}}, nil)
	if k := known(); len(k) != 2 || len(queued(t, s, appID, store.WorkGroup)) != 0 {
		t.Fatalf("known = %+v", k)
	}
	p := pushed(t, s, appID)["Sales"]
	if p.State != "in_step" || p.Members != 2 || p.SyncedAt == nil {
		t.Fatalf("in step = %+v", p)
	}
	// A change while the item runs releases it instead of completing it.
	if _, err := s.PushGroups(ctx, actor, "dbx", &store.GroupPushRule{Group: "Sales"}); err != nil {
		t.Fatal(err)
	}
	finish("changed meanwhile", store.Outcome{Group: store.GroupResult{Row: st, Removed: []string{"dbmid:1"}}}, func() {
		mustUser(t, s, "bob")
		if err := s.AddGroupMembers(ctx, actor, "Sales", []string{"bob"}); err != nil {
			t.Fatal(err)
		}
	})
	if k := known(); len(k) != 1 || k[0].MemberID != "dbmid:x" || len(queued(t, s, appID, store.WorkGroup)) != 1 {
		t.Fatalf("after release: known %+v", k)
	}
	if users, _ := s.UsersByMemberID(ctx, appID, []string{"dbmid:none"}); len(users) != 0 {
		t.Fatalf("UsersByMemberID = %v", users)
	}
	// Reset replaces every known member; an unlinked group is forgotten.
	finish("reset", store.Outcome{Group: store.GroupResult{Row: st, Reset: true, Added: []store.GroupMember{{MemberID: "dbmid:2", UserID: 2}}}}, nil)
	if k := known(); len(k) != 1 || k[0].MemberID != "dbmid:2" {
		t.Fatalf("after reset: %+v", k)
	}
	if _, err := s.UnpushGroups(ctx, actor, "dbx", store.GroupPushRule{Group: "Sales"}, false); err != nil {
		t.Fatal(err)
	}
	finish("forget", store.Outcome{Group: store.GroupResult{Row: st, Forget: true}}, nil)
	if p := pushed(t, s, appID); len(p) != 0 || len(known()) != 0 {
		t.Fatalf("after forget: %+v", p)
	}
	targets, _ := s.GroupTargets(ctx, appID, true)
	if len(targets) != 0 {
		t.Fatalf("targets = %v", targets)
	}
}

// account gives a user an active account in the app and returns the user's ID.
func account(t *testing.T, s Store, appID int64, username, memberID string) int64 {
	t.Helper()
	u, err := s.GetUser(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	put := []store.Account{{AppID: appID, UserID: u.ID, MemberID: memberID, Email: u.Email, Role: "member", Status: "active"}}
	if err := s.CorrectAccounts(ctx, appID, put, nil, nil); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// groupInStep finishes the group item of Sales (ann, bob) with both known in
// Dropbox beside a member Roster holds no account for.
func groupInStep(t *testing.T, s Store) (appID int64, g directory.Group, ann, bob int64) {
	t.Helper()
	appID, g = groupItem(t, s)
	mustUser(t, s, "bob")
	if err := s.AddGroupMembers(ctx, actor, "Sales", []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	ann, bob = account(t, s, appID, "ann", "dbmid:a"), account(t, s, appID, "bob", "dbmid:b")
	items, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkGroup}, Owner: "w", Lease: time.Minute, Limit: 10})
	if len(items) != 1 {
		t.Fatalf("claimed %+v", items)
	}
	out := store.Outcome{Item: items[0], Group: store.GroupResult{Row: store.PushedGroup{RemoteID: "g:1", RemoteName: "Sales"}, Reset: true, Added: []store.GroupMember{{MemberID: "dbmid:a", UserID: ann}, {MemberID: "dbmid:b", UserID: bob}, {MemberID: "dbmid:x"}}}}
	if err := s.FinishWork(ctx, "w", []store.Outcome{out}); err != nil {
		t.Fatal(err)
	}
	return appID, g, ann, bob
}

// testGroupPushCompare: ListPushedGroups judges known members by the users'
// current accounts and the directory group, as the planner does.
func testGroupPushCompare(t *testing.T, s Store) {
	appID, _, _, _ := groupInStep(t, s)
	mustUser(t, s, "cy")
	for _, tc := range []struct {
		name    string
		change  func()
		state   string
		members int
		drift   *store.GroupDrift
	}{
		{"in step, a member Roster does not know included", func() {}, "in_step", 3, nil},
		{"an account made again: its old id is stale, the new one missing", func() { account(t, s, appID, "ann", "dbmid:a2") }, "drifted", 2,
			&store.GroupDrift{Missing: 1, Stale: 1}},
		{"the account back under the known id", func() { account(t, s, appID, "ann", "dbmid:a") }, "in_step", 3, nil},
		{"the account removed: its id is stale, ann missing", func() {
			put := []store.Account{{AppID: appID, UserID: mustGet(t, s, "ann"), MemberID: "dbmid:a", Email: "ann@example.com", Role: "member", Status: "removed"}}
			if err := s.CorrectAccounts(ctx, appID, put, nil, nil); err != nil {
				t.Fatal(err)
			}
		}, "drifted", 2, &store.GroupDrift{Missing: 1, Stale: 1}},
		{"a wanted member without an account queues the group", func() {
			if err := s.AddGroupMembers(ctx, actor, "Sales", []string{"cy"}); err != nil {
				t.Fatal(err)
			}
		}, "queued", 2, &store.GroupDrift{Missing: 2, Stale: 1}},
	} {
		tc.change()
		p := pushed(t, s, appID)["Sales"]
		if p.State != tc.state || p.Members != tc.members || !sameDrift(p.Drift, tc.drift) {
			t.Fatalf("%s: state %s, members %d, drift %+v; want %s, %d, %+v", tc.name, p.State, p.Members, p.Drift, tc.state, tc.members, tc.drift)
		}
	}
	// A group being unlinked is not compared.
	if _, err := s.UnpushGroups(ctx, actor, "dbx", store.GroupPushRule{Group: "Sales"}, false); err != nil {
		t.Fatal(err)
	}
	if p := pushed(t, s, appID)["Sales"]; p.Drift != nil || !p.Unlink {
		t.Fatalf("unlinking: %+v", p)
	}
}

func mustGet(t *testing.T, s Store, username string) int64 {
	t.Helper()
	u, err := s.GetUser(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func sameDrift(a, b *store.GroupDrift) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// testGroupPushCheck: a read of the group replaces the known members, dates
// the read and queues the group when asked; a read of a group relinked
// meanwhile is dropped; a group gone from Dropbox is forgotten and queued.
func testGroupPushCheck(t *testing.T, s Store) {
	appID, g, ann, bob := groupInStep(t, s)
	mustUser(t, s, "cy")
	cy := account(t, s, appID, "cy", "dbmid:c")
	known := func() []string {
		m, err := s.KnownGroupMembers(ctx, appID, []int64{g.ID})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range m[g.ID] {
			out = append(out, k.MemberID)
		}
		return out
	}
	check := func(c store.GroupCheck) {
		t.Helper()
		c.AppID, c.GroupID = appID, g.ID
		if err := s.RecordGroupCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// bob was removed in Dropbox directly and cy added: recorded as read, not queued.
	drift := audit.Entry{Actor: "engine", Action: "reconcile.group_drift", TargetKind: "group", Target: "Sales", Outcome: audit.Success}
	check(store.GroupCheck{RemoteID: "g:1", Members: []store.GroupMember{{MemberID: "dbmid:a", UserID: ann}, {MemberID: "dbmid:c", UserID: cy}}, Logs: []audit.Entry{drift}})
	p := pushed(t, s, appID)["Sales"]
	if got := known(); !slices.Equal(got, []string{"dbmid:a", "dbmid:c"}) || p.VerifiedAt == nil || p.State != "drifted" ||
		!sameDrift(p.Drift, &store.GroupDrift{Missing: 1, Unexpected: 1}) || len(queued(t, s, appID, store.WorkGroup)) != 0 {
		t.Fatalf("after a read: known %v, %+v drift %+v", got, p, p.Drift)
	}
	if logs, _ := s.ListLog(ctx, audit.Filter{Action: "reconcile.group_drift"}); len(logs) != 1 {
		t.Fatalf("logs = %+v", logs)
	}
	// A read of another Dropbox group (relinked meanwhile) changes nothing.
	check(store.GroupCheck{RemoteID: "g:2", Members: []store.GroupMember{{MemberID: "dbmid:b", UserID: bob}}, Queue: true})
	if got := known(); !slices.Equal(got, []string{"dbmid:a", "dbmid:c"}) || len(queued(t, s, appID, store.WorkGroup)) != 0 {
		t.Fatalf("a read of another group was recorded: %v", got)
	}
	// Asked to, the read queues the group for the full sync.
	check(store.GroupCheck{RemoteID: "g:1", Members: []store.GroupMember{{MemberID: "dbmid:a", UserID: ann}}, Queue: true})
	if q, ok := queued(t, s, appID, store.WorkGroup)[g.ID]; !ok || q.Reason != "sync.full" || pushed(t, s, appID)["Sales"].State != "queued" {
		t.Fatalf("not queued: %+v", q)
	}
	// A group gone from Dropbox is forgotten, so its item makes it again.
	check(store.GroupCheck{RemoteID: "g:1", Gone: true})
	if p := pushed(t, s, appID)["Sales"]; p.RemoteID != "" || p.VerifiedAt != nil || len(known()) != 0 || p.State != "queued" {
		t.Fatalf("gone: %+v, known %v", p, known())
	}
}
