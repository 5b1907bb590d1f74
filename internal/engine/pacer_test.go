package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
)

// Callers already queued on a token bucket when the app answers 429 must
// hold back until Retry-After has passed, whichever bucket they wait on.
func TestPacerHoldsQueuedCallsUntilRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    connector.Pacer
	}{
		{"the engine's rate", NewPacer(2)},
		{"a fleet lane's budget", budgetPacer{Pacer: NewPacer(0), lim: newBudget(app.Budget{CallsPerSecond: 2 / budgetHeadroom}), held: func() bool { return true }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			holdsQueued(t, tc.p)
		})
	}
}

// holdsQueued queues callers on p's bucket of 2 calls a second (one token,
// spent first), lets the first through, then pauses: the next two were due
// inside the pause and must wait for its end.
func holdsQueued(t *testing.T, p connector.Pacer) {
	const n = 5
	const d = 1200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Wait(ctx); err != nil { // spends the token: the callers below queue at 0.5 s intervals
		t.Fatal(err)
	}
	returned := make(chan time.Time, n)
	for range n {
		go func() {
			if err := p.Wait(ctx); err != nil {
				t.Error(err)
			}
			returned <- time.Now()
		}()
	}
	<-returned // the first of the queue went; the next is due 0.5 s later
	end := time.Now().Add(d)
	p.Pause(d)
	for range n - 1 {
		if at := <-returned; at.Before(end) {
			t.Errorf("a queued caller went %v before the pause ended", end.Sub(at).Round(time.Millisecond))
		}
	}
}

// A pause extended while callers sleep on it holds them to its new end.
func TestPacerHonoursAPauseExtendedWhileWaiting(t *testing.T) {
	const n = 8
	p := NewPacer(0)
	p.Pause(500 * time.Millisecond)
	var started sync.WaitGroup
	returned := make(chan time.Time, n)
	for range n {
		started.Add(1)
		go func() {
			started.Done()
			if err := p.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			returned <- time.Now()
		}()
	}
	started.Wait()
	time.Sleep(100 * time.Millisecond) // callers reach their sleep; the verdict does not depend on it
	end := time.Now().Add(time.Second)
	p.Pause(time.Second)
	for range n {
		if at := <-returned; at.Before(end) {
			t.Errorf("a caller went %v before the extended pause ended", end.Sub(at).Round(time.Millisecond))
		}
	}
}

// The pacer counts the 429s it is told about and says when calls resume.
func TestPacerRateState(t *testing.T) {
	p := NewPacer(0)
	if st := p.RateState(); st.Total != 0 || !st.ResumeAt.IsZero() {
		t.Fatalf("fresh pacer: %+v", st)
	}
	p.Pause(time.Minute)
	p.Pause(time.Second)
	st := p.RateState()
	if st.Total != 2 || st.LastHour != 2 || st.Last.IsZero() {
		t.Fatalf("after two 429s: %+v", st)
	}
	if d := time.Until(st.ResumeAt); d < 50*time.Second || d > time.Minute {
		t.Fatalf("resume in %s, want about a minute (the longer pause)", d)
	}
	var e Engine
	e.pacers = map[int64]*Pacer{7: p}
	if got := e.RateState(7); got.Total != 2 {
		t.Fatalf("engine's view: %+v", got)
	}
	if got := e.RateState(8); got.Total != 0 {
		t.Fatalf("an app without calls: %+v", got)
	}
}
