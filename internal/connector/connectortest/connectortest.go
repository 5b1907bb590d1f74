// Package connectortest is the conformance suite every connector passes: the
// behaviour the engine relies on, whatever the app. A connector's test calls
// Run with a factory that gives each case a fresh app (an emulated team, a
// fake SCIM server, …); cases for a capability the kind does not declare are
// skipped, and a capability declared but not implemented fails.
package connectortest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
)

// App is one fresh app instance and the connector that talks to it.
type App struct {
	Conn connector.Connector
	// Spec is the kind's registration: the suite reads its capabilities and roles.
	Spec connector.Spec
	// MissingID is a member id of the app's form that names no member.
	MissingID string
	// PageSize is the most members one ListMembers page holds; 0: unknown,
	// and the suite does not check that listing spans pages.
	PageSize int

	// The hooks below reach the app behind the connector's back. Each is
	// optional; a case that needs a missing one is skipped.

	// Seed adds members directly (faster than AddMembers), current and able
	// to sign in.
	Seed func(ms []connector.NewMember) error
	// Activate makes invited members active, as if they had accepted.
	Activate func(emails ...string) error
	// Throttle makes the app refuse every later call with 429; the
	// connector must answer RateLimited rather than wait long.
	Throttle func()
	// NoLicences leaves the app no licence for another member.
	NoLicences func() error
	// GiveFiles gives a member files; Files lists them, so a transfer can be observed.
	GiveFiles func(email string, names ...string) error
	Files     func(email string) []string
}

// Factory makes a fresh App for one case; it registers its own cleanup on t.
type Factory func(t *testing.T) App

type testCase struct {
	name string
	need []connector.Capability
	run  func(t *testing.T, a *suite)
}

var cases = []testCase{
	{"TeamInfo", nil, testTeamInfo},
	{"Create", nil, testCreate},
	{"CreateExistingIsConflictThenLink", nil, testCreateExisting},
	{"CreateWithoutLicence", nil, testNoLicence},
	{"Read", nil, testRead},
	{"Profile", nil, testProfile},
	{"Roles", []connector.Capability{connector.CapRoles}, testRoles},
	{"SuspendUnsuspend", []connector.Capability{connector.CapSuspend}, testSuspend},
	{"Remove", nil, testRemove},
	{"RemoveWipe", []connector.Capability{connector.CapWipe}, testRemoveWipe},
	{"RemoveTransfer", []connector.Capability{connector.CapTransfer}, testRemoveTransfer},
	{"Recover", []connector.Capability{connector.CapRecover}, testRecover},
	{"WelcomeEmail", []connector.Capability{connector.CapWelcomeEmail}, testWelcome},
	{"ListPaging", nil, testList},
	{"GroupPush", []connector.Capability{connector.CapGroupPush}, testGroups},
	{"RateLimited", nil, testRateLimited},
}

// Run runs every case against fresh apps from newApp, in parallel.
func Run(t *testing.T, newApp Factory) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t)
			for _, c := range tc.need {
				if !has(a.Spec, c) {
					t.Skipf("kind %s does not declare %s", a.Spec.Kind, c)
				}
			}
			tc.run(t, &suite{App: a, t: t})
		})
	}
}

func has(s connector.Spec, c connector.Capability) bool {
	for _, x := range s.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// suite is one case's app with the helpers its checks share.
type suite struct {
	App
	t *testing.T
}

// capable returns the connector as T, failing the case when the kind
// declares the capability but its connector does not implement it.
func capable[T any](a *suite) T {
	a.t.Helper()
	x, ok := connector.Capable[T](a.Conn)
	if !ok {
		var zero T
		a.t.Fatalf("kind %s declares the capability but its connector is no %T", a.Spec.Kind, &zero)
	}
	return x
}

func (a *suite) must(err error) {
	a.t.Helper()
	if err != nil {
		a.t.Fatal(err)
	}
}

// wantKind checks err's kind and, when reason is set, that errors.Is(err, reason).
func (a *suite) wantKind(what string, err error, kind connector.Kind, reason error) {
	a.t.Helper()
	if err == nil {
		a.t.Fatalf("%s: no error, want %v", what, kind)
	}
	if k := connector.KindOf(err); k != kind {
		a.t.Errorf("%s: %v is %v, want %v", what, err, k, kind)
	}
	if reason != nil && !errors.Is(err, reason) {
		a.t.Errorf("%s: %v is not %q", what, err, reason)
	}
}

// member makes a distinct new member for this case.
func member(i int) connector.NewMember {
	return connector.NewMember{Email: fmt.Sprintf("ct%04d@example.com", i), GivenName: "Case",
		Surname: fmt.Sprintf("Member%d", i), ExternalID: fmt.Sprintf("ct-ext-%d", i)}
}

// add creates members through the connector and returns them; with active,
// invited ones are activated (when the app can be told so).
func (a *suite) add(active bool, ms ...connector.NewMember) []connector.Member {
	a.t.Helper()
	res, err := a.Conn.AddMembers(a.t.Context(), ms)
	a.must(err)
	out := make([]connector.Member, len(res))
	for i, r := range res {
		if r.Err != nil {
			a.t.Fatalf("add %s: %v", ms[i].Email, r.Err)
		}
		out[i] = r.Member
	}
	if active {
		a.activate(out)
	}
	return out
}

func (a *suite) activate(ms []connector.Member) {
	a.t.Helper()
	var emails []string
	for _, m := range ms {
		if m.Status == connector.StatusInvited {
			emails = append(emails, m.Email)
		}
	}
	if len(emails) == 0 {
		return
	}
	if a.Activate == nil {
		a.t.Skip("members are created invited and the app has no Activate hook")
	}
	a.must(a.Activate(emails...))
	for i := range ms {
		ms[i] = a.get(connector.Selector{ID: ms[i].ID})
	}
}

// get reads one member that must exist.
func (a *suite) get(sel connector.Selector) connector.Member {
	a.t.Helper()
	got, err := a.Conn.GetMembers(a.t.Context(), []connector.Selector{sel})
	a.must(err)
	if len(got) != 1 || got[0] == nil {
		a.t.Fatalf("no member for %+v", sel)
	}
	return *got[0]
}

// status reads a member's status, removed ones included.
func (a *suite) status(id string) connector.MemberStatus {
	a.t.Helper()
	var st connector.MemberStatus
	a.must(a.Conn.ListMembers(a.t.Context(), true, func(ms []connector.Member) error {
		for _, m := range ms {
			if m.ID == id {
				st = m.Status
			}
		}
		return nil
	}))
	return st
}

func sameEmail(a, b string) bool { return strings.EqualFold(a, b) }
