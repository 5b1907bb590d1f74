package importer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

var bg = context.Background()

// world is a store, an emulated Dropbox team with an app on it, the engine
// and the importer, wired as roster serve wires them.
type world struct {
	t    *testing.T
	st   *sqlstore.DB
	emu  *emu.Server
	conn connector.Connector
	e    *engine.Engine
	im   *importer.Importer
}

func newWorld(t *testing.T, open func(testing.TB) *sqlstore.DB, edit func(*app.Settings)) *world {
	t.Helper()
	s, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
	st := open(t)
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	if edit != nil {
		edit(&a.Settings)
	}
	if err := st.CreateApp(bg, "t", &a); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn, _ := connect(bg, a, engine.NewPacer(0))
	return &world{t: t, st: st, emu: s, conn: conn,
		e:  engine.New(st, connect, log, engine.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		im: importer.New(st, connect, log)}
}

func (w *world) app() app.Instance {
	w.t.Helper()
	a, err := w.st.GetApp(bg, "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (w *world) seed(ms ...emu.SeedMember) {
	w.t.Helper()
	if _, err := w.emu.Team("acme").Seed(ms); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) user(username, email, first, last string) directory.User {
	w.t.Helper()
	u := directory.User{Username: username, Email: email, FirstName: first, LastName: last}
	if err := w.st.CreateUser(bg, "t", &u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

func (w *world) run(opt importer.Options) importer.Result {
	w.t.Helper()
	res, err := w.im.Run(bg, w.app(), opt)
	if err != nil {
		w.t.Fatalf("import: %v", err)
	}
	return res
}

func (w *world) appUser(ref string) store.AppUser {
	w.t.Helper()
	au, err := w.st.GetAppUser(bg, w.app().ID, ref)
	if err != nil {
		w.t.Fatalf("app user %s: %v", ref, err)
	}
	return au
}

// sync runs the engine over everything queued.
func (w *world) sync() engine.Stats {
	w.t.Helper()
	st, err := w.e.Sync(bg, w.app(), engine.SyncOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// quiet asserts Dropbox was never asked to create or email anyone.
func (w *world) quiet() {
	w.t.Helper()
	calls := w.emu.Calls()
	for route, n := range calls {
		if strings.Contains(route, "members/add") || strings.Contains(route, "send_welcome_email") {
			w.t.Errorf("%s called %d times", route, n)
		}
	}
	if n := len(w.emu.Team("acme").Snapshot().Welcome); n != 0 {
		w.t.Errorf("%d welcome emails sent", n)
	}
}

func problemOf(res importer.Result, email string) string {
	for _, p := range res.Problems {
		if p.Email == email {
			return p.Reason
		}
	}
	return ""
}

// TestImportMatchReviewConfirm: every kind of member is listed with its
// match; confirming links or creates without any call that creates or emails.
func TestImportMatchReviewConfirm(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.AutoConfirmExact = true })
			ann := w.user("ann", "ann@corp.example", "Ann", "Lee")
			bob := w.user("bob", "bob@corp.example", "Bob", "Stone")
			w.user("it", "it@corp.example", "I", "T")
			w.seed(
				emu.SeedMember{Email: "ANN@corp.example", GivenName: "Ann", Surname: "Lee", Status: "active"},
				emu.SeedMember{Email: "robert@home.example", GivenName: "bob", Surname: "STONE"}, // invited
				emu.SeedMember{Email: "nia@corp.example", GivenName: "Nia", Surname: "New", Status: "suspended", Role: "Support admin"},
				emu.SeedMember{Email: "mono@corp.example", GivenName: "Mono", Status: "active"},
				emu.SeedMember{Email: "gone@corp.example", GivenName: "Gone", Surname: "Away", Status: "removed"},
			)
			res := w.run(importer.Options{})
			want := importer.Result{App: "dbx", Members: 5, Exact: 2, Partial: 1, Unmatched: 2, Confirmed: 2}
			got := res
			got.Problems = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("result %+v, want %+v", got, want)
			}
			if why := problemOf(res, "mono@corp.example"); !strings.Contains(why, "no last name") {
				t.Errorf("member without a last name: %q", why)
			}
			if _, err := w.st.GetAppUser(bg, w.app().ID, "gone@corp.example"); !errors.Is(err, directory.ErrNotFound) {
				t.Errorf("a removed member was imported: %v", err)
			}
			cases := []struct {
				ref, state, match string
				user              int64
			}{
				{"ann@corp.example", store.AppUserConfirmed, importer.MatchExact, ann.ID},
				{"robert@home.example", store.AppUserMatched, importer.MatchPartial, bob.ID},
				{"nia@corp.example", store.AppUserUnmatched, importer.MatchNone, 0},
				{"mono@corp.example", store.AppUserUnmatched, importer.MatchNone, 0},
			}
			for _, c := range cases {
				au := w.appUser(c.ref)
				if au.State != c.state || au.Match != c.match || au.UserID != c.user {
					t.Errorf("%s: %+v, want %s/%s/%d", c.ref, au, c.state, c.match, c.user)
				}
			}
			if au := w.appUser("robert@home.example"); au.Status != "invited" {
				t.Errorf("invited member listed as %q", au.Status)
			}

			// A bad confirmation changes nothing, then a good one links and creates.
			a := w.app()
			if _, err := w.im.Confirm(bg, "t", a, []string{"robert@home.example", "mono@corp.example"}); !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), "no last name") {
				t.Fatalf("confirm with a nameless member: %v", err)
			}
			if au := w.appUser("robert@home.example"); au.State != store.AppUserMatched {
				t.Fatalf("a refused confirmation changed robert: %+v", au)
			}
			rv, err := w.im.Confirm(bg, "t", a, []string{"robert@home.example", "nia@corp.example", "ann@corp.example"})
			if err != nil || rv != (importer.Reviewed{Linked: 1, Created: 1, Already: 1}) {
				t.Fatalf("confirm: %+v, %v", rv, err)
			}
			nia, err := w.st.GetUser(bg, "nia@corp.example")
			if err != nil || nia.Status != directory.StatusStaged || nia.LastName != "New" {
				t.Fatalf("new user from nia: %+v, %v", nia, err)
			}
			as, _ := w.st.ListAssignments(bg, store.AssignmentFilter{App: "dbx", User: "nia@corp.example"})
			if len(as) != 1 || as[0].Role != "support_admin" {
				t.Fatalf("nia's assignment: %+v", as)
			}

			// The engine now knows every confirmed account: it creates and emails nobody.
			accts, _ := w.st.Accounts(bg, a.ID, []int64{ann.ID, bob.ID, nia.ID})
			if len(accts) != 3 || accts[bob.ID].Status != "invited" {
				t.Fatalf("known accounts: %+v", accts)
			}
			w.sync()
			w.quiet()
			if m := w.emu.Team("acme").Snapshot().MemberByEmail("ann@corp.example"); m.ExternalID != engine.ExternalID(ann.ID) {
				t.Errorf("the directory's own attribute (external id) was not pushed: %+v", m)
			}
			if n := len(w.emu.Team("acme").Snapshot().Members); n != 6 { // five seeded and the admin
				t.Errorf("team has %d members, want 6", n)
			}
		})
	}
}

