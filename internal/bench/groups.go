package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// GroupsResult is a group push: Groups directory groups of Size members each,
// drawn from Users provisioned users, pushed by one pattern rule.
type GroupsResult struct {
	Groups int `json:"groups"`
	Size   int `json:"members_per_group"`
	Users  int `json:"users"`
	// ProvisionSeconds is the user push before the groups; AssignSeconds
	// the sync that reconciles the members the push rule's assignments
	// queued (no call: they hold accounts). Neither is group push.
	ProvisionSeconds float64          `json:"provision_seconds"`
	AssignSeconds    float64          `json:"assign_seconds"`
	AssignCalls      int64            `json:"assign_calls"`
	Seconds          float64          `json:"push_seconds"`
	Calls            int64            `json:"push_calls"`
	Routes           map[string]int64 `json:"push_calls_per_route"`
	// The incremental step changes Changed groups by one added and one
	// removed member each.
	Changed     int     `json:"changed_groups"`
	IncSeconds  float64 `json:"incremental_seconds"`
	IncCalls    int64   `json:"incremental_calls"`
	PeakHeapMiB float64 `json:"peak_heap_mib"`
}

// Groups measures pushing groups × size memberships to a team of users.
func Groups(ctx context.Context, open Open, groups, size, users int) (GroupsResult, error) {
	res := GroupsResult{Groups: groups, Size: size, Users: users, Changed: min(100, groups)}
	if size > users || groups < 1 {
		return res, fmt.Errorf("need 1 or more groups and no more members per group (%d) than users (%d)", size, users)
	}
	r, err := NewRig(ctx, open, users, emu.Faults{}, 0)
	if err != nil {
		return res, err
	}
	defer r.Close()
	_, d, err := r.Sync(ctx)
	if err != nil {
		return res, err
	}
	res.ProvisionSeconds = d.Seconds()
	if err := r.seedGroups(ctx, groups, size, users); err != nil {
		return res, err
	}
	if _, res.AssignCalls, _, d, err = r.measuredSync(ctx); err != nil {
		return res, err
	}
	res.AssignSeconds = d.Seconds()
	if r.App, err = r.St.UpdateApp(ctx, "bench", r.App.Name, func(a *app.Instance) error { a.Settings.Features.PushGroups = true; return nil }); err != nil {
		return res, err
	}
	stop := HeapPeak()
	st, calls, routes, d, err := r.measuredSync(ctx)
	res.PeakHeapMiB = stop()
	if err != nil {
		return res, err
	}
	if st.Ops["app_group.create"] != groups || st.Ops["app_group.add_members"] != groups {
		return res, fmt.Errorf("pushed %d groups and filled %d of %d (%+v)", st.Ops["app_group.create"], st.Ops["app_group.add_members"], groups, st)
	}
	res.Seconds, res.Calls, res.Routes = d.Seconds(), calls, routes
	if err := r.changeGroups(ctx, res.Changed, groups, size, users); err != nil {
		return res, err
	}
	st, calls, _, d, err = r.measuredSync(ctx)
	if err != nil {
		return res, err
	}
	if st.Ops["app_group.add_members"] != res.Changed || st.Ops["app_group.remove_members"] != res.Changed {
		return res, fmt.Errorf("incremental: %+v", st.Ops)
	}
	res.IncSeconds, res.IncCalls = d.Seconds(), calls
	return res, nil
}

// seedGroups makes the groups (group i holds the size users from i×step on,
// wrapping) and pushes them all with one pattern rule, the feature still off.
func (r *Rig) seedGroups(ctx context.Context, groups, size, users int) error {
	step := max(1, users/groups)
	for i := range groups {
		name := groupName(i)
		if err := r.St.CreateGroup(ctx, "bench", &directory.Group{Name: name}); err != nil {
			return err
		}
		members := make([]string, size)
		for j := range size {
			members[j] = userName((i*step + j) % users)
		}
		if err := r.St.AddGroupMembers(ctx, "bench", name, members); err != nil {
			return err
		}
	}
	_, err := r.St.PushGroups(ctx, "bench", r.App.Name, &store.GroupPushRule{Pattern: "bench-*"})
	return err
}

// changeGroups adds the next user to, and removes the first member from, n
// groups spread over all of them.
func (r *Rig) changeGroups(ctx context.Context, n, groups, size, users int) error {
	step := max(1, users/groups)
	for i := range n {
		g := i * (groups / n)
		first := (g * step) % users
		if err := r.St.AddGroupMembers(ctx, "bench", groupName(g), []string{userName((first + size) % users)}); err != nil {
			return err
		}
		if err := r.St.RemoveGroupMembers(ctx, "bench", groupName(g), []string{userName(first)}); err != nil {
			return err
		}
	}
	return nil
}

// measuredSync runs a sync and counts the calls the team received.
func (r *Rig) measuredSync(ctx context.Context) (st engine.Stats, calls int64, routes map[string]int64, d time.Duration, err error) {
	before := r.Emu.Team("bench").Stats()
	st, d, err = r.Sync(ctx)
	after := r.Emu.Team("bench").Stats()
	routes = map[string]int64{}
	for k, v := range after.Routes {
		if dv := v - before.Routes[k]; dv > 0 {
			routes[k] = dv
		}
	}
	return st, after.Calls - before.Calls, routes, d, err
}

func groupName(i int) string { return fmt.Sprintf("bench-%04d", i) }

func userName(i int) string { return fmt.Sprintf("u%06d@corp.example", i) }
