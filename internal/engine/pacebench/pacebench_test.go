package pacebench

import (
	"context"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
)

// Against the real emulator limiting writes to 20 a second, through the
// real connector: the auto rate settles near the limit with few 429s, and
// a fixed budget of 20 (paced at 80 %) meets none. Bounds are generous and
// nothing is asserted about time: only counts and the pacer's rate.
func TestAutoFindsTheEmulatorsLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 25 s against the emulator")
	}
	const limit = 20
	for _, tc := range []struct {
		name   string
		budget app.Budget
	}{
		{"auto", app.Budget{}},
		{"fixed", app.Budget{CallsPerSecond: limit}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Run(context.Background(), Config{Phases: []Phase{{Limit: limit, For: 25 * time.Second}}, Budget: tc.budget, Callers: 8})
			if err != nil {
				t.Fatal(err)
			}
			secs := res.Seconds
			late := secs[len(secs)/2:] // once settled
			ok, no := sum(late)
			var first, lateRates float64
			for _, s := range secs[:len(secs)/2] {
				first += float64(s.Limited)
			}
			for _, s := range late {
				lateRates += s.Rate
			}
			meanRate := lateRates / float64(len(late))
			t.Logf("%s: second half %d ok, %d answered 429 (%.1f %%), mean rate %.1f; first half %v answered 429", tc.name, ok, no, 100*share(ok, no), meanRate, first)
			if tc.name == "fixed" {
				if no+int64(first) != 0 {
					t.Errorf("a fixed budget at the limit met %d 429s, want none", no+int64(first))
				}
				return
			}
			// Retry-After is obeyed: only calls already on their way when a
			// 429 came (at most one per caller and 429) arrive inside it.
			if limited := no + int64(first); res.InRetryAfter > 8*limited {
				t.Errorf("%d calls arrived inside a Retry-After, after %d 429s to 8 callers", res.InRetryAfter, limited)
			}
			// Settled: few 429s, and the rate near the limit, not stuck low or far above.
			if s := share(ok, no); s > 0.05 {
				t.Errorf("%.1f %% of writes answered 429 once settled, want a few at most", 100*s)
			}
			if meanRate < 0.7*limit || meanRate > 1.6*limit {
				t.Errorf("mean rate once settled %.1f, want near %d", meanRate, limit)
			}
			if float64(ok) < 0.7*limit*float64(len(late)) {
				t.Errorf("%d writes went through in %d s, want most of the limit's %d", ok, len(late), limit*len(late))
			}
		})
	}
}
