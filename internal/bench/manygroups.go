package bench

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// ManyGroupsResult is the sync after assigning many groups to an app whose
// users already hold accounts: no call is due, so its time is the store's
// and the engine's alone.
type ManyGroupsResult struct {
	Users   int     `json:"users"`
	Groups  int     `json:"assigned_groups"`
	Size    int     `json:"members_per_group"`
	Queued  int     `json:"users_queued"`
	Seconds float64 `json:"sync_seconds"`
	// CPUSeconds is the CPU this process spent in the sync: on SQLite all of
	// the store's work and the engine's (no call is due), so on a loaded
	// machine a truer figure of its cost than the wall time.
	CPUSeconds float64 `json:"sync_cpu_seconds"`
	Calls      int64   `json:"calls"`
}

// ManyGroups provisions users (all assigned through one group), then makes
// groups groups of size members each (group i holds the size users from
// i×users/groups on, wrapping), assigns every one of them to the app, and
// times the sync that follows: each user is queued once and sits in
// groups×size/users assigned groups of the app's groups+1.
func ManyGroups(ctx context.Context, open Open, users, groups, size int) (ManyGroupsResult, error) {
	res := ManyGroupsResult{Users: users, Groups: groups, Size: size}
	r, err := NewRig(ctx, open, users, emu.Faults{}, 0)
	if err != nil {
		return res, err
	}
	defer r.Close()
	if _, _, err := r.Sync(ctx); err != nil {
		return res, err
	}
	step := max(1, users/groups)
	for i := range groups {
		name := fmt.Sprintf("many-%04d", i)
		if err := r.St.CreateGroup(ctx, "bench", &directory.Group{Name: name}); err != nil {
			return res, err
		}
		members := make([]string, size)
		for j := range size {
			members[j] = userName((i*step + j) % users)
		}
		if err := r.St.AddGroupMembers(ctx, "bench", name, members); err != nil {
			return res, err
		}
		if err := r.St.Assign(ctx, "bench", &directory.Assignment{AppName: r.App.Name, GroupName: name}); err != nil {
			return res, err
		}
	}
	before := r.Emu.Team("bench").Stats().Calls
	stopProfile := cpuProfile()
	cpu := processCPU()
	st, d, err := r.Sync(ctx)
	res.CPUSeconds = processCPU() - cpu
	stopProfile()
	if err != nil {
		return res, err
	}
	res.Seconds, res.Calls = d.Seconds(), r.Emu.Team("bench").Stats().Calls-before
	res.Queued = st.Items
	if res.Calls != 0 {
		return res, fmt.Errorf("the sync after the assignments made %d calls, want 0 (%+v)", res.Calls, st)
	}
	return res, nil
}

// processCPU is the user and system CPU time this process has used, in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
