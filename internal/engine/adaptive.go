package engine

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/store"
)

// Why an adaptive rate is where it is (store.Pace.Reason).
const (
	PaceSlowStart = "slow start" // doubling each second until the app first answers 429
	PaceIncrease  = "increasing" // probing upwards again after a back-off
	PaceBack429   = "backed off after 429"
	PaceLatency   = "backed off: latency rising"
	PaceCapped    = "at the cap"           // budget.max_calls_per_second
	PaceIdle      = "holding: little work" // the rate is not what limits the calls
	PaceFixed     = "fixed"                // budget.calls_per_second=N
)

// statusTooManyRequests is HTTP's 429, named here so that the engine needs
// nothing of net/http.
const statusTooManyRequests = 429

// adaptiveConfig tunes the controller; the zero value takes the defaults.
type adaptiveConfig struct {
	Start float64 // first rate (default 5 calls a second)
	Floor float64 // lowest rate (default 0.5)
	Max   float64 // cap (default app.MaxCallsPerSecond)
	// Beta is the share of the rate kept after a 429 (default 0.85); the
	// first 429, which ends the slow start, keeps BetaStart (default 0.5)
	// of it, as the doubling may have overshot that much.
	Beta, BetaStart float64
	// Recover is how long after a back-off the rate takes to climb back
	// to where it was, slowly at the end (default 10 s); beyond it the
	// rate probes upwards, slowly at first, then faster.
	Recover time.Duration
	// LatencyFactor and LatencySlack: the app is slowing down when the
	// smoothed answer time exceeds Factor × the best seen lately plus
	// Slack (defaults 3 and 250 ms: a loaded machine's hiccups are not
	// the app's).
	LatencyFactor float64
	LatencySlack  time.Duration
}

func (c *adaptiveConfig) defaults() {
	setF := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	setF(&c.Start, 5)
	setF(&c.Floor, 0.5)
	setF(&c.Max, 10_000)
	setF(&c.Beta, 0.85)
	setF(&c.BetaStart, 0.5)
	setF(&c.LatencyFactor, 3)
	if c.Recover <= 0 {
		c.Recover = 10 * time.Second
	}
	if c.LatencySlack <= 0 {
		c.LatencySlack = 250 * time.Millisecond
	}
	c.Start = min(c.Start, c.Max)
}

// adaptive finds an app's call rate by trial, as TCP finds a path's
// bandwidth (RFC 8312's CUBIC, in calls a second): it doubles the rate each
// second until the app first answers 429, then after each 429 keeps a share
// of the rate and climbs back along a cubic curve, quickly at first and
// slowly near the rate that was refused, then probes beyond it, slowly at
// first. So it spends most of its time just under the app's limit, finds a
// raised limit in seconds and a lowered one at the next 429. A rise of the
// answer time is a milder signal of the same kind. It grows only while
// calls wait on it: a rate that does not limit the calls proves nothing.
// The clock is injected, so its logic is tested without sleeping.
type adaptive struct {
	cfg adaptiveConfig
	now func() time.Time

	mu        sync.Mutex
	rate      float64
	slowStart bool
	wmax      float64       // the rate refused at the last back-off
	epoch     time.Time     // when the last back-off was (moved on while idle)
	c         float64       // the curve's steepness since then
	k, lastK  time.Duration // the time the curve takes to climb back to wmax
	backWhy   string        // why the last back-off was
	lastGrow  time.Time
	secStart  time.Time // the second sentCur counts calls of
	sentCur   int
	sentPrev  int       // calls in the second before
	quiet     time.Time // 429s until then belong to the last back-off
	backedAt  time.Time // the last back-off after a 429
	okSince   int       // calls answered without 429 since then
	pace      store.Pace
	lat       float64 // smoothed answer time, seconds
	best      float64 // the shortest answer time seen lately, seconds
	bestAt    time.Time
}

func newAdaptive(cfg adaptiveConfig, now func() time.Time) *adaptive {
	cfg.defaults()
	t := now()
	a := &adaptive{cfg: cfg, now: now, rate: cfg.Start, slowStart: true, lastGrow: t, epoch: t, k: cfg.Recover, lastK: cfg.Recover}
	a.pace = store.Pace{Auto: true, Rate: a.rate, Reason: PaceSlowStart, Since: t}
	return a
}

