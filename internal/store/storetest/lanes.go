package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func laneTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"LaneOneHolder", testLaneOneHolder},
		{"LaneConcurrentAcquire", testLaneConcurrent},
		{"FleetHeartbeats", testFleetHeartbeats},
		{"WorkHandBack", testWorkHandBack},
		{"QueueStats", testQueueStats},
		{"LanePace", testLanePace},
	}
}

// fakeClock makes the store's clock a variable the test moves.
func fakeClock(t *testing.T, s Store) *time.Time {
	now := time.Now()
	s.SetClock(func() time.Time { return now })
	t.Cleanup(func() { s.SetClock(time.Now) })
	return &now
}

func testLaneOneHolder(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	now := fakeClock(t, s)
	start := *now
	steps := []struct {
		do    string // acquire, release, wait
		owner string
		d     time.Duration // ttl, cooldown or wait
		want  bool          // for acquire
	}{
		{"acquire", "w1", 10 * time.Second, true},
		{"acquire", "w2", 10 * time.Second, false}, // held
		{"wait", "", 5 * time.Second, false},       //
		{"acquire", "w1", 10 * time.Second, true},  // a renewal: good for 10s from now
		{"wait", "", 9 * time.Second, false},       //
		{"acquire", "w2", 10 * time.Second, false}, // the renewal still holds
		{"wait", "", 2 * time.Second, false},       //
		{"acquire", "w2", 10 * time.Second, true},  // expired: taken over
		{"acquire", "w1", 10 * time.Second, false}, // the old holder cannot take it back
		{"release", "w1", 0, false},                // not w1's: no effect
		{"acquire", "w1", 10 * time.Second, false}, //
		{"release", "w2", 3 * time.Second, false},  // released with a cooldown
		{"acquire", "w1", 10 * time.Second, false}, // nobody's, but cooling down
		{"wait", "", 4 * time.Second, false},       //
		{"acquire", "w1", 10 * time.Second, true},  //
	}
	for i, st := range steps {
		switch st.do {
		case "wait":
			*now = now.Add(st.d)
		case "release":
			if err := s.ReleaseLane(ctx, a.ID, st.owner, st.d); err != nil {
				t.Fatalf("step %d: release: %v", i, err)
			}
		case "acquire":
			got, err := s.AcquireLane(ctx, a.ID, st.owner, st.d)
			if err != nil || got != st.want {
				t.Fatalf("step %d: %s acquire = %v, %v; want %v", i, st.owner, got, err, st.want)
			}
		}
	}
	lanes, err := s.Lanes(ctx)
	if err != nil || len(lanes) != 1 {
		t.Fatalf("lanes = %+v, %v", lanes, err)
	}
	l := lanes[0]
	if l.AppID != a.ID || l.Owner != "w1" || !l.Until.Equal(now.Add(10*time.Second).UTC()) || !l.Since.Equal(now.UTC()) || !l.Since.After(start) {
		t.Fatalf("lane = %+v, want w1's since %v", l, *now)
	}
	if _, err := s.AcquireLane(ctx, a.ID, "", time.Second); err == nil {
		t.Fatal("an empty owner took a lane")
	}
}

