package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// With a single writer, the engine's lanes finish their batches one
// transaction after another, and each commit writes the pages it changed to
// the log again. Calls that wait for the writer are therefore combined: the
// one that gets the writer commits every waiting call's work in one
// transaction (group commit). If that transaction fails, each call's work is
// retried in a transaction of its own, so that one call's error is not
// charged to the others.

// combiner holds the calls waiting for the writer.
type combiner struct {
	mu      sync.Mutex
	waiting []*combined
}

type combined struct {
	fn   func(*sql.Tx) error
	done chan error // buffered: whoever runs fn reports here once
}

// inTxCombined runs fn in a write transaction, possibly shared with other
// calls of inTxCombined. fn must be safe to run again after a rollback.
func (s *DB) inTxCombined(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writer == nil {
		return s.inTx(ctx, fn)
	}
	me := &combined{fn: fn, done: make(chan error, 1)}
	s.combine.mu.Lock()
	s.combine.waiting = append(s.combine.waiting, me)
	s.combine.mu.Unlock()
	select {
	case err := <-me.done: // another caller ran it
		return err
	case <-ctx.Done():
		if s.withdraw(me) {
			return ctx.Err()
		}
		return <-me.done // a leader took it already: it ends soon
	case s.writer <- struct{}{}:
	}
	s.combine.mu.Lock()
	batch := s.combine.waiting
	s.combine.waiting = nil
	s.combine.mu.Unlock()
	s.runCombined(ctx, batch)
	<-s.writer
	return <-me.done
}

// runCombined runs the batch with the writer lock held and reports to each call.
func (s *DB) runCombined(ctx context.Context, batch []*combined) {
	if len(batch) == 0 {
		return
	}
	err := s.inTxLocked(ctx, func(tx *sql.Tx) error {
		for _, c := range batch {
			if err := c.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, c := range batch {
			c.done <- err
		}
		return
	}
	for _, c := range batch {
		c.done <- s.inTxLocked(ctx, c.fn)
	}
}

// withdraw takes c off the waiting list unless a leader has taken it.
func (s *DB) withdraw(c *combined) bool {
	s.combine.mu.Lock()
	defer s.combine.mu.Unlock()
	for i, w := range s.combine.waiting {
		if w == c {
			s.combine.waiting = append(s.combine.waiting[:i], s.combine.waiting[i+1:]...)
			return true
		}
	}
	return false
}