// TestImportReevaluatesEveryUnconfirmed: a member with no directory twin is
// matched and auto-confirmed by the next import once the twin exists; an
// ignored one is matched but stays ignored.
func TestImportReevaluatesEveryUnconfirmed(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.AutoConfirmExact = true })
			w.seed(emu.SeedMember{Email: "late@corp.example", GivenName: "La", Surname: "Te", Status: "active"},
				emu.SeedMember{Email: "skip@corp.example", GivenName: "Sk", Surname: "Ip", Status: "active"})
			if res := w.run(importer.Options{}); res.Unmatched != 3 || res.Confirmed != 0 {
				t.Fatalf("first import: %+v", res)
			}
			if _, err := w.im.Ignore(bg, "t", w.app(), []string{"skip@corp.example"}); err != nil {
				t.Fatal(err)
			}
			late := w.user("late", "late@corp.example", "La", "Te")
			w.user("skip", "skip@corp.example", "Sk", "Ip")
			res := w.run(importer.Options{})
			if res.Exact != 2 || res.Confirmed != 1 || res.Ignored != 1 {
				t.Fatalf("second import: %+v", res)
			}
			if au := w.appUser("late@corp.example"); au.State != store.AppUserConfirmed || au.UserID != late.ID {
				t.Fatalf("late: %+v", au)
			}
			if au := w.appUser("skip@corp.example"); au.State != store.AppUserIgnored || au.Match != importer.MatchExact {
				t.Fatalf("skip: %+v", au)
			}
			if _, err := w.im.Ignore(bg, "t", w.app(), []string{"late@corp.example"}); !errors.Is(err, directory.ErrConflict) {
				t.Fatalf("ignoring a confirmed member: %v", err)
			}
			// An admin may still confirm an ignored member.
			if rv, err := w.im.Confirm(bg, "t", w.app(), []string{"skip@corp.example"}); err != nil || rv.Linked != 1 {
				t.Fatalf("confirm ignored: %+v %v", rv, err)
			}
		})
	}
}