func testLaneConcurrent(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := string(rune('a' + i))
			ok, err := s.AcquireLane(ctx, a.ID, owner, time.Minute)
			if err != nil {
				t.Errorf("acquire: %v", err)
			}
			if ok {
				won <- owner
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for w := range won {
		winners = append(winners, w)
	}
	if len(winners) != 1 {
		t.Fatalf("%d holders of one lane: %v", len(winners), winners)
	}
}

func testFleetHeartbeats(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	now := fakeClock(t, s)
	for _, step := range []struct {
		owner string
		wait  time.Duration
		want  []string
	}{
		{"w1", 0, []string{"w1"}},
		{"w2", time.Second, []string{"w1", "w2"}},
		{"w2", 10 * time.Second, []string{"w2"}},  // w1 fell silent past its ttl
		{"w1", time.Second, []string{"w1", "w2"}}, // and came back
	} {
		*now = now.Add(step.wait)
		ws, err := s.Heartbeat(ctx, step.owner, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range ws {
			got = append(got, w.Owner)
		}
		if !equalStrings(got, step.want) {
			t.Fatalf("after %s's heartbeat: alive %v, want %v", step.owner, got, step.want)
		}
	}
	if ok, _ := s.AcquireLane(ctx, a.ID, "w1", time.Hour); !ok {
		t.Fatal("w1 could not take a free lane")
	}
	if err := s.LeaveFleet(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLane(ctx, a.ID, "w2", time.Hour); !ok {
		t.Fatal("a worker's lanes stayed held after it left the fleet")
	}
	ws, _ := s.Heartbeat(ctx, "w2", time.Second)
	if len(ws) != 1 || ws[0].Owner != "w2" {
		t.Fatalf("alive after w1 left: %+v", ws)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testWorkHandBack(t *testing.T, s Store) {
	app1, _ := assignedUsers(t, s, "h1", "h2", "h3")
	a2 := mustApp(t, s, "other")
	for _, u := range []string{"h1", "h2"} {
		assignTo(t, s, "other", u)
	}
	mine, _ := s.ClaimWork(ctx, store.Claim{AppID: app1, Kinds: []string{store.WorkUser}, Owner: "w1", Lease: time.Hour, Limit: 2})
	theirs, _ := s.ClaimWork(ctx, store.Claim{AppID: app1, Kinds: []string{store.WorkUser}, Owner: "w2", Lease: time.Hour, Limit: 1})
	other, _ := s.ClaimWork(ctx, store.Claim{AppID: a2.ID, Kinds: []string{store.WorkUser}, Owner: "w1", Lease: time.Hour, Limit: 2})
	if len(mine) != 2 || len(theirs) != 1 || len(other) != 2 {
		t.Fatalf("claims: %d, %d, %d", len(mine), len(theirs), len(other))
	}
	for _, step := range []struct {
		name   string
		do     func() (int, error)
		want   int
		freeIn int64 // app whose items are now claimable by a third worker
		free   int
	}{
		{"release w1 in app 1", func() (int, error) { return s.ReleaseWork(ctx, app1, "w1") }, 2, app1, 2},
		{"reclaim app 1 for w3", func() (int, error) { return s.ReclaimWork(ctx, app1, "w3") }, 1, app1, 1},
		{"release w1 everywhere", func() (int, error) { return s.ReleaseWork(ctx, 0, "w1") }, 2, a2.ID, 2},
		{"nothing left to release", func() (int, error) { return s.ReleaseWork(ctx, 0, "w1") }, 0, a2.ID, 0},
	} {
		n, err := step.do()
		if err != nil || n != step.want {
			t.Fatalf("%s: %d, %v; want %d", step.name, n, err, step.want)
		}
		got, _ := s.ClaimWork(ctx, store.Claim{AppID: step.freeIn, Kinds: []string{store.WorkUser}, Owner: "w3", Lease: time.Hour, Limit: 10})
		if len(got) != step.free {
			t.Fatalf("%s: a third worker claimed %d items, want %d", step.name, len(got), step.free)
		}
	}
	// Handing back changes no attempt count: nothing failed.
	left, _ := s.PendingWork(ctx, 0, 0)
	for _, w := range left {
		if w.Attempts != 0 || w.LeaseOwner != "w3" {
			t.Fatalf("after hand-back: %+v", w)
		}
	}
}

func testQueueStats(t *testing.T, s Store) {
	now := fakeClock(t, s)
	appID, _ := assignedUsers(t, s, "q1", "q2", "q3", "q4")
	empty := mustApp(t, s, "empty")
	start := *now
	*now = now.Add(time.Minute)
	claimed, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Hour, Limit: 2})
	failAndTask(t, s, claimed)
	stats, err := s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 {
		t.Fatalf("stats = %+v, want only app %d (app %d has no work)", stats, appID, empty.ID)
	}
	q := stats[0]
	// q1: task; q2: retrying later; q3, q4: due now.
	if q.AppID != appID || q.Queued != 3 || q.Due != 2 || q.Tasks != 1 || q.Retries != 1 || q.Leased != 0 || !q.Oldest.Equal(start.UTC()) {
		t.Fatalf("stats = %+v", q)
	}
	if got, _ := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: "w", Lease: time.Hour, Limit: 1}); len(got) != 1 {
		t.Fatal("nothing to claim")
	}
	if stats, _ = s.QueueStats(ctx); stats[0].Leased != 1 || stats[0].Due != 2 {
		t.Fatalf("after a claim: %+v", stats[0])
	}
}

func assignTo(t *testing.T, s Store, appName, username string) {
	t.Helper()
	if err := s.Assign(ctx, actor, &directory.Assignment{AppName: appName, Username: username}); err != nil {
		t.Fatal(err)
	}
}

// failAndTask makes the first item a task and schedules the second for later.
func failAndTask(t *testing.T, s Store, items []store.WorkItem) {
	t.Helper()
	if len(items) != 2 {
		t.Fatalf("claimed %d items, want 2", len(items))
	}
	err := s.FinishWork(ctx, "w", []store.Outcome{
		{Item: items[0], Err: errors.New("permanent"), GiveUp: true},
		{Item: items[1], Err: errors.New("503"), RetryAt: time.Now().Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The pace saved with a lane is the holder's alone to write, survives the
// lane changing hands (the next holder starts from it) and reads back whole.
func testLanePace(t *testing.T, s Store) {
	ctx := t.Context()
	a := mustApp(t, s, "paced")
	at := time.Unix(1_800_000_000, 0).UTC()
	p := store.Pace{Auto: true, Rate: 42.5, Reason: "backed off after 429", Since: at, Last429: at.Add(-time.Second), At: at}
	if ok, err := s.AcquireLane(ctx, a.ID, "w1", time.Hour); !ok || err != nil {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	if err := s.SetPace(ctx, a.ID, "w1", p); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPace(ctx, a.ID, "w2", store.Pace{Rate: 1}); err != nil { // not the holder: no effect
		t.Fatal(err)
	}
	if err := s.ReleaseLane(ctx, a.ID, "w1", 0); err != nil {
		t.Fatal(err)
	}
	lanes, err := s.Lanes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got *store.Lane
	for i := range lanes {
		if lanes[i].AppID == a.ID {
			got = &lanes[i]
		}
	}
	if got == nil {
		t.Fatalf("no lane for the app in %+v", lanes)
	}
	if !got.Pace.Since.Equal(p.Since) || !got.Pace.Last429.Equal(p.Last429) || !got.Pace.At.Equal(p.At) {
		t.Fatalf("pace times %+v, want %+v", got.Pace, p)
	}
	got.Pace.Since, got.Pace.Last429, got.Pace.At = p.Since, p.Last429, p.At
	if got.Pace != p {
		t.Fatalf("pace %+v, want %+v", got.Pace, p)
	}
}
