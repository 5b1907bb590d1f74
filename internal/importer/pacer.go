package importer

import (
	"context"
	"sync"
	"time"
)

// pauses paces an import's reads: no set rate, only the pauses the app asks
// for (Retry-After), as the engine's pacer does at rate 0. The importer has
// its own so that it needs nothing of the engine.
type pauses struct {
	mu    sync.Mutex
	until time.Time
}

// Wait blocks until the pause is over or ctx ends.
func (p *pauses) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := time.Until(p.until)
		p.mu.Unlock()
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

// Pause holds every call back for d, or longer if a pause already runs.
func (p *pauses) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(p.until) {
		p.until = until
	}
}
