// Package bench measures Roster against the Dropbox emulator: the same code
// backs `roster bench push` and the Go benchmarks, so figures compare.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// Open makes a fresh, empty store; close releases it.
type Open func() (st *sqlstore.DB, close func(), err error)

// Rig is one emulator and one store with an app on it.
type Rig struct {
	Emu   *emu.Server
	URL   string
	St    *sqlstore.DB
	App   app.Instance
	E     *engine.Engine
	close []func()
}

// Close stops the emulator and closes the store.
func (r *Rig) Close() {
	for i := len(r.close) - 1; i >= 0; i-- {
		r.close[i]()
	}
}

// NewRig starts an emulator with faults, opens a store, and makes an app
// with n assigned users, all queued.
func NewRig(ctx context.Context, open Open, n int, faults emu.Faults, rate float64) (*Rig, error) {
	s, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "bench", Token: "tok"}}, Faults: faults})
	if err != nil {
		return nil, err
	}
	hs := httptest.NewServer(s)
	return newRigAt(ctx, &Rig{Emu: s, URL: hs.URL, close: []func(){hs.Close}}, open, n, rate)
}

// newRigAt completes a rig whose emulator is already running at r.URL.
func newRigAt(ctx context.Context, r *Rig, open Open, n int, rate float64) (*Rig, error) {
	st, closeSt, err := open()
	if err != nil {
		r.Close()
		return nil, err
	}
	r.St, r.close = st, append(r.close, closeSt)
	if err := r.seed(ctx, n); err != nil {
		r.Close()
		return nil, err
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, AddConcurrency: 8}), nil
	}
	r.E = engine.New(st, connect, slog.New(slog.NewTextHandler(logTo(), nil)), engine.Config{RatePerApp: rate, Parallel: 16})
	return r, nil
}

func (r *Rig) seed(ctx context.Context, n int) error {
	r.App = app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: r.URL, Settings: app.DefaultSettings()}
	r.App.Settings.Provisioning = true
	if err := r.St.CreateApp(ctx, "bench", &r.App); err != nil {
		return err
	}
	users := make([]directory.User, n)
	names := make([]string, n)
	for i := range users {
		names[i] = fmt.Sprintf("u%06d@corp.example", i)
		users[i] = directory.User{Username: names[i], Email: names[i], FirstName: "User", LastName: fmt.Sprint(i)}
	}
	if err := r.St.CreateUsers(ctx, "bench", users); err != nil {
		return err
	}
	g := directory.Group{Name: "everyone"}
	if err := r.St.CreateGroup(ctx, "bench", &g); err != nil {
		return err
	}
	for i := 0; i < n; i += 1000 {
		if err := r.St.AddGroupMembers(ctx, "bench", "everyone", names[i:min(i+1000, n)]); err != nil {
			return err
		}
	}
	return r.St.Assign(ctx, "bench", &directory.Assignment{AppName: "dbx", GroupName: "everyone"})
}

// logTo shows the engine's log when ROSTER_BENCH_LOG is set.
func logTo() io.Writer {
	if os.Getenv("ROSTER_BENCH_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// cpuProfile writes a CPU profile of what runs until the returned function
// is called to the file ROSTER_BENCH_CPUPROFILE names, if it names one: the
// measured part alone, without the seeding before it (the initial push, the
// incremental rounds of the largest app, the sync after many assignments).
func cpuProfile() (stop func()) {
	path := os.Getenv("ROSTER_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		slog.Warn("bench: no CPU profile", "err", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		slog.Warn("bench: no CPU profile", "err", err)
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// Sync runs the engine until the app's queue is empty.
func (r *Rig) Sync(ctx context.Context) (engine.Stats, time.Duration, error) {
	start := time.Now()
	st, err := r.E.Sync(ctx, r.App, engine.SyncOptions{AllowDeletes: true})
	return st, time.Since(start), err
}

// HeapPeak samples the Go heap until stop is called and returns the peak in MiB.
func HeapPeak() (stop func() float64) {
	var peak atomic.Uint64
	done, finished := make(chan struct{}), make(chan struct{})
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
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() float64 { close(done); <-finished; return float64(peak.Load()) / (1 << 20) }
}

// ceilingClients is how many raw clients measure the ceiling. With 4, the
// emulator idled between calls: 16 added about a third more members per
// second (65k against 86-93k), and 32 no more than 16 within the noise.
const ceilingClients = 16

// BestCeiling is the better of two Ceiling runs. The first run in a process
// is up to a third slower than the next (the runtime is still growing its
// heap), and a ceiling measured low flatters Roster.
func BestCeiling(ctx context.Context, n int) (float64, error) {
	best := 0.0
	for range 2 {
		c, err := Ceiling(ctx, n, ceilingClients)
		if err != nil {
			return 0, err
		}
		best = max(best, c)
	}
	return best, nil
}

// Ceiling measures the emulator's own rate: members added per second through
// add_v2 in batches of 20 from parallel raw HTTP clients, with no Roster in between.
func Ceiling(ctx context.Context, n, clients int) (float64, error) {
	s, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "ceiling", Token: "tok"}}})
	if err != nil {
		return 0, err
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	return ceilingAt(ctx, hs.URL, n, clients)
}

// ceilingAt is Ceiling against a fresh emulator at url with the token "tok".
func ceilingAt(ctx context.Context, url string, n, clients int) (float64, error) {
	hc := dropbox.NewHTTPClient() // the transport Roster's connector uses
	defer hc.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				first := next.Add(20) - 20
				if first >= int64(n) {
					return
				}
				if err := emu.LoadAdd(ctx, hc, url, "tok", first, min(first+20, int64(n))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
