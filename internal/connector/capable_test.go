package connector_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/connector"
)

// plain has only the core methods (those it embeds panic if called).
type plain struct{ connector.Connector }

// checker can also check transfer accounts.
type checker struct{ plain }

func (checker) CheckTransfer(_ context.Context, dest, _ string) ([]string, error) {
	return []string{"no " + dest}, nil
}

type calls struct{ ops []string }

func (c *calls) Call(op string, _ time.Duration, _ error) { c.ops = append(c.ops, op) }
func (c *calls) RateLimited(time.Duration)                {}
func (c *calls) Failed(string, error)                     {}

// Capable finds a capability through Instrument's wrapper only when the
// connector underneath has it, and the wrapped call is still observed.
func TestCapableThroughInstrument(t *testing.T) {
	obs := &calls{}
	if _, ok := connector.Capable[connector.TransferChecker](connector.Instrument(plain{}, obs)); ok {
		t.Error("the wrapper lent a connector a capability it lacks")
	}
	if _, ok := connector.Capable[connector.TransferChecker](plain{}); ok {
		t.Error("a plain connector is a TransferChecker")
	}
	tc, ok := connector.Capable[connector.TransferChecker](connector.Instrument(checker{}, obs))
	if !ok {
		t.Fatal("the wrapper hid the connector's capability")
	}
	p, err := tc.CheckTransfer(t.Context(), "d@example.com", "a@example.com")
	if err != nil || !slices.Equal(p, []string{"no d@example.com"}) || !slices.Equal(obs.ops, []string{"check_transfer"}) {
		t.Errorf("CheckTransfer = %v, %v; observed %v", p, err, obs.ops)
	}
	// Called on a wrapper of a connector without it: refused, not a panic.
	w := connector.Instrument(plain{}, obs).(connector.TransferChecker)
	if _, err := w.CheckTransfer(t.Context(), "d", "a"); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("unsupported CheckTransfer = %v", err)
	}
}
