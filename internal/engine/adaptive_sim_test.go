package engine

import (
	"math"
	"time"
)

// fakeClock is a settable clock for the controller's tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// simApp models an app with a write limit unknown to its client: a token
// bucket of rate R (changed on schedule) holding R tokens (one second's
// burst), answering a call over it with 429 and Retry-After of the time to
// the next token rounded up to whole seconds, at least one, as the emulator
// and Dropbox do. Answers take latency.
type simApp struct {
	limits  []simLimit // R from each time on, in order
	latency time.Duration
}

type simLimit struct {
	from time.Duration
	r    float64
}

// simResult is what a user of the figures wants to know.
type simResult struct {
	calls, limited int
	// no[i] counts the calls answered 429 in second i.
	no []int
	// ok[i] counts the calls answered without 429 in second i.
	ok []int
	// rate[i] is the controller's rate at the end of second i.
	rate []float64
}

func (s simApp) limitAt(at time.Duration) float64 {
	r := s.limits[0].r
	for _, l := range s.limits {
		if at >= l.from {
			r = l.r
		}
	}
	return r
}

// run drives a with calls as fast as it lets them go (there is always
// work) for d, and counts what the app answered.
func (s simApp) run(a *adaptive, clk *fakeClock, d time.Duration) simResult {
	start := clk.t
	res := simResult{ok: make([]int, int(d/time.Second)+1), no: make([]int, int(d/time.Second)+1), rate: make([]float64, int(d/time.Second)+1)}
	tokens, last := s.limits[0].r, time.Duration(0)
	var paused time.Duration
	type answer struct {
		at    time.Duration
		after time.Duration // Retry-After; 0: answered 200
	}
	var inflight []answer
	next := time.Duration(0)
	for next < d {
		// Answers due before the next call arrive first.
		for len(inflight) > 0 && inflight[0].at <= next {
			an := inflight[0]
			inflight = inflight[1:]
			clk.t = start.Add(an.at)
			if an.after > 0 {
				a.Pause(an.after)
				paused = max(paused, an.at+an.after)
			} else {
				a.answered(s.latency, 200)
			}
			res.rate[int(an.at/time.Second)] = a.Rate()
		}
		if next < paused {
			next = paused
			continue
		}
		clk.t = start.Add(next)
		a.sent()
		r := s.limitAt(next)
		tokens = math.Min(r, tokens+r*(next-last).Seconds())
		last = next
		res.calls++
		if tokens >= 1 {
			tokens--
			res.ok[int(next/time.Second)]++
			inflight = append(inflight, answer{at: next + s.latency})
		} else {
			res.limited++
			res.no[int(next/time.Second)]++
			wait := time.Duration((1 - tokens) / r * float64(time.Second))
			after := max(time.Second, time.Duration(math.Ceil(wait.Seconds()))*time.Second)
			inflight = append(inflight, answer{at: next + s.latency, after: after})
		}
		next += time.Duration(float64(time.Second) / a.Rate())
	}
	for i := range res.rate {
		if i > 0 && res.rate[i] == 0 {
			res.rate[i] = res.rate[i-1]
		}
	}
	return res
}

// reach is the first second from which the calls answered without 429 over
// the next five seconds average at least share×r, counting from second from.
func (r simResult) reach(from int, share, limit float64) int {
	for i := from; i+5 <= len(r.ok); i++ {
		n := 0
		for _, x := range r.ok[i : i+5] {
			n += x
		}
		if float64(n)/5 >= share*limit {
			return i - from
		}
	}
	return -1
}

// held is the average of calls answered without 429 a second over [from, to).
func (r simResult) held(from, to int) float64 {
	n := 0
	for _, x := range r.ok[from:to] {
		n += x
	}
	return float64(n) / float64(to-from)
}

// share429 is the share of calls answered 429 over [from, to).
func (r simResult) share429(from, to int) float64 {
	ok, no := 0, 0
	for i := from; i < to; i++ {
		ok, no = ok+r.ok[i], no+r.no[i]
	}
	return float64(no) / float64(max(1, ok+no))
}