// TestImportNewUsersAutoConfirmed: with auto-confirm and auto-activate, new
// members become active directory users (a suspended one suspended) linked
// to their members, and the engine leaves them be.
func TestImportNewUsersAutoConfirmed(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, func(s *app.Settings) {
		s.Import.AutoConfirmNew, s.Import.AutoActivateNew = true, true
	})
	w.seed(emu.SeedMember{Email: "new@corp.example", GivenName: "Ne", Surname: "W"},
		emu.SeedMember{Email: "sus@corp.example", GivenName: "Su", Surname: "S", Status: "suspended"},
		emu.SeedMember{Email: "anon@corp.example", Status: "active"})
	res := w.run(importer.Options{})
	if res.Created != 3 || res.Unmatched != 4 { // the team admin too
		t.Fatalf("import: %+v", res)
	}
	if why := problemOf(res, "anon@corp.example"); !strings.Contains(why, "no first name and no last name") {
		t.Errorf("anon: %q", why)
	}
	for name, want := range map[string]directory.Status{"new@corp.example": directory.StatusActive, "sus@corp.example": directory.StatusSuspended} {
		u, err := w.st.GetUser(bg, name)
		if err != nil || u.Status != want {
			t.Errorf("%s: %+v %v, want %s", name, u.Status, err, want)
		}
		if au := w.appUser(name); au.State != store.AppUserConfirmed || au.UserID != u.ID {
			t.Errorf("%s app user: %+v", name, au)
		}
	}
	w.sync()
	w.quiet()
	if m := w.emu.Team("acme").Snapshot().MemberByEmail("sus@corp.example"); m.Status != "suspended" {
		t.Errorf("suspended member changed: %s", m.Status)
	}
	if res := w.run(importer.Options{}); res.Linked != 3 || res.Created != 0 {
		t.Errorf("a second import re-created users: %+v", res)
	}
}

// TestImportProfileSourcing: names sourced from Dropbox flow into the
// directory and the log on import, and the push leaves them alone.
func TestImportProfileSourcing(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.AppSourced = []string{"first_name", "last_name"} })
			w.user("ann", "ann@corp.example", "Ann", "Lee")
			if err := w.st.Assign(bg, "t", &directory.Assignment{AppName: "dbx", Username: "ann", Role: "member"}); err != nil {
				t.Fatal(err)
			}
			w.sync()
			m := w.emu.Team("acme").Snapshot().MemberByEmail("ann@corp.example")
			given, sur := "Annie", "Lee-Park"
			if _, err := w.conn.SetProfile(bg, m.ID, connector.ProfileChange{GivenName: &given, Surname: &sur}); err != nil {
				t.Fatal(err)
			}
			if res := w.run(importer.Options{}); res.ProfileUpdates != 1 || res.Linked != 1 {
				t.Fatalf("import: %+v", res)
			}
			u, _ := w.st.GetUser(bg, "ann")
			if u.FirstName != "Annie" || u.LastName != "Lee-Park" {
				t.Fatalf("directory profile: %+v", u)
			}
			logs, _ := w.st.ListLog(bg, audit.Filter{Action: "import.profile", Target: "ann"})
			if len(logs) != 1 || logs[0].Actor != string(importer.Actor) {
				t.Fatalf("profile import log: %+v", logs)
			}
			// The directory changes something it owns: only that is pushed.
			if _, err := w.st.UpdateUser(bg, "t", "ann", "user.update", func(u *directory.User) error { u.FirstName = "Directory"; return nil }); err != nil {
				t.Fatal(err)
			}
			w.emu.ResetCalls()
			w.sync()
			if m := w.emu.Team("acme").Snapshot().MemberByEmail("ann@corp.example"); m.GivenName != "Annie" || m.Surname != "Lee-Park" {
				t.Errorf("the push overwrote app-sourced names: %+v", m)
			}
			if n := w.emu.Calls()["team/members/set_profile_v2"]; n != 0 {
				t.Errorf("set_profile called %d times for app-sourced attributes", n)
			}
			if res := w.run(importer.Options{}); res.ProfileUpdates != 1 {
				t.Errorf("the import did not restore the app's value: %+v", res)
			}
		})
	}
}

