package engine_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// otherAdmin changes the team through the API directly, as an admin in the
// Dropbox console would, behind Roster's back.
func (w *world) otherAdmin() *dropbox.Client {
	return dropbox.New(dropbox.Options{BaseURL: w.app.BaseURL, Token: "tok", PollInterval: time.Millisecond})
}

// TestFullReconciliationRepairsDrift drifts the team in every way Dropbox
// allows, checks that a full plan lists exactly the repairs and that the
// full sync then makes exactly those, and that strangers are left alone.
func TestFullReconciliationRepairsDrift(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.AppSourced = []string{"first_name"} })
			names := []string{"amy", "ben", "cat", "dan", "eve", "fay"}
			for _, n := range names {
				w.user(n, nil)
				w.assign(n, "member")
			}
			w.sync()
			emails := make([]string, len(names))
			for i, n := range names {
				emails[i] = n + "@corp.example"
			}
			w.emu.Team("acme").Activate(emails...)
			drift(t, w)

			plan, err := w.e.Plan(bg, w.app, true)
			if err != nil {
				t.Fatal(err)
			}
			sv := plan.Survey
			// The team's own admin and the stranger: reported, never Roster's to remove.
			if sv == nil || len(sv.Unknown) != 2 || sv.Unknown[0].Email != "admin@acme.example" || sv.Unknown[1].Email != "stranger@corp.example" {
				t.Fatalf("survey unknown = %+v", sv)
			}
			// Everyone accepted the invitation in Dropbox (fay's only drift), five drifted more.
			if len(sv.Drifted) != 6 || sv.Members != 7 {
				t.Fatalf("drifted = %+v", sv.Drifted)
			}
			want := []string{"amy:update", "cat:unsuspend", "dan:recover", "eve:set_role"}
			if got := planOps(plan); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("plan = %v, want %v (ben's first name is the app's: imported, not pushed back)", got, want)
			}
			before := logCount(t, w)
			res, err := w.e.Reconcile(bg, w.app, engine.SyncOptions{})
			if err != nil || res.Queued < len(want) {
				t.Fatalf("reconcile: %+v %v", res, err)
			}
			if got := syncOps(t, w, before); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("sync did %v, plan said %v", got, want)
			}
			checkRepaired(t, w)
			if p, _ := w.e.Plan(bg, w.app, true); len(p.Changes) != 0 || len(p.Survey.Drifted) != 0 {
				t.Fatalf("a second full plan is not empty: %+v %+v", p.Changes, p.Survey.Drifted)
			}
		})
	}
}

// drift changes the team behind Roster's back, one member per kind of drift.
func drift(t *testing.T, w *world) {
	t.Helper()
	c := w.otherAdmin()
	id := func(n string) string { return w.member(n).ID }
	surname, given := "Renamed", "Benedict"
	steps := []error{
		func() error {
			_, err := c.SetProfile(bg, id("amy"), connector.ProfileChange{Surname: &surname})
			return err
		}(),
		func() error {
			_, err := c.SetProfile(bg, id("ben"), connector.ProfileChange{GivenName: &given})
			return err
		}(),
		c.Suspend(bg, id("cat"), false),
		c.Remove(bg, id("dan"), connector.RemoveOptions{}),
		c.SetRole(bg, id("eve"), "team_admin"),
	}
	if _, err := c.AddMembers(bg, []connector.NewMember{{Email: "stranger@corp.example", GivenName: "S", Surname: "T"}}); err != nil {
		steps = append(steps, err)
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("drift step %d: %v", i, err)
		}
	}
}

func checkRepaired(t *testing.T, w *world) {
	t.Helper()
	if m := w.member("amy"); m.Surname != "Lamy" {
		t.Errorf("amy's surname = %q, want it put back", m.Surname)
	}
	if m := w.member("ben"); m.GivenName != "Benedict" {
		t.Errorf("ben's app-owned first name was pushed back: %q", m.GivenName)
	}
	if u, err := w.st.GetUser(bg, "ben"); err != nil || u.FirstName != "Benedict" {
		t.Errorf("ben's first name was not imported: %+v %v", u, err)
	}
	if m := w.member("cat"); m.Status != "active" {
		t.Errorf("cat = %s, want active again", m.Status)
	}
	if m := w.member("dan"); m.Status != "active" {
		t.Errorf("dan = %s, want recovered", m.Status)
	}
	if m := w.member("eve"); m.RoleID != "" {
		t.Errorf("eve kept role %q", m.RoleID)
	}
	if m := w.emu.Team("acme").Snapshot().MemberByEmail("stranger@corp.example"); m == nil || m.Status == "removed" {
		t.Errorf("the unknown member was touched: %+v", m)
	}
}

func planOps(p engine.Preview) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Skipped == "" {
			out = append(out, c.User+":"+string(c.Op))
		}
	}
	sort.Strings(out)
	return out
}

func logCount(t *testing.T, w *world) int64 {
	es, err := w.st.ListLog(bg, audit.Filter{Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("log: %v", err)
	}
	return es[0].ID
}

// syncOps lists the successful app calls logged after entry id `after`.
func syncOps(t *testing.T, w *world, after int64) []string {
	es, err := w.st.ListLog(bg, audit.Filter{Actor: "engine", Outcome: audit.Success, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.ID > after && strings.HasPrefix(e.Action, "account.") {
			out = append(out, fmt.Sprintf("%s:%s", e.Target, strings.TrimPrefix(e.Action, "account.")))
		}
	}
	sort.Strings(out)
	return out
}

// A member removed for good (past its recovery window) is made anew, and
// one removed from the team entirely is forgotten and made anew too.
func TestFullReconciliationRecreatesLostMembers(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	w.user("gus", nil)
	w.assign("gus", "member")
	w.sync()
	old := w.member("gus").ID
	if err := w.otherAdmin().Remove(bg, old, connector.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	w.emu.Advance(8 * 24 * time.Hour) // past the 7-day recovery window
	res, err := w.e.Reconcile(bg, w.app, engine.SyncOptions{})
	if err != nil || res.Stats.Ops["account.create"] != 1 {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
	if m := w.member("gus"); m == nil || m.ID == old || m.Status != "invited" {
		t.Fatalf("gus = %+v", m)
	}
}

// A schedule set per app makes a full reconciliation due until one has run.
func TestFullSyncSchedule(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, nil)
	due := func() bool {
		a, _ := w.st.GetApp(bg, "dbx")
		ok, err := w.e.FullSyncDue(bg, a)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if due() {
		t.Fatal("due without a schedule")
	}
	w.setApp(func(s *app.Settings) { s.FullSync.Every = "24h" })
	if !due() {
		t.Fatal("not due though none has run")
	}
	a, _ := w.st.GetApp(bg, "dbx")
	if _, err := w.e.Reconcile(bg, a, engine.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if due() {
		t.Fatal("due again right after a full sync")
	}
}
