package store_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			storetest.Run(t, func(t testing.TB) storetest.Store { return b.Open(t) })
		})
	}
}
