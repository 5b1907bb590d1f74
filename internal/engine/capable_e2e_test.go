package engine_test

import (
	"context"
	"io"
	"log/slog"
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
	"github.com/roster-dev/roster/internal/store/storetest"
)

// coreOnly is a connector with the core methods only: no roles, no suspend,
// no recover, no group push.
type coreOnly struct{ connector.Connector }

type quiet struct{}

func (quiet) Call(string, time.Duration, error) {}
func (quiet) RateLimited(time.Duration)         {}
func (quiet) Failed(string, error)              {}

// A connector that lacks a capability gets no call for it: the engine plans
// the change Skipped with the reason, even through Instrument's wrapper.
func TestMissingCapabilityIsSkipped(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
				c := dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond})
				return connector.Instrument(coreOnly{c}, quiet{}), nil
			}
			w.e = engine.New(w.st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)),
				engine.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
			if _, err := w.emu.Team("acme").Seed([]emu.SeedMember{{Email: "ann@corp.example", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			w.user("ann", nil)
			w.assign("ann", "member")
			w.sync() // links the active member
			w.assign("ann", "team_admin")
			w.sync()
			w.status("ann", directory.StatusSuspended)
			w.sync()
			if m := w.member("ann"); m == nil || m.Status != "active" || m.RoleID != "" {
				t.Fatalf("the app was asked anyway: %+v", m)
			}
			logs, err := w.st.ListLog(bg, audit.Filter{Target: "ann", App: "dbx", Outcome: audit.Skipped})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, l := range logs {
				msgs = append(msgs, l.Message)
			}
			all := strings.Join(msgs, "\n")
			for _, want := range []string{"the app's connector cannot set roles", "the app's connector cannot suspend"} {
				if !strings.Contains(all, want) {
					t.Errorf("no skip %q in %q", want, all)
				}
			}
		})
	}
}

// A plan shown without connecting says the same, from what the app's kind
// declares: a role change for a kind without roles is Skipped with the reason.
func TestPlanShowsMissingCapability(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			if _, err := w.emu.Team("acme").Seed([]emu.SeedMember{{Email: "ann@corp.example", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			w.user("ann", nil)
			w.assign("ann", "member")
			w.sync()
			w.assign("ann", "team_admin")
			connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
				return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
			}
			e := engine.New(w.st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)),
				engine.Config{Kinds: connector.NewRegistry(connector.Spec{Kind: w.app.Kind})})
			p, err := e.Plan(bg, w.app, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) != 1 || p.Changes[0].Op != engine.OpSetRole || p.Changes[0].Skipped != "the app's connector cannot set roles" {
				t.Fatalf("plan = %+v", p.Changes)
			}
		})
	}
}
