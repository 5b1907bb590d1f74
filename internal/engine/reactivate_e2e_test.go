package engine_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// pastWindow is beyond Dropbox's 7-day recovery window, and beyond the
// margin Roster keeps over it.
const pastWindow = 7*24*time.Hour + 2*time.Hour

// account returns Roster's record of a user's account in the app.
func (w *world) account(name string) (store.Account, bool) {
	w.t.Helper()
	u, err := w.st.GetUser(bg, name)
	if err != nil {
		w.t.Fatal(err)
	}
	accts, err := w.st.Accounts(bg, w.app.ID, []int64{u.ID})
	if err != nil {
		w.t.Fatal(err)
	}
	a, ok := accts[u.ID]
	return a, ok
}

// settle syncs until no work is left: a refused recover or a found member
// re-plans in the next pass. Work that became a task fails the test.
func (w *world) settle() {
	w.t.Helper()
	for range 5 {
		w.sync()
		left, err := w.st.PendingWork(bg, w.app.ID, 0)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond) // past a retry's backoff
	}
	tasks, _ := w.st.ListTasks(bg, w.app.ID)
	w.t.Fatalf("work left after five passes; tasks: %+v", tasks)
}

// fullPlan is `roster plan --full`: the ops planned for each user.
func (w *world) fullPlan() map[string][]string {
	w.t.Helper()
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := w.e.Plan(bg, a, true)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, c := range p.Changes {
		out[c.User] = append(out[c.User], string(c.Op))
	}
	return out
}

// provisionWithFiles makes name an active member holding a file.
func (w *world) provisionWithFiles(name string) emu.Member {
	w.t.Helper()
	w.user(name, nil)
	w.assign(name, "member")
	w.settle()
	team := w.emu.Team("acme")
	team.Activate(name + "@corp.example")
	if err := team.AddFiles(name+"@corp.example", "notes.txt"); err != nil {
		w.t.Fatal(err)
	}
	return *w.member(name)
}

// removeLeaver deprovisions name, whose account is removed by Roster, and
// checks that Roster recorded the removal as recoverable. It returns the
// member as it was before.
func (w *world) removeLeaver(name string) emu.Member {
	w.t.Helper()
	before := *w.member(name)
	start := time.Now()
	w.status(name, directory.StatusDeprovisioned)
	w.settle()
	if m := w.member(name); m.ID != before.ID || m.Status != "removed" {
		w.t.Fatalf("leaver %s = %+v, want member %s removed", name, m, before.ID)
	}
	a, ok := w.account(name)
	if !ok || a.MemberID != before.ID || a.Status != "removed" || !a.Recoverable || a.RemovedAt.Before(start) || a.RemovedAt.After(time.Now()) {
		w.t.Fatalf("record of removed %s = %+v (found %v), want removed, recoverable, removed_at set", name, a, ok)
	}
	return before
}

// removeInDropbox removes a member the way an admin does in the Dropbox
// admin console: Roster is not told.
func (w *world) removeInDropbox(id string) {
	w.t.Helper()
	c := dropbox.New(dropbox.Options{BaseURL: w.app.BaseURL, Token: "tok", PollInterval: time.Millisecond})
	if err := c.Remove(bg, id, connector.RemoveOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

// After Dropbox's window a reactivated user gets a new account. Roster
// knows when it removed the member, so once its own record says the window
// has passed it creates without trying to recover; if Dropbox's clock is
// ahead, the refused recover falls back to a new account. A re-queue after
// the window forgets the removed account.
func TestReactivationAfterTheWindowMakesANewAccount(t *testing.T) {
	cases := []struct {
		name        string
		ageRecord   bool  // Roster's record of the removal is past the window too
		wantRecover int64 // members/recover calls
	}{
		{"Roster's record past the window", true, 0},
		{"only Dropbox's clock past the window", false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, storetest.OpenSQLite, func(s *app.Settings) { s.Deactivation.WipeData = false })
			w.provisionWithFiles("ivy")
			old := w.removeLeaver("ivy")
			w.emu.Advance(pastWindow)
			if c.ageRecord {
				a, _ := w.account("ivy")
				a.RemovedAt = a.RemovedAt.Add(-pastWindow)
				if err := w.st.CorrectAccounts(bg, w.app.ID, []store.Account{a}, nil, nil); err != nil {
					t.Fatal(err)
				}
				w.change("ivy", "user.update", func(u *directory.User) error { u.LastName = "Later"; return nil })
				w.settle()
				if a, ok := w.account("ivy"); ok {
					t.Fatalf("a removal past the window is still recorded after a re-queue: %+v", a)
				}
			}
			w.status("ivy", directory.StatusActive)
			w.emu.ResetCalls()
			w.settle()
			m := w.member("ivy")
			if m == nil || m.ID == old.ID || m.Status != "invited" || len(m.Files) != 0 {
				t.Fatalf("reactivated ivy = %+v, want a new invited member (old %s)", m, old.ID)
			}
			if n := w.emu.Calls()["team/members/recover"]; n != c.wantRecover {
				t.Fatalf("members/recover called %d times, want %d", n, c.wantRecover)
			}
			if a, _ := w.account("ivy"); a.MemberID != m.ID || a.Status != "invited" {
				t.Fatalf("record = %+v, want the new member %s", a, m.ID)
			}
		})
	}
}