// resume starts from a rate the fleet found before (another holder of the
// lane, or this one before a restart): past the slow start, probing from it.
func (a *adaptive) resume(p store.Pace) {
	if !p.Auto || p.Rate <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now()
	a.rate = math.Max(a.cfg.Floor, math.Min(p.Rate, a.cfg.Max))
	a.slowStart, a.wmax, a.lastGrow = false, a.rate, t
	a.startCurve(t) // at the plateau: probe upwards from here
	a.pace = store.Pace{Auto: true, Rate: a.rate, Reason: PaceIncrease, Since: t, Last429: p.Last429}
}

// setMax follows a changed cap.
func (a *adaptive) setMax(m float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg.Max = m
	if a.rate > m {
		a.rate = m
		a.setReason(PaceCapped, a.now())
	}
}

// Rate is the rate in force.
func (a *adaptive) Rate() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rate
}

// Pace reports the rate and why it is there.
func (a *adaptive) Pace() store.Pace {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pace
	p.Rate = a.rate
	return p
}

// sent tells that the rate let a call go.
func (a *adaptive) sent() {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now()
	if t.Sub(a.secStart) >= time.Second {
		a.sentPrev, a.sentCur = a.sentCur, 0
		if t.Sub(a.secStart) >= 2*time.Second {
			a.sentPrev = 0
		}
		a.secStart = t
	}
	a.sentCur++
}

// busy reports whether the rate is what limits the calls: they used at
// least half of it over the last second. Only then does their success say
// that the app could take more.
func (a *adaptive) busy(t time.Time) bool {
	el := t.Sub(a.secStart).Seconds()
	if el >= 2 {
		return false
	}
	n := float64(a.sentCur)
	if el < 1 {
		n += float64(a.sentPrev) * (1 - el)
	}
	return n >= 0.5*a.rate
}

