package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// PushResult is the initial push of n users.
type PushResult struct {
	Users       int     `json:"users"`
	Seconds     float64 `json:"seconds"`
	UsersPerSec float64 `json:"users_per_sec"`
	PeakHeapMiB float64 `json:"peak_heap_mib"`
	CeilingPS   float64 `json:"emulator_ceiling_per_sec"`
	Ratio       float64 `json:"ceiling_ratio"` // ceiling / Roster: 1 is as fast as the emulator allows
	Calls       int64   `json:"calls"`
}

// PushOptions change how the initial push is measured.
type PushOptions struct {
	// EmulatorExe, when set, is a roster binary whose `emulate dropbox`
	// serves the push (and the ceiling) from a process of its own, so that
	// the peak heap is Roster's alone: the emulator keeps every member it
	// made, about as much again as Roster's own peak at 1,000,000 users.
	EmulatorExe string
}

// Push measures an initial push of n users, and the emulator's ceiling in the same run.
func Push(ctx context.Context, open Open, n int) (PushResult, error) {
	return PushWith(ctx, open, n, PushOptions{})
}

// PushWith is Push with options.
func PushWith(ctx context.Context, open Open, n int, o PushOptions) (PushResult, error) {
	if o.EmulatorExe != "" {
		return pushOutOfProcess(ctx, open, n, o.EmulatorExe)
	}
	ceiling, err := BestCeiling(ctx, n)
	if err != nil {
		return PushResult{}, err
	}
	r, err := NewRig(ctx, open, n, emu.Faults{}, 0)
	if err != nil {
		return PushResult{}, err
	}
	defer r.Close()
	return r.measurePush(ctx, n, ceiling, func() int64 { return r.Emu.Team("bench").Stats().Calls })
}

// measurePush times the rig's initial push of n users.
func (r *Rig) measurePush(ctx context.Context, n int, ceiling float64, calls func() int64) (PushResult, error) {
	before := calls() // an emulator process has answered the probe that it is up
	stop := HeapPeak()
	stopProfile := cpuProfile()
	st, d, err := r.Sync(ctx)
	stopProfile()
	peak := stop()
	if err != nil {
		return PushResult{}, err
	}
	if st.Ops["account.create"] != n {
		return PushResult{}, fmt.Errorf("pushed %d of %d users (%+v)", st.Ops["account.create"], n, st)
	}
	res := PushResult{Users: n, Seconds: d.Seconds(), UsersPerSec: float64(n) / d.Seconds(), PeakHeapMiB: peak,
		CeilingPS: ceiling, Calls: calls() - before}
	res.Ratio = ceiling / res.UsersPerSec
	return res, nil
}

// IncrementalResult compares changing the same number of users in apps of different sizes.
type IncrementalResult struct {
	Changes int               `json:"changes"`
	Rounds  int               `json:"rounds"`
	Seconds map[int]float64   `json:"seconds_by_app_size"` // median of the rounds
	Each    map[int][]float64 `json:"seconds_each_round"`
	Calls   map[int]int64     `json:"calls_by_app_size"` // per round
}

// IncrementalRounds is how many times each size is measured; the median is
// reported, so that one round that meets a garbage collection or a
// checkpoint of the database log does not stand for all.
const IncrementalRounds = 5

// Incremental pushes each size, then, IncrementalRounds times, changes
// `changes` users spread over each app and times the sync that follows. The
// apps take turns round by round, so that on a shared machine each size
// meets the same load rather than one size the quiet minute and the other
// the busy one.
func Incremental(ctx context.Context, open Open, sizes []int, changes int) (IncrementalResult, error) {
	res := IncrementalResult{Changes: changes, Rounds: IncrementalRounds, Seconds: map[int]float64{}, Each: map[int][]float64{}, Calls: map[int]int64{}}
	rigs := make([]*Rig, 0, len(sizes))
	defer func() {
		for _, r := range rigs {
			r.Close()
		}
	}()
	for _, n := range sizes {
		r, err := NewRig(ctx, open, n, emu.Faults{}, 0)
		if err != nil {
			return res, err
		}
		rigs = append(rigs, r)
		if _, _, err := r.Sync(ctx); err != nil {
			return res, err
		}
	}
	stopProfile := cpuProfile() // the rounds, all sizes
	defer stopProfile()
	for round := range IncrementalRounds {
		for i, n := range sizes {
			d, calls, err := rigs[i].changeAndSync(ctx, n, changes, round)
			if err != nil {
				return res, err
			}
			res.Each[n] = append(res.Each[n], d.Seconds())
			res.Calls[n] = max(res.Calls[n], calls)
		}
	}
	for _, n := range sizes {
		res.Seconds[n] = median(res.Each[n])
	}
	return res, nil
}

// changeAndSync changes the surname of `changes` users spread over the app
// and times the sync that pushes the change.
func (r *Rig) changeAndSync(ctx context.Context, n, changes, round int) (time.Duration, int64, error) {
	for i := range changes {
		name := fmt.Sprintf("u%06d@corp.example", i*(n/changes))
		if _, err := r.St.UpdateUser(ctx, "bench", name, "user.update", func(u *directory.User) error { u.LastName = fmt.Sprint("Changed", round); return nil }); err != nil {
			return 0, 0, err
		}
	}
	before := r.Emu.Team("bench").Stats().Calls
	st, d, err := r.Sync(ctx)
	if err != nil {
		return 0, 0, err
	}
	if st.Ops["account.update"] != changes {
		return 0, 0, fmt.Errorf("app of %d: %d updates, want %d", n, st.Ops["account.update"], changes)
	}
	return d, r.Emu.Team("bench").Stats().Calls - before, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// RateResult is a push against a team with a write budget.
type RateResult struct {
	Rate        float64 `json:"limit_per_sec"`
	Achieved    float64 `json:"achieved_writes_per_sec"`
	Share       float64 `json:"achieved_share_of_limit"`
	Calls       int64   `json:"calls"`
	Got429      int64   `json:"answered_429"`
	Share429    float64 `json:"share_429"`
	Seconds     float64 `json:"seconds"`
	MaxObserved int     `json:"max_calls_in_one_second"`
}

// RateLimited pushes enough users for `seconds` of add_v2 calls (20 members
// each) to a team limited to rate writes per second, with Roster's per-app
// pacing set to the same rate, and reports the write rate achieved and the
// share of calls refused with 429.
func RateLimited(ctx context.Context, open Open, rate float64, seconds int) (RateResult, error) {
	n := int(rate) * seconds * 20 // 20 members per add_v2 call: seconds×rate calls
	r, err := NewRig(ctx, open, n, emu.Faults{WritesPerSec: rate}, rate)
	if err != nil {
		return RateResult{}, err
	}
	defer r.Close()
	_, d, err := r.Sync(ctx)
	if err != nil {
		return RateResult{}, err
	}
	ss := r.Emu.Team("bench").Stats()
	writes := float64(ss.Calls - ss.Got429)
	res := RateResult{Rate: rate, Achieved: writes / d.Seconds(), Calls: ss.Calls, Got429: ss.Got429, Seconds: d.Seconds(), MaxObserved: ss.MaxRate}
	res.Share = res.Achieved / rate
	res.Share429 = float64(ss.Got429) / float64(ss.Calls)
	return res, nil
}
