package csvload_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// genCSV writes an n-user CSV like an HR export (about 62 bytes a row) as it
// is read, so the input itself takes no memory, and hides any Seek, as an
// HTTP request body does. bad maps a row number (from 1) to a replacement line.
type genCSV struct {
	n, next int
	bad     map[int]string
	buf     []byte
}

func newGenCSV(n int, bad map[int]string) *genCSV {
	return &genCSV{n: n, bad: bad, buf: []byte("username,email,first_name,last_name,department\n")}
}

func (g *genCSV) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.next == g.n {
			return 0, io.EOF
		}
		g.next++
		if line, ok := g.bad[g.next]; ok {
			g.buf = append(g.buf[:0], line+"\n"...)
			continue
		}
		g.buf = fmt.Appendf(g.buf[:0], "u%07d,u%07d@corp.example,First%d,Last%d,Dept%d\n", g.next, g.next, g.next, g.next, g.next%40)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// heapWatch samples the Go heap in use while a load runs, from a common
// baseline, and returns the highest growth seen.
func heapWatch(t testing.TB) func() uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := sampleHeap()
	return func() uint64 {
		peak := stop()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

// TestLoadMemoryPerRow loads 20,000 rows the way the API does (a stream that
// cannot seek) and bounds the heap the load adds per row. Holding every row
// at once, as a whole-file load does, needs well over 1 KiB a row; a streamed
// load keeps only two small hashes a row for the duplicate check.
func TestLoadMemoryPerRow(t *testing.T) {
	const n, perRow = 20_000, 400 // bytes of heap per row at most
	// A low GC target keeps garbage from hiding what is held.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			stop := heapWatch(t)
			got, err := csvload.Load(context.Background(), s, "csv", newGenCSV(n, nil))
			grew := stop()
			if err != nil || got != n {
				t.Fatalf("load = %d, %v", got, err)
			}
			t.Logf("heap grew by %.1f MiB, %d bytes a row", float64(grew)/(1<<20), grew/n)
			if grew > n*perRow {
				t.Fatalf("the load held %d bytes of heap a row (%.1f MiB for %d rows), want at most %d", grew/n, float64(grew)/(1<<20), n, perRow)
			}
		})
	}
}

// BenchmarkLoadCSV imports a generated CSV of ROSTER_BENCH_CSV_ROWS rows
// (default 1,000,000, about 62 MB) as the API does and reports the peak Go
// heap in use and the process's peak resident memory (Linux) during it.
func BenchmarkLoadCSV(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("ROSTER_BENCH_CSV_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("ROSTER_BENCH_CSV_ROWS: %v", err)
		}
	}
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				s := be.Open(b)
				resetPeakRSS()
				stop := heapWatch(b)
				got, err := csvload.Load(context.Background(), s, "bench", newGenCSV(n, nil))
				grew := stop()
				if err != nil || got != n {
					b.Fatalf("load = %d, %v", got, err)
				}
				b.ReportMetric(float64(grew)/(1<<20), "peak-heap-MiB")
				if rss := peakRSS(); rss > 0 {
					b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
				}
			}
		})
	}
}

// resetPeakRSS restarts the kernel's count of the process's peak resident
// memory (Linux only; elsewhere peakRSS reports nothing).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM of /proc/self/status in bytes, or 0.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// A streamed load is still all or nothing: bad rows anywhere in a large
// file, even its last line, leave the directory as it was, and every
// problem is listed by line.
func TestLoadStreamAllOrNothing(t *testing.T) {
	const n = 20_000
	bad := map[int]string{
		3:     "u0000003,not-mail,Three,Bad,Dept3",
		12000: "u0000005,x12000@corp.example,Dup,Name,Dept0",
		n - 1: "taken,taken@corp.example,Ta,Ken,Dept1",
		n:     "u0020000,u0020000@corp.example,Too,Many,Dept0,extra",
	}
	want := []int{4, 12001, n, n + 1} // lines: the header is line 1; a taken username and email are one problem
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			mustCreate(t, s, "taken", "taken@corp.example")
			_, err := csvload.Load(context.Background(), s, "csv", newGenCSV(n, bad))
			var rows *csvload.Errors
			if !errors.As(err, &rows) {
				t.Fatalf("err = %v, want row problems", err)
			}
			var got []int
			for _, r := range rows.Rows {
				got = append(got, r.Line)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || !strings.Contains(rows.Rows[1].Message, "also on line 6") {
				t.Fatalf("problems %v, want lines %v: %v", got, want, err)
			}
			if users, _ := s.ListUsers(context.Background(), store.UserFilter{}); len(users) != 1 {
				t.Fatalf("a refused file stored %d users", len(users)-1)
			}
			got2, err := csvload.Load(context.Background(), s, "csv", newGenCSV(n, map[int]string{n - 1: "other,other@corp.example,O,Ther,Dept1"}))
			if err != nil || got2 != n {
				t.Fatalf("good file: %d, %v", got2, err)
			}
			if u, err := s.GetUser(context.Background(), "u0020000"); err != nil || u.Attributes["department"] != "Dept0" {
				t.Fatalf("last user = %+v, %v", u, err)
			}
		})
	}
}

// A file that cannot be read to its end is refused as such (the API answers
// 413 for a body over its limit), not reported as a bad row.
func TestLoadReadError(t *testing.T) {
	s := storetest.OpenSQLite(t)
	tooBig := errors.New("body too large")
	r := io.MultiReader(io.LimitReader(newGenCSV(1000, nil), 30_000), iotest.ErrReader(tooBig))
	_, err := csvload.Load(context.Background(), s, "csv", r)
	if !errors.Is(err, tooBig) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if users, _ := s.ListUsers(context.Background(), store.UserFilter{}); len(users) != 0 {
		t.Fatalf("a file read in part stored %d users", len(users))
	}
}

func mustCreate(t *testing.T, s store.Store, username, email string) {
	t.Helper()
	u := directory.User{Username: username, Email: email}
	if err := s.CreateUser(context.Background(), "test", &u); err != nil {
		t.Fatal(err)
	}
}
