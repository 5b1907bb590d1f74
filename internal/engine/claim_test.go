package engine

import (
	"testing"
	"time"
)

// A lane claims its full batch unless the app's call rate could not serve
// one call per item within half the lease.
func TestClaimSize(t *testing.T) {
	c := Config{Lease: 2 * time.Minute, Lanes: 4}
	c.defaults()
	for _, tc := range []struct {
		rate float64
		want int
	}{
		{0, 2000},      // no rate: the batch
		{1000, 2000},   // fast enough for a full batch
		{16, 240},      // the fleet's default budget: 16 × 60 s / 4 lanes
		{50, 750},      // 50 × 60 / 4
		{0.01, 1},      // never zero: the queue still moves
		{133.34, 2000}, // just over a full batch
	} {
		if got := c.claimSize(tc.rate); got != tc.want {
			t.Errorf("claimSize(%v) = %d, want %d", tc.rate, got, tc.want)
		}
	}
}
