package engine

import (
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// Observer is told what the workers do, for metrics. It keeps the engine free
// of any monitoring system; implementations must be cheap and safe for
// concurrent use.
type Observer interface {
	// Operation counts one logged operation on an app, e.g. "account.create", "success".
	Operation(app, op, outcome string)
	// Items counts recorded work items by result: done, retry or task.
	Items(app, result string, n int)
	// Lanes reports how many app lanes this worker holds.
	Lanes(held int)
	// Calls returns the observer of one app's remote calls, or nil.
	Calls(app string) connector.CallObserver
}

// NopObserver observes nothing.
type NopObserver struct{}

func (NopObserver) Operation(string, string, string)    {}
func (NopObserver) Items(string, string, int)           {}
func (NopObserver) Lanes(int)                           {}
func (NopObserver) Calls(string) connector.CallObserver { return nil }

// Item results, as Observer.Items reports them.
const (
	ResultDone  = "done"
	ResultRetry = "retry"
	ResultTask  = "task"
)

// observeOutcomes reports a recorded batch to o.
func observeOutcomes(o Observer, app string, outs []store.Outcome) {
	n := map[string]int{}
	for _, out := range outs {
		for _, l := range out.Logs {
			name := l.App
			if name == "" {
				name = app
			}
			o.Operation(name, l.Action, l.Outcome)
		}
		switch {
		case out.Err == nil:
			n[ResultDone]++
		case out.GiveUp:
			n[ResultTask]++
		default:
			n[ResultRetry]++
		}
	}
	for r, c := range n {
		o.Items(app, r, c)
	}
}
