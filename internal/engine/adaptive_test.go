package engine

import (
	"math"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/store"
)

// Against an app whose write limit it does not know (a token bucket of R
// calls a second, one second's burst), the adaptive rate reaches 0.9 R
// within 30 s and holds it with under 2 % of calls answered 429, on a
// simulated clock: these are the figures in behaviour terms.
func TestAdaptiveConverges(t *testing.T) {
	for _, tc := range []struct {
		r       float64
		latency time.Duration
	}{
		{5, 20 * time.Millisecond}, {50, 20 * time.Millisecond}, {500, 5 * time.Millisecond}, {500, 100 * time.Millisecond},
	} {
		clk := &fakeClock{t: time.Unix(1_000_000, 0)}
		a := newAdaptive(adaptiveConfig{}, clk.now)
		res := simApp{limits: []simLimit{{0, tc.r}}, latency: tc.latency}.run(a, clk, 150*time.Second)
		reach, held, share := res.reach(0, 0.9, tc.r), res.held(30, 150), res.share429(30, 150)
		t.Logf("R=%v latency %v: 0.9 R after %d s, held %.1f, %.2f %% answered 429", tc.r, tc.latency, reach, held, 100*share)
		if reach < 0 || reach > 30 {
			t.Errorf("R=%v: reached 0.9 R after %d s, want within 30 s", tc.r, reach)
		}
		if held < 0.9*tc.r {
			t.Errorf("R=%v: held %.1f calls a second, want at least %.1f", tc.r, held, 0.9*tc.r)
		}
		if share >= 0.02 {
			t.Errorf("R=%v: %.2f %% of calls answered 429 while holding, want under 2 %%", tc.r, 100*share)
		}
		if rate := res.rate[149]; rate > 1.6*tc.r || rate < 0.8*tc.r {
			t.Errorf("R=%v: the rate ended at %.1f, far from the limit", tc.r, rate)
		}
	}
}

// When the limit changes mid-run, the rate follows it within 30 s, down
// and up, and holds the new one.
func TestAdaptiveFollowsChanges(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to float64
	}{
		{"down", 50, 20}, {"up", 20, 100}, {"far up", 5, 500}, {"far down", 500, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_000_000, 0)}
			a := newAdaptive(adaptiveConfig{}, clk.now)
			res := simApp{limits: []simLimit{{0, tc.from}, {60 * time.Second, tc.to}}, latency: 20 * time.Millisecond}.run(a, clk, 150*time.Second)
			// Following down: the calls over the new limit stop (few 429s
			// from 30 s after the change); up: the calls reach 0.9 of it.
			if tc.to > tc.from {
				if s := res.reach(60, 0.9, tc.to); s < 0 || s > 30 {
					t.Errorf("reached 0.9 of the new limit after %d s, want within 30 s", s)
				}
			}
			if share := res.share429(90, 150); share >= 0.02 {
				t.Errorf("%.2f %% of calls answered 429 from 30 s after the change, want under 2 %%", 100*share)
			}
			if held := res.held(90, 150); held < 0.9*tc.to {
				t.Errorf("held %.1f calls a second after the change, want at least %.1f", held, 0.9*tc.to)
			}
		})
	}
}

