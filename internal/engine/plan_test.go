package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func TestDerive(t *testing.T) {
	admin := directory.Role("team_admin")
	u := func(st directory.Status) *directory.User {
		return &directory.User{ID: 7, Email: "a@x.io", FirstName: "A/B", LastName: "C", Status: st}
	}
	cases := []struct {
		name string
		user *directory.User
		role *directory.Role
		want Want
	}{
		{"deleted", nil, &admin, WantGone},
		{"unassigned", u(directory.StatusActive), nil, WantGone},
		{"staged", u(directory.StatusStaged), &admin, WantNone},
		{"active", u(directory.StatusActive), &admin, WantActive},
		{"suspended", u(directory.StatusSuspended), &admin, WantSuspended},
		{"deprovisioned", u(directory.StatusDeprovisioned), &admin, WantGone},
	}
	for _, c := range cases {
		if got := Derive(c.user, c.role, dropbox.NormalizeName); got.Want != c.want {
			t.Errorf("%s: want %v, got %v", c.name, c.want, got.Want)
		}
	}
	d := Derive(u(directory.StatusActive), &admin, dropbox.NormalizeName)
	if d.GivenName != "AB" || d.ExtID != "roster:7" || d.Role != "team_admin" {
		t.Errorf("derived %+v", d)
	}
	long := &directory.User{ID: 1, Email: "l@x.io", FirstName: string(make([]rune, 0)) + "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", Status: directory.StatusActive}
	if n := len([]rune(Derive(long, &admin, dropbox.NormalizeName).GivenName)); n != 50 {
		t.Errorf("name not cut to 50 runes: %d", n)
	}
}

func settings(edit func(*app.Settings)) app.Settings {
	s := app.DefaultSettings()
	s.Provisioning = true
	if edit != nil {
		edit(&s)
	}
	return s
}

func ops(acts []Action) []string {
	var out []string
	for _, a := range acts {
		s := string(a.Op)
		if a.Skipped != "" {
			s += "(skipped)"
		}
		out = append(out, s)
	}
	return out
}

