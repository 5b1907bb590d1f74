package dropbox

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Many clients on two teams at once, with saves, snapshots and token changes
// alongside: run under -race, then check the kept counters against a recount.
func TestConcurrentClientsKeepStateConsistent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	e := newEnv(t, func(o *Options) {
		o.Teams = append(o.Teams, TeamConfig{Name: "beta", Token: "tok-beta"})
		o.StateFile, o.SaveInterval = path, 5*time.Millisecond
	})
	g := seedGroup(e, SeedGroup{Name: "All"})
	var wg sync.WaitGroup
	for w := range 6 {
		token := []string{testToken, "tok-beta"}[w%2]
		wg.Go(func() {
			for i := range 15 {
				email := fmt.Sprintf("w%d-%d@shared.example", w/2, i) // the same emails race on both teams
				e.do("POST", "/2/team/members/add_v2", token, "application/json", `{"new_members":[{"member_email":"`+email+`"}]}`)
				e.do("POST", "/2/team/members/list_v2", token, "application/json", `{"limit":5,"include_removed":true}`)
				e.do("POST", "/2/team/groups/members/add", token, "application/json",
					`{"group":{".tag":"group_id","group_id":"`+g+`"},"members":[{"user":{".tag":"email","email":"`+email+`"},"access_type":"member"}]}`)
				if i%3 == 0 {
					e.do("POST", "/2/team/members/remove", token, "application/json", `{"user":{".tag":"email","email":"`+email+`"}}`)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			_ = e.team.Snapshot()
			must(t, e.srv.Save())
			e.srv.ExpireToken("nobody")
			e.srv.Advance(time.Hour)
		}
	})
	wg.Wait()

	owners := map[string]string{}
	for _, name := range []string{"acme", "beta"} {
		tm := e.srv.Team(name)
		sn := tm.Snapshot()
		seats := 0
		for _, m := range sn.Members {
			if m.Status != StatusRemoved {
				seats++
				if prev, dup := owners[key(m.Email)]; dup {
					t.Errorf("%s is a current member of %s and %s", m.Email, prev, name)
				}
				owners[key(m.Email)] = name
			}
		}
		tm.mu.Lock()
		counted := tm.seats
		tm.mu.Unlock()
		if counted != seats {
			t.Errorf("%s: seats counter %d, recount %d", name, counted, seats)
		}
		// 3 workers a team, each 15 adds, lists and group adds and 5 removes.
		st := tm.Stats()
		var perRoute int64
		for _, n := range st.Routes {
			perRoute += n
		}
		if st.Calls != 150 || perRoute != 150 || st.Writes != 105 || st.Routes["team/members/remove"] != 15 ||
			st.MaxWriteRate > 105 || st.MaxWriteRate < 1 || st.MaxRate < st.MaxWriteRate {
			t.Errorf("%s: counters %+v", name, st)
		}
	}
	if len(owners) < 2 {
		t.Fatalf("too little happened: %v", owners)
	}
}
