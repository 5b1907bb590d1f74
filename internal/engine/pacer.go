package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// Pacer spaces one app instance's calls: a token bucket at the configured rate,
// and a shared pause when the app answers 429, so every worker of the app
// holds back instead of each finding the limit on its own.
type Pacer struct {
	lim *rate.Limiter // nil: no set rate

	mu          sync.Mutex
	pausedUntil time.Time
	limited     rateLimited // the 429s seen, for RateState
}

// NewPacer returns a pacer for perSecond calls a second; 0 means no set rate,
// only the pauses the app asks for.
func NewPacer(perSecond float64) *Pacer {
	p := &Pacer{}
	if perSecond > 0 {
		p.lim = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10)))
	}
	return p
}

// Wait blocks until a call may go or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error { return p.wait(ctx, nil) }

// wait lets a call go once the pause is over, the token bucket and then gate
// (if any) have let it pass, and no pause began meanwhile: a caller that was
// waiting its turn when the app answered 429 holds back too. Its token is
// spent by then, and it waits for a new one after the pause, because the
// callers released at the pause's end must not exceed the rate.
func (p *Pacer) wait(ctx context.Context, gate func(context.Context) error) error {
	for {
		if err := p.sleepPause(ctx); err != nil {
			return err
		}
		if p.lim != nil {
			if err := p.lim.Wait(ctx); err != nil {
				return err
			}
		}
		if gate != nil {
			if err := gate(ctx); err != nil {
				return err
			}
		}
		if p.pausedFor() <= 0 {
			return nil
		}
	}
}

// sleepPause waits out the pause, also when it is extended meanwhile.
func (p *Pacer) sleepPause(ctx context.Context) error {
	for {
		d := p.pausedFor()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// pausedFor is how long the pause has still to run.
func (p *Pacer) pausedFor() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Until(p.pausedUntil)
}

// Pause holds every caller back for d (the app's Retry-After).
func (p *Pacer) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limited.record(time.Now())
	if until := time.Now().Add(d); until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
}

// budgetHeadroom is the share of an app's budget a lane paces itself to: calls
// leave evenly spaced, but network delays can bunch their arrival, and the
// budget is a promise about arrivals. At 0.9 a loaded 2-core machine was
// seen to deliver 26 calls in one second against a budget of 25.
const budgetHeadroom = 0.8

// errLaneLost stops a call whose worker no longer holds the app's lane: the
// next holder may be spending the budget already.
var errLaneLost = errors.New("this worker no longer holds the app's lane")

// budgetPacer holds one app instance's calls to its fleet-wide budget. Only
// the lane holder calls the app, so this one limiter spends the whole budget.
// It has no burst: calls are spaced evenly, so no second can exceed the budget.
type budgetPacer struct {
	connector.Pacer // the engine's pacer: pauses after 429
	lim             *budgetLimiter
	held            func() bool // whether the lane is still this worker's
}

// budgetLimiter spaces calls evenly at an app's budget: a fixed one less the
// headroom, or the rate an adaptive controller finds (no headroom: it finds
// the limit of arrivals itself).
type budgetLimiter struct {
	lim *rate.Limiter

	mu    sync.Mutex
	fixed float64   // the fixed budget; 0 when auto
	since time.Time // when the fixed budget was set
	auto  *adaptive // nil when fixed
	now   func() time.Time
}

func newBudget(b app.Budget) *budgetLimiter {
	l := &budgetLimiter{lim: rate.NewLimiter(1, 1), now: time.Now}
	l.set(b)
	return l
}

// set follows a changed budget setting: a new fixed rate, auto with a new
// cap, or a switch between the two (auto starts afresh).
func (b *budgetLimiter) set(bu app.Budget) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !bu.Auto():
		if b.fixed != bu.CallsPerSecond {
			b.since = b.now()
		}
		b.fixed, b.auto = bu.CallsPerSecond, nil
	case b.auto == nil:
		b.fixed, b.auto = 0, newAdaptive(adaptiveConfig{Max: bu.PerSecond()}, b.now)
	default:
		b.auto.setMax(bu.PerSecond())
	}
	b.sync()
}

