package engine

import "sync"

// waker lets a change that queued work wake the sync loops sleeping for
// lack of it, so the work is claimed at once rather than at the next idle
// tick. A loop takes the channel before it looks for work: a wake that
// comes while it looks is not lost.
type waker struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next wake.
func (w *waker) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// wake wakes every loop waiting now.
func (w *waker) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// Wake tells the engine's loops that work was queued in this process (a
// SCIM change, say): they look for it at once. Work queued by another
// process is found at the next idle tick.
func (e *Engine) Wake() { e.wake.wake() }

// Wake is Engine.Wake for the worker's lanes.
func (w *Worker) Wake() { w.eng.Wake() }