// TestImportSafeguard: an import that would take more than 20% of the linked
// members out stops, changes nothing, and proceeds when allowed.
func TestImportSafeguard(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.AutoConfirmExact = true })
			var seeds []emu.SeedMember
			for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
				w.user(n, n+"@corp.example", "F"+n, "L"+n)
				seeds = append(seeds, emu.SeedMember{Email: n + "@corp.example", GivenName: "F" + n, Surname: "L" + n, Status: "active"})
			}
			w.seed(seeds...)
			if res := w.run(importer.Options{}); res.Confirmed != 10 {
				t.Fatalf("first import: %+v", res)
			}
			for _, n := range []string{"a", "b", "c"} {
				m := w.emu.Team("acme").Snapshot().MemberByEmail(n + "@corp.example")
				if err := w.conn.Remove(bg, m.ID, connector.RemoveOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			plan := w.run(importer.Options{Plan: true})
			if plan.Vanished != 3 || !strings.Contains(plan.Safeguard, "3 of 10") {
				t.Fatalf("plan: %+v", plan)
			}
			_, err := w.im.Run(bg, w.app(), importer.Options{})
			var g *importer.SafeguardError
			if !errors.As(err, &g) || g.Vanished != 3 || g.Linked != 10 || !strings.Contains(err.Error(), "--allow-vanished") {
				t.Fatalf("safeguard: %v", err)
			}
			if n, _ := w.st.CountAccounts(bg, w.app().ID); n != 10 {
				t.Fatalf("a stopped import changed accounts: %d left", n)
			}
			if logs, _ := w.st.ListLog(bg, audit.Filter{Action: "import.run", Outcome: audit.Failure}); len(logs) != 1 {
				t.Fatalf("stopped import not logged: %+v", logs)
			}
			if res := w.run(importer.Options{AllowVanished: true}); res.Vanished != 3 {
				t.Fatalf("allowed import: %+v", res)
			}
			if n, _ := w.st.CountAccounts(bg, w.app().ID); n != 7 {
				t.Fatalf("accounts after allowed import: %d", n)
			}
		})
	}
}

