package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/roster-dev/roster/internal/connector"
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

// budgetLimiter spaces calls evenly at an app's budget, less the headroom.
type budgetLimiter struct{ *rate.Limiter }

func newBudget(perSecond float64) *budgetLimiter {
	return &budgetLimiter{rate.NewLimiter(rate.Limit(perSecond*budgetHeadroom), 1)}
}

// set follows a changed budget setting.
func (b *budgetLimiter) set(perSecond float64) {
	if r := rate.Limit(perSecond * budgetHeadroom); r != b.Limit() {
		b.SetLimit(r)
	}
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
