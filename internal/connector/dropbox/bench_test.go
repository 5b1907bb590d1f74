package dropbox

import (
	"fmt"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// BenchmarkAddMembers adds 1,000 members per iteration through the client
// against the in-process emulator, at several batch concurrencies.
func BenchmarkAddMembers(b *testing.B) {
	for _, conc := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			e := start(b, Options{AddConcurrency: conc})
			const n = 1000
			total := 0
			for i := 0; b.Loop(); i++ {
				ms := make([]connector.NewMember, n)
				for j := range ms {
					ms[j] = connector.NewMember{Email: fmt.Sprintf("b%d.%d@acme.example", i, j), GivenName: "Bench", Surname: fmt.Sprint(j),
						ExternalID: fmt.Sprintf("x%d.%d", i, j)}
				}
				res, err := e.c.AddMembers(b.Context(), ms)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
				total += n
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "members/s")
		})
	}
}

// BenchmarkListMembers lists a team of 100,000 members (plus its admin).
func BenchmarkListMembers(b *testing.B) {
	e := start(b, Options{})
	const n = 100_000
	seeds := make([]emu.SeedMember, n)
	for i := range seeds {
		seeds[i] = emu.SeedMember{Email: fmt.Sprintf("m%06d@acme.example", i), GivenName: "Member", Surname: fmt.Sprint(i),
			ExternalID: fmt.Sprintf("ext-%06d", i), Status: "active"}
	}
	e.seed(seeds...)
	total := 0
	for b.Loop() {
		got := 0
		err := e.c.ListMembers(b.Context(), false, func(ms []connector.Member) error { got += len(ms); return nil })
		if err != nil {
			b.Fatal(err)
		}
		if got != n+1 {
			b.Fatalf("listed %d members, want %d", got, n+1)
		}
		total += got
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "members/s")
}
