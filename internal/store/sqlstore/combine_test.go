package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// A call waiting for a busy writer leaves when its context ends, and its
// work is withdrawn: no later leader runs it for nobody.
func TestCombinedCallLeavesOnCancel(t *testing.T) {
	s := &DB{writer: make(chan struct{}, 1)}
	s.writer <- struct{}{} // another transaction holds the writer
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error, 1)
	go func() {
		done <- s.inTxCombined(ctx, func(*sql.Tx) error { ran = true; return nil })
	}()
	for waiting := 0; waiting == 0; { // until the call is queued
		s.combine.mu.Lock()
		waiting = len(s.combine.waiting)
		s.combine.mu.Unlock()
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("inTxCombined = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call kept waiting for the writer after its context ended")
	}
	if len(s.combine.waiting) != 0 || ran {
		t.Fatalf("withdrawn call still waiting (%d) or run (%v)", len(s.combine.waiting), ran)
	}
}
