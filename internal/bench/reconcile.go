package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
)

// ReconcileResult is a full reconciliation of a team with drifted members.
type ReconcileResult struct {
	Members  int              `json:"members"`
	Drifted  int              `json:"drifted"`
	Seconds  float64          `json:"seconds"`
	Calls    int64            `json:"calls"`
	ByRoute  map[string]int64 `json:"calls_by_route"`
	Repaired int              `json:"repaired"`
}

// Reconcile pushes n users, changes the surname of `drifted` members in
// Dropbox directly, and times a full reconciliation that finds and repairs them.
func Reconcile(ctx context.Context, open Open, n, drifted int) (ReconcileResult, error) {
	r, err := NewRig(ctx, open, n, emu.Faults{}, 0)
	if err != nil {
		return ReconcileResult{}, err
	}
	defer r.Close()
	if _, _, err := r.Sync(ctx); err != nil {
		return ReconcileResult{}, err
	}
	if err := driftMembers(ctx, r, n, drifted); err != nil {
		return ReconcileResult{}, err
	}
	before := r.Emu.Team("bench").Stats()
	start := time.Now()
	res, err := r.E.Reconcile(ctx, r.App, engine.SyncOptions{})
	d := time.Since(start)
	if err != nil {
		return ReconcileResult{}, err
	}
	after := r.Emu.Team("bench").Stats()
	out := ReconcileResult{Members: res.Survey.Members, Drifted: len(res.Survey.Drifted), Seconds: d.Seconds(),
		Calls: after.Calls - before.Calls, ByRoute: map[string]int64{}, Repaired: res.Stats.Ops["account.update"]}
	for route, c := range after.Routes {
		if c -= before.Routes[route]; c > 0 {
			out.ByRoute[route] = c
		}
	}
	if out.Drifted != drifted || out.Repaired != drifted {
		return out, fmt.Errorf("found %d and repaired %d of %d drifted members", out.Drifted, out.Repaired, drifted)
	}
	return out, nil
}

func driftMembers(ctx context.Context, r *Rig, n, drifted int) error {
	c := dropbox.New(dropbox.Options{BaseURL: r.URL, Token: "tok"})
	snap := r.Emu.Team("bench").Snapshot()
	surname := "Drifted"
	for i := range drifted {
		m := snap.MemberByEmail(fmt.Sprintf("u%06d@corp.example", i*(n/drifted)))
		if m == nil {
			return fmt.Errorf("member %d was not pushed", i)
		}
		if _, err := c.SetProfile(ctx, m.ID, connector.ProfileChange{Surname: &surname}); err != nil {
			return err
		}
	}
	return nil
}
