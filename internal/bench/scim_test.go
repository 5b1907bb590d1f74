package bench

import (
	"context"
	"testing"

	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestSCIM runs `roster bench scim` small: every deactivation reaches
// Dropbox, woken, well within the 1 s goal for its p99.
func TestSCIM(t *testing.T) {
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			open := func() (*sqlstore.DB, func(), error) { return be.Open(t), func() {}, nil }
			r, err := SCIM(context.Background(), open, SCIMConfig{Users: 300, Creates: 50, Patches: 50, Deactivations: 30, Clients: 8})
			if err != nil {
				t.Fatal(err)
			}
			if r.CreatesPerSec <= 0 || r.PatchesPerSec <= 0 || r.LatencyP99Milli <= 0 || r.LatencyP99Milli > 1000 {
				t.Fatalf("result = %+v", r)
			}
			t.Logf("%+v", r)
		})
	}
}
