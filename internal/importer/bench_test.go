package importer_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/importer/importbench"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// benchMembers is the team size; ROSTER_BENCH_MEMBERS overrides the default
// of 10,000 (the figure is 100,000).
func benchMembers() int {
	if n, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_MEMBERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// BenchmarkImport: go test -run '^$' -bench Import ./internal/importer
// (ROSTER_BENCH_MEMBERS=100000 for the full size).
func BenchmarkImport(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			open := bench.Open(func() (*sqlstore.DB, func(), error) { return be.Open(b), func() {}, nil })
			for range b.N {
				res, err := importbench.Run(b.Context(), open, benchMembers())
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Seconds, "s/import")
				b.ReportMetric(res.MembersPerSec, "members/s")
				b.ReportMetric(res.PeakHeapMiB, "peak-heap-MiB")
			}
		})
	}
}

// TestImportBenchSmall keeps the benchmark's set-up and checks working.
func TestImportBenchSmall(t *testing.T) {
	res, err := importbench.Run(t.Context(), bench.Open(func() (*sqlstore.DB, func(), error) { return storetest.OpenSQLite(t), func() {}, nil }), 500)
	if err != nil {
		t.Fatal(err)
	}
	if res.Import.Confirmed != 400 || res.Import.Partial != 50 || res.Members != 501 {
		t.Fatalf("small import bench: %+v", res)
	}
}