// sync sets the limiter to the rate in force; b.mu is held.
func (b *budgetLimiter) sync() {
	r := rate.Limit(b.fixed * budgetHeadroom)
	if b.auto != nil {
		r = rate.Limit(b.auto.Rate())
	}
	if r != b.lim.Limit() {
		b.lim.SetLimit(r)
	}
}

func (b *budgetLimiter) adaptive() *adaptive {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.auto
}

// Limit is the rate in force, calls a second.
func (b *budgetLimiter) Limit() rate.Limit {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sync()
	return b.lim.Limit()
}

// Wait lets a call go at the rate in force.
func (b *budgetLimiter) Wait(ctx context.Context) error {
	a := b.adaptive()
	if a != nil {
		b.mu.Lock()
		b.sync()
		b.mu.Unlock()
	}
	if err := b.lim.Wait(ctx); err != nil {
		return err
	}
	if a != nil {
		a.sent()
	}
	return nil
}

// resume starts an auto rate from the pace the fleet saved with the lane.
func (b *budgetLimiter) resume(p store.Pace) {
	if a := b.adaptive(); a != nil {
		a.resume(p)
		b.mu.Lock()
		b.sync()
		b.mu.Unlock()
	}
}

// paused tells an auto rate that the app answered 429.
func (b *budgetLimiter) paused(d time.Duration) {
	if a := b.adaptive(); a != nil {
		a.Pause(d)
	}
}

// answered tells an auto rate how a call it let go was answered.
func (b *budgetLimiter) answered(took time.Duration, status int) {
	if a := b.adaptive(); a != nil {
		a.answered(took, status)
	}
}

// Pace says where the rate stands and why.
func (b *budgetLimiter) Pace() store.Pace {
	if a := b.adaptive(); a != nil {
		return a.Pace()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return store.Pace{Rate: b.fixed, Reason: PaceFixed, Since: b.since}
}

// Wait passes a call when the app's pause has ended, the budget allows it
// and the lane is still held. The budget is waited on inside the engine's
// pacer, so that a pause that begins meanwhile still holds the call.
func (p budgetPacer) Wait(ctx context.Context) error {
	if ep, ok := p.Pacer.(*Pacer); ok {
		return ep.wait(ctx, p.budget)
	}
	// Another pacer cannot tell whether it is paused: its pause comes first.
	if err := p.Pacer.Wait(ctx); err != nil {
		return err
	}
	return p.budget(ctx)
}

// Pause holds every caller back for d and tells the budget, which backs
// off if it is auto.
func (p budgetPacer) Pause(d time.Duration) {
	p.lim.paused(d)
	p.Pacer.Pause(d)
}

// Answered implements connector.AnswerObserver: an auto budget learns from
// each answer.
func (p budgetPacer) Answered(took time.Duration, status int) { p.lim.answered(took, status) }

// budget waits for the lane's budget, as long as the lane is this worker's.
func (p budgetPacer) budget(ctx context.Context) error {
	if !p.held() {
		return errLaneLost
	}
	if err := p.lim.Wait(ctx); err != nil {
		return err
	}
	if !p.held() {
		return errLaneLost
	}
	return nil
}

// AppPacer paces one app instance's calls at its budget (fixed or auto) on
// its own, outside a fleet's lanes: for benchmarks and tools that call an
// app directly. It is a connector.Pacer and a connector.AnswerObserver.
type AppPacer struct{ budgetPacer }

// NewAppPacer returns a pacer for budget b.
func NewAppPacer(b app.Budget) *AppPacer {
	return &AppPacer{budgetPacer{Pacer: NewPacer(0), lim: newBudget(b), held: func() bool { return true }}}
}

// Pace says where the rate stands and why.
func (p *AppPacer) Pace() store.Pace { return p.lim.Pace() }