// TestMigration (MISSION F11): a new app instance on a team already full of
// members imports with exact match and auto-confirm: every member is linked,
// none is created, no email is sent, and the push that follows only sets
// the attributes the directory owns.
func TestMigration(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, func(s *app.Settings) { s.Import.MatchOn, s.Import.AutoConfirmExact = "email", true })
			statuses := []string{"active", "invited", "suspended", "active"}
			roles := []string{"", "", "", "User management admin"}
			const n = 240
			seeds := make([]emu.SeedMember, n)
			users := []directory.User{{Username: "it", Email: "it@corp.example", FirstName: "I", LastName: "T"}}
			for i := range seeds {
				email := fmt.Sprintf("p%03d@corp.example", i)
				seeds[i] = emu.SeedMember{Email: email, GivenName: "P", Surname: fmt.Sprint(i), Status: statuses[i%4], Role: roles[i%4]}
				u := directory.User{Username: fmt.Sprintf("person%03d", i), Email: strings.ToUpper(email), FirstName: "P", LastName: fmt.Sprint(i)}
				if statuses[i%4] == "suspended" { // the directory agrees, or the push would unsuspend
					u.Status = directory.StatusSuspended
				}
				users = append(users, u)
			}
			w.seed(seeds...)
			if err := w.st.CreateUsers(bg, "t", users); err != nil {
				t.Fatal(err)
			}
			res := w.run(importer.Options{})
			if res.Members != n+1 || res.Confirmed != n+1 || res.Created != 0 || res.Unmatched != 0 || len(res.Problems) != 0 || len(res.Notes) != 0 {
				t.Fatalf("migration import: %+v", res)
			}
			a := w.app()
			if c, _ := w.st.CountAccounts(bg, a.ID); c != n+1 {
				t.Fatalf("linked accounts = %d, want %d", c, n+1)
			}
			as, _ := w.st.ListAssignments(bg, store.AssignmentFilter{App: "dbx", User: "person003"})
			if len(as) != 1 || as[0].Role != "user_management_admin" {
				t.Fatalf("role carried over: %+v", as)
			}
			st := w.sync()
			w.quiet()
			sn := w.emu.Team("acme").Snapshot()
			if len(sn.Members) != n+1 {
				t.Fatalf("team has %d members after the push, want %d", len(sn.Members), n+1)
			}
			for _, m := range sn.Members {
				if m.Email == "it@corp.example" {
					continue
				}
				// Suspended users are left as they are; the others get Roster's external id.
				want := statuses[mustAtoi(t, m.Surname)%4]
				if m.Status != want || (want != "suspended" && !strings.HasPrefix(m.ExternalID, "roster:")) {
					t.Fatalf("member after migration: %+v", m)
				}
			}
			if st.Ops["account.create"] != 0 || st.Ops["account.suspend"] != 0 || st.Ops["account.unsuspend"] != 0 || st.Ops["account.remove"] != 0 {
				t.Fatalf("engine ops: %+v", st.Ops)
			}
			// A suspended member whose directory user is active is pointed out
			// before anything is pushed.
			w.seed(emu.SeedMember{Email: "held@corp.example", GivenName: "He", Surname: "Ld", Status: "suspended"})
			w.user("held", "held@corp.example", "He", "Ld")
			if res := w.run(importer.Options{Plan: true}); len(res.Notes) != 1 || !strings.Contains(res.Notes[0].Reason, "unsuspend") {
				t.Fatalf("notes: %+v", res.Notes)
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusing is a store whose confirmations conflict, as when an admin links
// the same user while an import runs.
type refusing struct{ *sqlstore.DB }

func (r refusing) SaveAndConfirmImport(ctx context.Context, by store.Actor, appID int64, users *store.AppUserList, confirm []int) error {
	if len(confirm) > 0 {
		return fmt.Errorf("%w: refused for the test", directory.ErrConflict)
	}
	return r.DB.SaveAndConfirmImport(ctx, by, appID, users, confirm)
}

// TestImportConfirmRefusedSavesUnconfirmed: when the confirmation is refused,
// the import still stores its app users, unconfirmed, and reports the error.
func TestImportConfirmRefusedSavesUnconfirmed(t *testing.T) {
	w := newWorld(t, storetest.OpenSQLite, func(s *app.Settings) {
		s.Import.AutoConfirmExact, s.Import.AutoConfirmNew = true, true
	})
	ann := w.user("ann", "ann@corp.example", "Ann", "A")
	w.seed(emu.SeedMember{Email: "ann@corp.example", GivenName: "Ann", Surname: "A"},
		emu.SeedMember{Email: "new@corp.example", GivenName: "Ne", Surname: "W"})
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p}), nil
	}
	im := importer.New(refusing{w.st}, connect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := im.Run(bg, w.app(), importer.Options{}); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("import: %v, want the conflict", err)
	}
	if au := w.appUser("ann@corp.example"); au.State != store.AppUserMatched || au.UserID != ann.ID {
		t.Errorf("ann: %+v", au)
	}
	if au := w.appUser("new@corp.example"); au.State != store.AppUserUnmatched || au.UserID != 0 {
		t.Errorf("new: %+v", au)
	}
	if c, _ := w.st.CountAccounts(bg, w.app().ID); c != 0 {
		t.Errorf("accounts = %d, want none", c)
	}
}