// answered tells that a call the rate let go was answered after took with
// status; a 429 counts through Pause alone.
func (a *adaptive) answered(took time.Duration, status int) {
	if status == statusTooManyRequests {
		return // Pause tells those
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now()
	if a.slowLatency(t, took) && t.After(a.quiet) {
		a.backOff(t, 0.9, PaceLatency)
		return
	}
	if status >= 500 {
		return // not a success; the connector retries or gives up
	}
	a.okSince++
	a.grow(t)
}

// slowLatency keeps the smoothed and the best answer times and reports
// whether the app is slowing down.
func (a *adaptive) slowLatency(t time.Time, took time.Duration) bool {
	s := took.Seconds()
	if a.lat == 0 {
		a.lat = s
	}
	a.lat += (s - a.lat) / 8
	// The best lately: a minute old at most, so a slower network path
	// becomes the new normal rather than a lasting alarm.
	if a.best == 0 || s < a.best || t.Sub(a.bestAt) > time.Minute {
		a.best, a.bestAt = s, t
	}
	return a.lat > a.cfg.LatencyFactor*a.best+a.cfg.LatencySlack.Seconds()
}

// grow raises the rate for the time since the last success, if the rate
// limited the calls meanwhile; otherwise the probe waits for demand.
func (a *adaptive) grow(t time.Time) {
	dt := t.Sub(a.lastGrow)
	a.lastGrow = t
	if dt <= 0 {
		return
	}
	if !a.busy(t) {
		a.epoch = a.epoch.Add(dt) // hold the curve where it is
		if a.rate < a.cfg.Max {
			a.setReason(PaceIdle, t)
		}
		return
	}
	why := PaceSlowStart
	if a.slowStart {
		a.rate *= math.Exp2(dt.Seconds())
	} else {
		a.rate = math.Max(a.rate, a.cubic(t))
		why = a.backWhy // the back-off's, while the curve climbs back
		if t.Sub(a.epoch) > a.k/2 {
			why = PaceIncrease
		}
		// Half as much again as the refused rate without a 429: the
		// limit was raised, maybe far; find it as at the start.
		a.slowStart = a.rate > 1.5*a.wmax && a.rate < a.cfg.Max
	}
	if a.rate >= a.cfg.Max {
		a.rate, why = a.cfg.Max, PaceCapped
	}
	a.setReason(why, t)
}

// cubic is the rate s after the last back-off: W(s) = wmax·(1 + c·(s−K)³),
// K = k (Recover, up to twice that while the limit holds still), with c
// such that W(0) is the rate kept after the back-off and W(K) = wmax. Scaled by wmax, so it behaves alike at 5 and at 5,000
// calls a second.
func (a *adaptive) cubic(t time.Time) float64 {
	x := t.Sub(a.epoch).Seconds() - a.k.Seconds()
	c := a.c
	if x > 0 {
		// Beyond wmax, probe as fast as after a climb of Recover, however
		// long the climb dwelt: a raised limit is found as soon.
		r := a.k.Seconds() / a.cfg.Recover.Seconds()
		c *= r * r * r
	}
	return a.wmax * (1 + c*x*x*x)
}

// startCurve starts the cubic at the rate in force now. However close that
// is to wmax, the curve takes k to reach it, then probes beyond it no
// slower than after a back-off to half of wmax·(1−beta) below it.
func (a *adaptive) startCurve(t time.Time) {
	k := a.k.Seconds()
	a.epoch = t
	a.c = max(1-a.rate/a.wmax, (1-a.cfg.Beta)/2) / (k * k * k)
	if a.rate >= a.wmax {
		a.epoch = t.Add(-a.k) // at the plateau already
	}
}

// Pause tells that the app answered 429 and asked for a pause of d.
func (a *adaptive) Pause(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.now()
	a.pace.Last429 = t
	if t.Before(a.quiet) {
		return // a call that was on its way before the back-off
	}
	beta := a.cfg.Beta
	if a.slowStart {
		beta = a.cfg.BetaStart
	}
	kept := a.rate * beta
	a.backOff(t, beta, PaceBack429)
	// A 429 soon after the last one: the limit is below the rate, maybe
	// far (it was lowered). The app let through okSince calls since then,
	// pause included (the limit refilled meanwhile): that is the limit now.
	if since := t.Sub(a.backedAt); !a.backedAt.IsZero() && since >= time.Second && since < 2*a.cfg.Recover {
		if got := float64(a.okSince) / since.Seconds(); got < kept {
			a.rate = math.Max(a.cfg.Floor, got)
			a.wmax = a.rate / a.cfg.Beta
			a.startCurve(t)
		}
	}
	a.backedAt, a.okSince = t, 0
	// The calls on their way meanwhile tell nothing new: the pause holds
	// the callers, and the first calls after it see the new rate.
	a.quiet = t.Add(d + 500*time.Millisecond)
}

// backOff keeps beta of the rate and starts a new curve below the rate
// refused. When that is lower than the one refused before, the limit has
// fallen (or the probe is over it): the curve aims below it.
func (a *adaptive) backOff(t time.Time, beta float64, why string) {
	w := a.rate
	if !a.slowStart {
		w *= (1 + beta) / 2
	}
	// Refused again near the rate refused last time: the limit holds
	// still, so the next climb dwells longer near it (fewer 429s); a
	// limit that moved brings the climb back to Recover.
	a.k = a.cfg.Recover
	if prev := a.wmax; !a.slowStart && w > 0.9*prev && w < 1.1*prev {
		a.k = min(a.lastK*3/2, 2*a.cfg.Recover)
	}
	a.lastK = a.k
	a.wmax = w
	a.rate = math.Max(a.cfg.Floor, a.rate*beta)
	a.slowStart = false
	a.epoch, a.lastGrow = t, t
	a.startCurve(t)
	a.quiet = t.Add(time.Second)
	a.backWhy = why
	a.setReason(why, t)
}

func (a *adaptive) setReason(why string, t time.Time) {
	if a.pace.Reason != why {
		a.pace.Reason, a.pace.Since = why, t
	}
}

// LaneReader is the part of a fleet store that reads lanes.
type LaneReader interface {
	Lanes(ctx context.Context) ([]store.Lane, error)
}

// PaceOf reads an app's call rate and why, as the holder of its lane last
// saved it (every tick, 3 s by default), for any process of the fleet to
// show: the API, the dashboard. ok is false when no holder saved one yet.
func PaceOf(ctx context.Context, f LaneReader, appID int64) (p store.Pace, ok bool, err error) {
	lanes, err := f.Lanes(ctx)
	if err != nil {
		return store.Pace{}, false, err
	}
	for _, l := range lanes {
		if l.AppID == appID && !l.Pace.At.IsZero() {
			return l.Pace, true, nil
		}
	}
	return store.Pace{}, false, nil
}
