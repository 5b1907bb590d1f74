// Package importbench measures an import against the built-in Dropbox
// emulator: n members matched against n directory users, 80% by email, 10%
// by first and last name, 10% new. The same code backs `roster bench import`
// and the Go benchmark, so their figures compare.
package importbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// Result is one measured import.
type Result struct {
	Members       int     `json:"members"` // including the team's admin
	Users         int     `json:"directory_users"`
	Seconds       float64 `json:"seconds"`
	MembersPerSec float64 `json:"members_per_second"`
	PeakHeapMiB   float64 `json:"peak_heap_mib"`      // Go heap in use, emulator included
	BaseHeapMiB   float64 `json:"base_heap_mib"`      // Go heap in use just before the import: emulator and seeded data
	CPUSeconds    float64 `json:"cpu_seconds"`        // user+system CPU of the process during the import, emulator included
	SetupRSSMiB   float64 `json:"setup_peak_rss_mib"` // the process's peak RSS before the import (0 where unknown)
	PeakRSSMiB    float64 `json:"peak_rss_mib"`       // the process's peak RSS after the import (0 where unknown)
	SetupSeconds  float64 `json:"setup_seconds"`      // seeding team and directory, not measured
	Import        importer.Result
}

// Options adjust a measured run.
type Options struct {
	CPUProfile string // write a CPU profile of the import alone to this file
	MemProfile string // write heap profiles before (FILE.base) and after the import, for pprof -diff_base
}

// Run seeds a team of n members and a directory of n users, then measures one
// import with exact-match auto-confirmation, the migration case.
func Run(ctx context.Context, open bench.Open, n int) (Result, error) {
	return RunWith(ctx, open, n, Options{})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, open bench.Open, n int, opt Options) (Result, error) {
	if n < 10 {
		return Result{}, fmt.Errorf("need at least 10 members, got %d", n)
	}
	start := time.Now()
	srv, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "bench", Token: "tok"}}})
	if err != nil {
		return Result{}, err
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	st, closeSt, err := open()
	if err != nil {
		return Result{}, err
	}
	defer closeSt()
	a, err := seed(ctx, srv.Team("bench"), st, hs.URL, n)
	if err != nil {
		return Result{}, err
	}
	res := Result{Users: n, SetupSeconds: time.Since(start).Seconds()}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p}), nil
	}
	im := importer.New(st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The seeding's garbage is not the import's: start from a collected heap.
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.BaseHeapMiB, res.SetupRSSMiB = float64(ms.HeapInuse)/(1<<20), peakRSS()
	if err := writeHeap(opt.MemProfile, ".base"); err != nil {
		return res, err
	}
	if opt.CPUProfile != "" {
		f, err := os.Create(opt.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	stop := bench.HeapPeak()
	cpu0, t0 := cpuTime(), time.Now()
	out, err := im.Run(ctx, a, importer.Options{})
	res.Seconds, res.CPUSeconds, res.PeakHeapMiB = time.Since(t0).Seconds(), cpuTime()-cpu0, stop()
	if opt.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	res.PeakRSSMiB = peakRSS()
	if err := writeHeap(opt.MemProfile, ""); err != nil {
		return res, err
	}
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	res.Import, res.Members = out, out.Members
	res.MembersPerSec = float64(out.Members) / res.Seconds
	return res, check(out, n)
}

// check makes sure the run did the work it is credited with.
func check(r importer.Result, n int) error {
	exact, partial := n*8/10, n/10
	if r.Exact != exact || r.Confirmed != exact || r.Partial != partial || r.Unmatched != n-exact-partial+1 {
		return fmt.Errorf("unexpected import result for %d members: %+v", n, r)
	}
	return nil
}

// seed fills the team and the directory and creates the app.
func seed(ctx context.Context, team *emu.Team, st *sqlstore.DB, url string, n int) (app.Instance, error) {
	members := make([]emu.SeedMember, n)
	var users []directory.User
	exact, partial := n*8/10, n/10
	for i := range members {
		m := emu.SeedMember{Email: fmt.Sprintf("m%07d@corp.example", i), GivenName: "Member", Surname: fmt.Sprint(i), Status: "active"}
		switch {
		case i < exact:
			users = append(users, directory.User{Username: fmt.Sprintf("u%07d", i), Email: m.Email, FirstName: m.GivenName, LastName: m.Surname})
		case i < exact+partial: // same names, another address
			m.Email = fmt.Sprintf("m%07d@home.example", i)
			users = append(users, directory.User{Username: fmt.Sprintf("u%07d", i), Email: fmt.Sprintf("u%07d@corp.example", i), FirstName: m.GivenName, LastName: m.Surname})
		default: // new: no directory user; the directory has someone else instead
			m.Status = "invited"
			users = append(users, directory.User{Username: fmt.Sprintf("o%07d", i), Email: fmt.Sprintf("o%07d@corp.example", i), FirstName: "Other", LastName: fmt.Sprint(i)})
		}
		members[i] = m
	}
	if _, err := team.Seed(members); err != nil {
		return app.Instance{}, err
	}
	if err := st.CreateUsers(ctx, "bench", users); err != nil {
		return app.Instance{}, err
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: url, Settings: app.DefaultSettings()}
	a.Settings.Import.AutoConfirmExact = true
	if err := st.CreateApp(ctx, "bench", &a); err != nil {
		return app.Instance{}, err
	}
	return a, nil
}

// cpuTime is the process's user and system CPU seconds so far.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakRSS is the process's peak resident set (VmHWM) in MiB, or 0 where
// /proc is missing.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// writeHeap writes a heap profile to name+suffix, if name is set.
func writeHeap(name, suffix string) error {
	if name == "" {
		return nil
	}
	f, err := os.Create(name + suffix)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
