package fleettest_test

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/fleettest"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// BenchmarkFleet pushes 10,000 users to ten teams with one and with three
// worker processes on PostgreSQL, budgets high enough not to bind, and
// reports users per second.
func BenchmarkFleet(b *testing.B) {
	for _, workers := range []int{1, 3} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for range b.N {
				fleetOnce(b, workers)
			}
		})
	}
}

func fleetOnce(b *testing.B, workers int) {
	b.StopTimer()
	dsn := storetest.PostgresDSN(b)
	setup := fleettest.Setup{Apps: 10, Users: 10_000, Budget: 2000}
	_, base := emu.StartTest(b, emu.Options{Teams: fleettest.Teams(setup.Apps)})
	st, err := fleettest.Open(bg, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := fleettest.Seed(bg, st, base, setup); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var procs []*exec.Cmd
	for i := range workers {
		procs = append(procs, startChild(b, dsn, fmt.Sprintf("w%d", i), dir))
	}
	time.Sleep(time.Second) // every worker joins before there is work
	b.StartTimer()
	start := time.Now()
	if err := fleettest.Enable(bg, st, setup.Apps); err != nil {
		b.Fatal(err)
	}
	for {
		if n, err := fleettest.Remaining(bg, st); err == nil && n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(setup.Users)/time.Since(start).Seconds(), "users/s")
	for _, p := range procs {
		_ = p.Process.Signal(syscall.SIGTERM)
		_ = p.Wait()
	}
}
