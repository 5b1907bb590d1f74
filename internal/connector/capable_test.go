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

// suspender can also suspend, and records it.
type suspender struct {
	plain
	ids *[]string
}

func (s suspender) Suspend(_ context.Context, id string, _ bool) error {
	*s.ids = append(*s.ids, id)
	return nil
}
func (suspender) Unsuspend(context.Context, string) error { return nil }

// The optional methods are not the core's: a plain connector has none, and
// Instrument forwards each to the connector underneath only when it has it.
func TestOptionalCapabilitiesSurviveInstrument(t *testing.T) {
	obs := &calls{}
	wrapped := connector.Instrument(plain{}, obs)
	for name, ok := range map[string]bool{
		"RoleSetter":    has[connector.RoleSetter](wrapped),
		"Suspender":     has[connector.Suspender](wrapped),
		"Recoverer":     has[connector.Recoverer](wrapped),
		"WelcomeSender": has[connector.WelcomeSender](wrapped),
		"GroupPusher":   has[connector.GroupPusher](wrapped),
	} {
		if ok {
			t.Errorf("a wrapped plain connector is a %s", name)
		}
	}
	if err := wrapped.(connector.Suspender).Suspend(t.Context(), "m1", false); !errors.Is(err, connector.ErrUnsupported) {
		t.Errorf("Suspend through the wrapper of a plain connector = %v", err)
	}
	var ids []string
	s, ok := connector.Capable[connector.Suspender](connector.Instrument(suspender{ids: &ids}, obs))
	if !ok {
		t.Fatal("the wrapper hid Suspender")
	}
	if err := s.Suspend(t.Context(), "m2", false); err != nil || !slices.Equal(ids, []string{"m2"}) || !slices.Contains(obs.ops, "suspend") {
		t.Errorf("Suspend = %v; suspended %v; observed %v", err, ids, obs.ops)
	}
	if has[connector.GroupPusher](connector.Instrument(suspender{ids: &ids}, obs)) {
		t.Error("a suspender is a GroupPusher")
	}
}

func has[T any](c connector.Connector) bool {
	_, ok := connector.Capable[T](c)
	return ok
}