// TestPlanTransitions covers every desired state against every known state.
func TestPlanTransitions(t *testing.T) {
	want := Desired{Want: WantActive, Email: "a@x.io", GivenName: "A", Surname: "B", ExtID: "roster:1", Role: "member"}
	same := &Known{MemberID: "dbmid:1", Email: "A@x.io", GivenName: "A", Surname: "B", ExtID: "roster:1", Role: "member", Status: connector.StatusActive}
	with := func(edit func(*Known)) *Known { k := *same; edit(&k); return &k }
	suspendType := func(s *app.Settings) { s.Deactivation.Type = app.DeactivateSuspend }
	transfer := func(s *app.Settings) {
		s.Deactivation = app.Deactivation{Type: app.DeactivateRemove, WipeData: true, FileManagement: app.FilesTransfer, TransferDest: "d@x.io", TransferAdmin: "adm@x.io"}
	}
	cases := []struct {
		name  string
		d     Desired
		k     *Known
		s     app.Settings
		want  []string
		check func(*testing.T, []Action)
	}{
		{"create", want, nil, settings(nil), []string{"create"}, func(t *testing.T, a []Action) {
			if !a[0].Member.SendWelcomeEmail || a[0].Member.ExternalID != "roster:1" {
				t.Errorf("create %+v", a[0].Member)
			}
		}},
		{"create silently", want, nil, settings(func(s *app.Settings) { s.Silent = true }), []string{"create"}, func(t *testing.T, a []Action) {
			if a[0].Member.SendWelcomeEmail {
				t.Error("silent provisioning sent a welcome email")
			}
		}},
		{"create off", want, nil, settings(func(s *app.Settings) { s.Features.PushNewUsers = false }), []string{"create(skipped)"}, nil},
		{"in step", want, same, settings(nil), nil, nil},
		{"invited in step", want, with(func(k *Known) { k.Status = connector.StatusInvited }), settings(nil), nil, nil},
		{"profile drift", Desired{Want: WantActive, Email: "new@x.io", GivenName: "A", Surname: "Z", ExtID: "roster:1", Role: "member"}, same, settings(nil), []string{"update"}, func(t *testing.T, a []Action) {
			p := a[0].Profile
			if p.Email == nil || *p.Email != "new@x.io" || p.Surname == nil || p.GivenName != nil || p.ExternalID != nil {
				t.Errorf("only changed fields must be sent: %+v", p)
			}
		}},
		{"app-sourced names are not pushed", Desired{Want: WantActive, Email: "new@x.io", GivenName: "Q", Surname: "Z", ExtID: "roster:1", Role: "member"}, same,
			settings(func(s *app.Settings) { s.Import.AppSourced = []string{"first_name", "last_name"} }), []string{"update"}, func(t *testing.T, a []Action) {
				if p := a[0].Profile; p.GivenName != nil || p.Surname != nil || p.Email == nil {
					t.Errorf("pushed app-sourced attributes: %+v", a[0].Changes)
				}
			}},
		{"invited profile update", Desired{Want: WantActive, Email: "a@x.io", GivenName: "Q", Surname: "B", ExtID: "roster:1", Role: "member"}, with(func(k *Known) { k.Status = connector.StatusInvited }), settings(nil), []string{"update"}, nil},
		{"profile updates off", Desired{Want: WantActive, Email: "n@x.io", ExtID: "roster:1", Role: "team_admin"}, same, settings(func(s *app.Settings) { s.Features.PushProfileUpdates = false }), nil, nil},
		{"promote", Desired{Want: WantActive, Email: "a@x.io", GivenName: "A", Surname: "B", ExtID: "roster:1", Role: "support_admin"}, same, settings(nil), []string{"set_role"}, nil},
		{"demote", want, with(func(k *Known) { k.Role = "team_admin" }), settings(nil), []string{"set_role"}, func(t *testing.T, a []Action) {
			if a[0].Role != "member" {
				t.Errorf("demote to %s", a[0].Role)
			}
		}},
		{"reactivate suspended", want, with(func(k *Known) { k.Status = connector.StatusSuspended }), settings(nil), []string{"unsuspend"}, nil},
		{"reactivate off", want, with(func(k *Known) { k.Status = connector.StatusSuspended }), settings(func(s *app.Settings) { s.Features.ReactivateUsers = false }), []string{"unsuspend(skipped)"}, nil},
		{"reactivate removed: new account", want, with(func(k *Known) { k.Status = connector.StatusRemoved }), settings(nil), []string{"create"}, nil},
		{"reactivate removed and recoverable: recover", want, with(func(k *Known) { k.Status, k.Recoverable = connector.StatusRemoved, true }), settings(nil), []string{"recover"}, nil},
		{"recoverable but reactivation off: skipped", want, with(func(k *Known) { k.Status, k.Recoverable = connector.StatusRemoved, true }),
			settings(func(s *app.Settings) { s.Features.ReactivateUsers = false }), []string{"recover(skipped)"}, nil},
		{"directory suspend", Desired{Want: WantSuspended}, same, settings(nil), []string{"suspend"}, func(t *testing.T, a []Action) {
			if a[0].Wipe {
				t.Error("a temporary suspension must not wipe devices")
			}
		}},
		{"directory suspend of invited", Desired{Want: WantSuspended}, with(func(k *Known) { k.Status = connector.StatusInvited }), settings(nil), nil, nil},
		{"already suspended", Desired{Want: WantSuspended}, with(func(k *Known) { k.Status = connector.StatusSuspended }), settings(nil), nil, nil},
		{"gone: remove and wipe (default)", Desired{Want: WantGone}, same, settings(nil), []string{"remove"}, func(t *testing.T, a []Action) {
			if !a[0].Remove.WipeData || a[0].Remove.TransferDestEmail != "" {
				t.Errorf("remove %+v", a[0].Remove)
			}
		}},
		{"gone: remove with transfer", Desired{Want: WantGone}, same, settings(transfer), []string{"remove"}, func(t *testing.T, a []Action) {
			if a[0].Remove.TransferDestEmail != "d@x.io" || a[0].Remove.TransferAdminEmail != "adm@x.io" {
				t.Errorf("remove %+v", a[0].Remove)
			}
		}},
		{"gone: invited is removed, no transfer", Desired{Want: WantGone}, with(func(k *Known) { k.Status = connector.StatusInvited }), settings(transfer), []string{"remove"}, func(t *testing.T, a []Action) {
			if a[0].Remove.TransferDestEmail != "" {
				t.Error("an invited member has no files to transfer")
			}
		}},
		{"gone: suspend type", Desired{Want: WantGone}, same, settings(suspendType), []string{"suspend"}, func(t *testing.T, a []Action) {
			if !a[0].Wipe {
				t.Error("wipe setting not applied")
			}
		}},
		{"gone: suspend type, invited withdrawn", Desired{Want: WantGone}, with(func(k *Known) { k.Status = connector.StatusInvited }), settings(suspendType), []string{"remove"}, nil},
		{"gone: suspend type, already suspended", Desired{Want: WantGone}, with(func(k *Known) { k.Status = connector.StatusSuspended }), settings(suspendType), nil, nil},
		{"gone: deactivation off", Desired{Want: WantGone}, same, settings(func(s *app.Settings) { s.Features.PushDeactivation = false }), []string{"remove(skipped)"}, nil},
		{"gone: removed past its window: forgotten", Desired{Want: WantGone}, with(func(k *Known) { k.Status = connector.StatusRemoved }), settings(nil), []string{"forget"}, nil},
		{"gone: removed and recoverable: kept", Desired{Want: WantGone}, with(func(k *Known) { k.Status, k.Recoverable = connector.StatusRemoved, true }), settings(nil), nil, nil},
		{"gone: never had one", Desired{Want: WantGone}, nil, settings(nil), nil, nil},
		{"staged: nothing", Desired{Want: WantNone}, nil, settings(nil), nil, nil},
		{"staged with account: left alone", Desired{Want: WantNone}, same, settings(nil), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Plan(c.d, c.k, c.s)
			if !reflect.DeepEqual(ops(got), c.want) {
				t.Fatalf("ops = %v, want %v", ops(got), c.want)
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

// A recorded removal is recoverable while Dropbox's window and Roster's
// margin last, counted from when Roster removed the member.
func TestKnownRecoverableLapses(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	removed := func(ago time.Duration, recoverable bool) store.Account {
		return store.Account{MemberID: "dbmid:1", Status: "removed", Recoverable: recoverable, RemovedAt: now.Add(-ago)}
	}
	cases := []struct {
		name string
		acct store.Account
		want bool
	}{
		{"just removed", removed(time.Minute, true), true},
		{"six days ago", removed(6*24*time.Hour, true), true},
		{"seven days ago, within the margin", removed(7*24*time.Hour, true), true},
		{"past the window and the margin", removed(7*24*time.Hour+time.Hour, false), false},
		{"past the window and the margin, recorded recoverable", removed(7*24*time.Hour+time.Hour, true), false},
		{"files transferred", removed(time.Minute, false), false},
		{"not removed", store.Account{MemberID: "dbmid:1", Status: "active", Recoverable: true, RemovedAt: now}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := knownAt(c.acct, now)
			if k.Recoverable != c.want {
				t.Fatalf("recoverable = %v, want %v", k.Recoverable, c.want)
			}
			if k.Status == connector.StatusRemoved && !k.RemovedAt.Equal(c.acct.RemovedAt) {
				t.Fatalf("removed at %v, want %v", k.RemovedAt, c.acct.RemovedAt)
			}
		})
	}
}
