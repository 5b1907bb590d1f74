package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// Reconciler works one kind of work item: it brings what the items name in
// an app in line with the directory. The queue, the leases, retries and
// tasks are the engine's, the same for every kind; a reconciler only loads,
// plans and calls.
type Reconciler interface {
	// Kind is the work item kind it works, e.g. store.WorkUser.
	Kind() string
	// Lanes says how an app's items are worked: how many batches at once
	// and how many items a batch claims. Zero lanes: not now (the app
	// does not use the kind); its items wait.
	Lanes(a app.Instance) (lanes, batch int)
	// Reconcile works one claimed batch and returns one outcome per item,
	// in order, each with its payload and the error it ended with (the
	// engine turns an error into a retry or a task). An error of its own
	// ends the pass; the items' leases run out and they are worked again.
	Reconcile(ctx context.Context, p *Pass, items []store.WorkItem) ([]store.Outcome, error)
}

// Pass is one sync of one app, shared by the batches of every kind.
type Pass struct {
	App  app.Instance
	Conn connector.Connector
	// DueBy bounds the pass: only items due when it began are worked, so
	// an item that fails and comes back due is left to the next pass
	// instead of spun on here.
	DueBy  time.Time
	groups remoteGroups // the team's groups, read at most once per pass
}

// reconcilers are the kinds the engine works, in the order a pass works
// them: groups after users, so members provisioned in the pass can join.
func (e *Engine) reconcilers() []Reconciler {
	return []Reconciler{userReconciler{e}, groupReconciler{e}}
}

// work runs one kind's due items of the pass to the end, in lanes side by
// side, so one batch's database writes overlap another's calls to the app.
func (e *Engine) work(ctx context.Context, p *Pass, r Reconciler, total *Stats, progress func(Stats)) error {
	lanes, batch := r.Lanes(p.App)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				st, err := e.runBatch(ctx, p, r, batch)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				stop := err != nil || st.Items == 0 || firstErr != nil
				if st.Items > 0 {
					total.add(st)
					if progress != nil {
						progress(*total)
					}
				}
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// runBatch claims, reconciles and records one batch of one kind.
func (e *Engine) runBatch(ctx context.Context, p *Pass, r Reconciler, batch int) (Stats, error) {
	items, err := e.st.ClaimWork(ctx, store.Claim{AppID: p.App.ID, Kinds: []string{r.Kind()}, Owner: e.cfg.Owner,
		Lease: e.cfg.Lease, Limit: batch, DueBy: p.DueBy})
	if err != nil || len(items) == 0 {
		return Stats{}, err
	}
	outs, err := r.Reconcile(ctx, p, items)
	if err != nil {
		return Stats{}, err
	}
	st := e.settle(outs, time.Now())
	// Outcomes are stored even if ctx ended: the calls were made.
	if err := e.st.FinishWork(context.WithoutCancel(ctx), e.cfg.Owner, outs); err != nil {
		return st, fmt.Errorf("record %s outcomes: %w", r.Kind(), err)
	}
	return st, nil
}

// settle turns each outcome's error into a retry or a task, schedules
// waiting items, and counts the batch.
func (e *Engine) settle(outs []store.Outcome, now time.Time) Stats {
	st := Stats{Items: len(outs), Ops: map[string]int{}}
	for i := range outs {
		o := &outs[i]
		laneLost := o.Err != nil && errors.Is(o.Err, errLaneLost)
		if laneLost {
			// The call was never sent: this worker lost the app's lane (a
			// stall, a rebalance). That is no failure of the item, so it
			// waits without counting an attempt; otherwise a few stalls in
			// a row would make a pending change a task that never reaches
			// the app. It is due again at once, for the lane's next holder.
			o.Wait, o.RetryAt = true, now
			// Nor is it a failure at the app: the log keeps what was done.
			o.Logs = slices.DeleteFunc(o.Logs, func(l audit.Entry) bool { return l.Outcome == audit.Failure })
		} else {
			e.outcomeFor(o, o.Err, now)
		}
		if o.Err == nil && o.Wait && o.RetryAt.IsZero() {
			o.RetryAt = now.Add(e.pendingRetry())
		}
		switch {
		case o.Held:
			st.Held++
		case laneLost:
			st.Retrying++
		case o.Err == nil:
			st.Done++
		case o.GiveUp:
			st.Tasks++
		default:
			st.Retrying++
		}
		for _, l := range o.Logs {
			if l.Outcome == audit.Success {
				st.Ops[l.Action]++
			}
		}
	}
	return st
}
