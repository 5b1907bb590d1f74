package csvload_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

const good = `username,email,First Name,last_name,status,department
ann,ann@example.com,Ann,Able,active,Sales
bo,bo@example.com,Bo,Baker,staged,
`

func TestLoadGood(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			n, err := csvload.Load(context.Background(), s, "csv", strings.NewReader(good))
			if err != nil || n != 2 {
				t.Fatalf("load = %d, %v", n, err)
			}
			ann, _ := s.GetUser(context.Background(), "ann")
			bo, _ := s.GetUser(context.Background(), "bo")
			if ann.FirstName != "Ann" || ann.LastName != "Able" || ann.Attributes["department"] != "Sales" || ann.Status != directory.StatusActive {
				t.Fatalf("ann = %+v", ann)
			}
			if bo.Status != directory.StatusStaged || bo.Attributes != nil {
				t.Fatalf("bo = %+v", bo)
			}
			// Loading the same file again conflicts on every row, once a
			// row, and changes nothing.
			_, err = csvload.Load(context.Background(), s, "csv", strings.NewReader(good))
			var rows *csvload.Errors
			if !errors.As(err, &rows) || len(rows.Rows) != 2 || rows.Rows[0].Line != 2 || rows.Rows[1].Line != 3 ||
				!errors.Is(err, directory.ErrConflict) || errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("reload err = %v", err)
			}
		})
	}
}

func TestBadRows(t *testing.T) {
	cases := []struct {
		name  string
		csv   string
		lines []int
		want  string
	}{
		{"no header", "", nil, "empty"},
		{"header only", "username,email\n", nil, "no users"},
		{"missing email column", "username,first_name\nx,y\n", nil, "no email column"},
		{"duplicate column", "username,email,Email\n", nil, "twice"},
		{"bad email", "username,email\nok,ok@example.com\nbad,not-mail\n", []int{3}, "not a valid address"},
		{"missing username", "username,email\n,x@example.com\n", []int{2}, "username is required"},
		{"bad status", "username,email,status\nx,x@example.com,gone\n", []int{2}, "status"},
		{"bad attribute name", "username,email,9lives\nx,x@example.com,v\n", []int{2}, "attribute name"},
		{"dup username in file", "username,email\nsam,a@example.com\nSAM,b@example.com\n", []int{3}, "also on line 2"},
		{"dup email in file", "username,email\na,s@example.com\nb,S@example.com\n", []int{3}, "also on line 2"},
		{"wrong field count", "username,email\na,a@example.com,extra\nb,b@example.com\n", []int{2}, "wrong number of fields"},
		{"quote error", "username,email\n\"a,a@example.com\n", []int{2}, "quote"},
		{"several bad rows", "username,email\nx,bad\ny,y@example.com\nz z,z@example.com\n", []int{2, 4}, "2 problem(s)"},
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			for _, c := range cases {
				_, err := csvload.Load(context.Background(), s, "csv", strings.NewReader(c.csv))
				if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: err = %v, want invalid containing %q", c.name, err, c.want)
					continue
				}
				var rows *csvload.Errors
				if errors.As(err, &rows) {
					var got []int
					for _, r := range rows.Rows {
						got = append(got, r.Line)
					}
					if fmt.Sprint(got) != fmt.Sprint(c.lines) {
						t.Errorf("%s: lines %v, want %v", c.name, got, c.lines)
					}
				} else if c.lines != nil {
					t.Errorf("%s: no row errors in %v", c.name, err)
				}
			}
			if users, _ := s.ListUsers(context.Background(), store.UserFilter{}); len(users) != 0 {
				t.Fatalf("bad files left %d users", len(users))
			}
		})
	}
}

// makeCSV builds an n-user file like an HR export.
func makeCSV(n int) string {
	var b strings.Builder
	b.Grow(n * 80)
	b.WriteString("username,email,first_name,last_name,department,title\n")
	for i := range n {
		fmt.Fprintf(&b, "user%06d@corp.example,user%06d@corp.example,First%d,Last%d,Dept%d,Engineer\n", i, i, i, i, i%40)
	}
	return b.String()
}

// BenchmarkLoad100k loads 100,000 users from CSV through the store on each
// backend and reports users per second and the peak Go heap.
func BenchmarkLoad100k(b *testing.B) {
	const n = 100_000
	data := makeCSV(n)
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := be.Open(b)
				runtime.GC()
				stop := sampleHeap()
				b.StartTimer()
				start := time.Now()
				got, err := csvload.Load(context.Background(), s, "bench", strings.NewReader(data))
				elapsed := time.Since(start)
				b.StopTimer()
				peak := stop()
				if err != nil || got != n {
					b.Fatalf("load = %d, %v", got, err)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "users/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			}
		})
	}
}

// sampleHeap records the highest heap in use until the returned func is called.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}
