package engine

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer spaces one app instance's calls: a token bucket at the configured rate,
// and a shared pause when the app answers 429, so every worker of the app
// holds back instead of each finding the limit on its own.
type Pacer struct {
	lim *rate.Limiter // nil: no set rate

	mu          sync.Mutex
	pausedUntil time.Time
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
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	until := p.pausedUntil
	p.mu.Unlock()
	if d := time.Until(until); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if p.lim == nil {
		return nil
	}
	return p.lim.Wait(ctx)
}

// Pause holds every caller back for d (the app's Retry-After).
func (p *Pacer) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
}
