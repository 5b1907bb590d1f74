package bench

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// benchUsers is the size of the initial push; ROSTER_BENCH_USERS overrides
// the default of 10,000 (the figure is 100,000).
func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

func opener(b testing.TB, open func(testing.TB) *sqlstore.DB) Open {
	return func() (*sqlstore.DB, func(), error) { return open(b), func() {}, nil }
}

// BenchmarkPush: go test -run '^$' -bench '^BenchmarkPush$' -benchtime 1x ./internal/bench
// (ROSTER_BENCH_USERS=100000 for the full size; with ROSTER_TEST_POSTGRES set
// it runs on SQLite and then PostgreSQL, so the two compare in one run).
func BenchmarkPush(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				res, err := Push(context.Background(), opener(b, be.Open), benchUsers())
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.UsersPerSec, "users/s")
				b.ReportMetric(res.CeilingPS, "ceiling/s")
				b.ReportMetric(res.Ratio, "x-of-ceiling")
				b.ReportMetric(res.PeakHeapMiB, "peak-heap-MiB")
			}
		})
	}
}

// BenchmarkIncremental changes 100 users in a small and a large app (the
// median of IncrementalRounds rounds each), on each backend.
func BenchmarkIncremental(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				res, err := Incremental(context.Background(), opener(b, be.Open), []int{1000, benchUsers()}, 100)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Seconds[1000]*1000, "ms-1k-app")
				b.ReportMetric(res.Seconds[benchUsers()]*1000, "ms-large-app")
				b.ReportMetric(res.Seconds[benchUsers()]/res.Seconds[1000], "x-large-to-1k")
			}
		})
	}
}

// BenchmarkRateLimit pushes against a write budget of 50 calls a second.
func BenchmarkRateLimit(b *testing.B) {
	for range b.N {
		res, err := RateLimited(context.Background(), opener(b, storetest.OpenSQLite), 50, 4)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Share, "share-of-limit")
		b.ReportMetric(res.Share429*100, "pct-429")
	}
}

// BenchmarkReconcile: full reconciliation of a pushed team with 100 members
// drifted in Dropbox directly (ROSTER_BENCH_USERS=100000 for the size).
func BenchmarkReconcile(b *testing.B) {
	for range b.N {
		res, err := Reconcile(context.Background(), opener(b, storetest.OpenSQLite), benchUsers(), 100)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Seconds, "s-reconcile")
		b.ReportMetric(float64(res.Calls), "api-calls")
		b.ReportMetric(float64(res.Members), "members")
	}
}

// BenchmarkManyGroups: 10,000 users in 1,000 assigned groups of 100 (each
// user in 10 of them); the sync after the assignments makes no call, so its
// time is Roster's own. go test -run '^$' -bench '^BenchmarkManyGroups$' -benchtime 1x ./internal/bench
func BenchmarkManyGroups(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				res, err := ManyGroups(context.Background(), opener(b, be.Open), 10_000, 1000, 100)
				if err != nil {
					b.Fatal(err)
				}
				if res.Queued < res.Users {
					b.Fatalf("queued %d of %d users", res.Queued, res.Users)
				}
				b.ReportMetric(res.Seconds, "sync-s")
				b.ReportMetric(res.CPUSeconds, "sync-cpu-s")
			}
		})
	}
}

// TestManyGroupsSmall runs the many-groups code at a small size.
func TestManyGroupsSmall(t *testing.T) {
	res, err := ManyGroups(context.Background(), opener(t, storetest.OpenSQLite), 200, 20, 30)
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued < 200 || res.Calls != 0 {
		t.Fatalf("%+v", res)
	}
}
