package bench

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// benchGroupUsers is how many users the pushed groups draw their members
// from; ROSTER_BENCH_GROUP_USERS overrides the default of 10,000 (each user
// then sits in 10 of the 1,000 groups; 100000 makes every membership distinct).
func benchGroupUsers() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_GROUP_USERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// BenchmarkGroups pushes 1,000 groups of 100 members each:
// go test -run '^$' -bench '^BenchmarkGroups$' ./internal/bench
// (named so that -bench Push does not select it too).
func BenchmarkGroups(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				res, err := Groups(context.Background(), opener(b, be.Open), 1000, 100, benchGroupUsers())
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Seconds, "push-s")
				b.ReportMetric(float64(res.Calls), "push-calls")
				b.ReportMetric(float64(res.IncCalls), "incremental-calls")
				b.ReportMetric(res.IncSeconds*1000, "incremental-ms")
			}
		})
	}
}

// TestGroupsSmall runs the group benchmark's code at a small size, so a
// broken benchmark fails the tests rather than the next measurement.
func TestGroupsSmall(t *testing.T) {
	res, err := Groups(context.Background(), func() (*sqlstore.DB, func(), error) { return storetest.OpenSQLite(t), func() {}, nil }, 20, 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	// One create and one add per group; one add and one remove per changed group.
	if res.Routes["team/groups/create"] != 20 || res.Routes["team/groups/members/add"] != 20 || res.Calls != 40 || res.IncCalls != 2*int64(res.Changed) {
		t.Fatalf("calls: %+v", res)
	}
}