// Each signal moves the rate the way it should, and the pace says why.
func TestAdaptiveSignals(t *testing.T) {
	type step struct {
		advance time.Duration
		do      func(a *adaptive)
	}
	waitOK := func(a *adaptive) { a.sent(); a.answered(10*time.Millisecond, 200) }
	busy := func(d time.Duration) []step { // calls that use the rate, every 50 ms
		var out []step
		for range int(d / (50 * time.Millisecond)) {
			out = append(out, step{50 * time.Millisecond, waitOK})
		}
		return out
	}
	join := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	pause := func(d time.Duration) []step { return []step{{0, func(a *adaptive) { a.Pause(d) }}} }
	for _, tc := range []struct {
		name   string
		cfg    adaptiveConfig
		steps  []step
		lo, hi float64 // the rate after the steps
		reason string
		saw429 bool
	}{
		{"starts low", adaptiveConfig{}, nil, 5, 5, PaceSlowStart, false},
		{"doubles each busy second", adaptiveConfig{}, busy(2 * time.Second), 17, 21, PaceSlowStart, false},
		{"does not grow while the calls use little of it", adaptiveConfig{},
			[]step{{3 * time.Second, func(a *adaptive) { a.answered(10*time.Millisecond, 200) }}}, 5, 5, PaceIdle, false},
		{"a 429's answer is no success", adaptiveConfig{},
			[]step{{time.Second, func(a *adaptive) { a.sent(); a.answered(10*time.Millisecond, 429) }}}, 5, 5, PaceSlowStart, false},
		{"a 5xx is no success", adaptiveConfig{},
			[]step{{time.Second, func(a *adaptive) { a.sent(); a.answered(10*time.Millisecond, 503) }}}, 5, 5, PaceSlowStart, false},
		{"the first 429 halves it", adaptiveConfig{}, join(busy(2*time.Second), pause(time.Second)), 8.5, 10.5, PaceBack429, true},
		{"429s within Retry-After are one", adaptiveConfig{},
			join(busy(2*time.Second), pause(2*time.Second), []step{{time.Second, func(a *adaptive) { a.Pause(2 * time.Second) }}}), 8.5, 10.5, PaceBack429, true},
		{"a 429 after Retry-After backs off again", adaptiveConfig{},
			join(busy(2*time.Second), pause(time.Second), busy(2*time.Second), pause(time.Second)), 10.5, 12.5, PaceBack429, true},
		{"a 429 long after the last keeps a share of the rate", adaptiveConfig{Max: 20},
			join(busy(3*time.Second), pause(time.Second), busy(30*time.Second), pause(time.Second)), 16.9, 17.1, PaceBack429, true},
		{"429s in quick succession: down to what the app let through", adaptiveConfig{},
			join(busy(2*time.Second), pause(time.Second), []step{{time.Second, waitOK}, {time.Second, waitOK}}, pause(time.Second)), 0.9, 1.1, PaceBack429, true},
		{"says it backed off while it climbs back, after a quiet second", adaptiveConfig{},
			join(busy(2*time.Second), pause(time.Second), []step{{time.Second, func(a *adaptive) { a.answered(10*time.Millisecond, 200) }}}, busy(2*time.Second)), 10, 16, PaceBack429, true},
		{"climbs back after a 429", adaptiveConfig{}, join(busy(2*time.Second), pause(time.Second), busy(12*time.Second)), 17, 22, PaceIncrease, true},
		{"backs off when answers slow down", adaptiveConfig{},
			join(busy(time.Second), []step{{100 * time.Millisecond, func(a *adaptive) {
				for range 20 {
					a.answered(2*time.Second, 200)
				}
			}}}), 8, 10, PaceLatency, false},
		{"stays at the cap", adaptiveConfig{Max: 12}, busy(5 * time.Second), 12, 12, PaceCapped, false},
		{"starts at the cap when it is low", adaptiveConfig{Max: 2}, nil, 2, 2, PaceSlowStart, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1_000_000, 0)}
			a := newAdaptive(tc.cfg, clk.now)
			for _, s := range tc.steps {
				clk.advance(s.advance)
				s.do(a)
			}
			p := a.Pace()
			if p.Rate < tc.lo || p.Rate > tc.hi || p.Rate != a.Rate() {
				t.Errorf("rate %.2f, want in [%v, %v]", p.Rate, tc.lo, tc.hi)
			}
			if p.Reason != tc.reason || !p.Auto {
				t.Errorf("pace %+v, want reason %q", p, tc.reason)
			}
			if !p.Last429.IsZero() != tc.saw429 {
				t.Errorf("last 429 %v, want one: %v", p.Last429, tc.saw429)
			}
		})
	}
}

// A new holder of the lane starts from the rate the fleet found, not from
// the slow start, and a lowered cap applies at once.
func TestAdaptiveResumesAndFollowsTheCap(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	last := clk.t.Add(-time.Minute)
	a := newAdaptive(adaptiveConfig{Max: 1000}, clk.now)
	a.resume(store.Pace{Auto: true, Rate: 240, Reason: PaceBack429, Last429: last})
	if p := a.Pace(); p.Rate != 240 || p.Last429 != last || p.Reason == PaceSlowStart {
		t.Fatalf("after resume: %+v", p)
	}
	a.resume(store.Pace{Auto: false, Rate: 7}) // a fixed rate's pace says nothing of the limit
	if r := a.Rate(); r != 240 {
		t.Fatalf("a fixed pace moved the rate to %v", r)
	}
	a.setMax(100)
	if p := a.Pace(); p.Rate != 100 || p.Reason != PaceCapped {
		t.Fatalf("after a lower cap: %+v", p)
	}
	// Busy for a minute at the cap: never above it.
	for range 600 {
		clk.advance(100 * time.Millisecond)
		a.sent()
		a.answered(time.Millisecond, 200)
		if r := a.Rate(); r > 100 || math.IsNaN(r) {
			t.Fatalf("rate %v over the cap", r)
		}
	}
}