// A member removed in Dropbox directly, or whose record Roster lost, is
// unknown to Roster, and members/get_info does not show removed members.
// Reactivated within the window, the user's add is refused as
// user_already_on_team; Roster then lists the team with removed members,
// finds it by email and recovers it instead of making a task.
func TestRemovedMemberRosterCannotLookUpIsFoundAndRecovered(t *testing.T) {
	cases := []struct {
		name string
		lose func(w *world, userID int64) // how Roster comes to know no account
		back func(w *world)               // what queues the user again
	}{
		{
			name: "removed in Dropbox, then a leaver and back",
			lose: func(w *world, _ int64) {
				w.status("jo", directory.StatusDeprovisioned)
				w.settle() // the leaver's member is gone from get_info: its record is dropped
			},
			back: func(w *world) { w.status("jo", directory.StatusActive) },
		},
		{
			name: "Roster's record lost",
			lose: func(w *world, userID int64) {
				if err := w.st.CorrectAccounts(bg, w.app.ID, nil, []int64{userID}, nil); err != nil {
					w.t.Fatal(err)
				}
			},
			back: func(w *world) {
				w.change("jo", "user.update", func(u *directory.User) error { u.LastName = "Back"; return nil })
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, storetest.OpenSQLite, nil)
			jo := w.provisionWithFiles("jo")
			a, _ := w.account("jo")
			w.removeInDropbox(jo.ID)
			c.lose(w, a.UserID)
			if a, ok := w.account("jo"); ok {
				t.Fatalf("Roster still knows an account: %+v", a)
			}
			c.back(w)
			w.emu.ResetCalls()
			w.settle()
			calls := w.emu.Calls()
			if calls["team/members/list_v2"] == 0 || calls["team/members/recover"] != 1 {
				t.Fatalf("calls = %v, want the team listed and one recover", calls)
			}
			m := w.member("jo")
			if m.ID != jo.ID || m.Status != "active" || !slices.Equal(m.Files, []string{"notes.txt"}) {
				t.Fatalf("jo = %+v, want member %s recovered with notes.txt", m, jo.ID)
			}
			if a, ok := w.account("jo"); !ok || a.MemberID != jo.ID || a.Status != "active" {
				t.Fatalf("record = %+v (found %v)", a, ok)
			}
		})
	}
}

// A recover Dropbox refuses for want of a licence becomes a task that says
// so: the member stays recoverable, and no new account gives up its files.
func TestRecoverRefusedForALicenceIsATask(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	w.provisionWithFiles("lou")
	old := w.removeLeaver("lou")
	team := w.emu.Team("acme")
	full := team.Snapshot().Seats
	if err := team.Configure(emu.TeamSettings{Licenses: &full}); err != nil {
		t.Fatal(err)
	}
	w.status("lou", directory.StatusActive)
	w.emu.ResetCalls()
	st := w.sync()
	tasks, _ := w.st.ListTasks(bg, w.app.ID)
	if st.Tasks != 1 || len(tasks) != 1 || !strings.Contains(tasks[0].LastError, "team_license_limit") {
		t.Fatalf("stats %+v, tasks %+v: want one task naming team_license_limit", st, tasks)
	}
	if calls := w.emu.Calls(); calls["team/members/recover"] != 1 || calls["team/members/add_v2"] != 0 {
		t.Fatalf("calls = %v, want one recover and no add", calls)
	}
	if m := w.member("lou"); m.ID != old.ID || m.Status != "removed" {
		t.Fatalf("lou = %+v, want member %s still removed", m, old.ID)
	}
	if a, _ := w.account("lou"); a.Status != "removed" || !a.Recoverable {
		t.Fatalf("record = %+v, want it still recoverable", a)
	}
}
