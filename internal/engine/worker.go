package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// FleetStore is what a fleet worker needs from persistence.
type FleetStore interface {
	Store
	store.Fleet
}

// WorkerConfig tunes a fleet worker; zero values take the defaults.
type WorkerConfig struct {
	Engine   Config
	LaneTTL  time.Duration // how long a lane lasts unrenewed (default 15s): a dead worker's apps wait this long
	Tick     time.Duration // heartbeat, renewal and rebalancing period (default LaneTTL/5)
	Cooldown time.Duration // a released lane rests this long (default 1s, the budget's window)
	Drain    time.Duration // how long shutdown lets in-flight batches finish (default 20s)
	Observer Observer      // default NopObserver
}

func (c *WorkerConfig) defaults() {
	c.Engine.defaults()
	if c.LaneTTL <= 0 {
		c.LaneTTL = 15 * time.Second
	}
	if c.Tick <= 0 {
		c.Tick = c.LaneTTL / 5
	}
	if c.Cooldown <= 0 {
		c.Cooldown = time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 20 * time.Second
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
}

// Worker runs provisioning as one process of a fleet sharing a database. It
// holds the lanes of a fair share of the app instances (apps over live
// workers, rounded up) and works only those, so each app's calls are paced
// by a single holder. On SQLite, a fleet of one, it holds every lane.
type Worker struct {
	st      FleetStore
	inner   Connect
	eng     *Engine
	log     *slog.Logger
	cfg     WorkerConfig
	owner   string
	started time.Time

	mu    sync.Mutex
	lanes map[int64]*lane

	draining atomic.Bool
	lastBeat atomic.Int64 // unix nanos of the last heartbeat the database took
	lastTick atomic.Int64 // unix nanos of the last pass of the control loop
	runners  sync.WaitGroup
}

// lane is an app instance this worker holds.
type lane struct {
	app        atomic.Pointer[app.Instance]
	validUntil atomic.Int64 // unix nanos: calls stop before the lease could pass to another
	stopping   atomic.Bool  // claim no more; release once in-flight work is done
	lim        *budgetLimiter
	done       chan struct{}
}

// NewWorker makes a fleet worker; connect builds an app's connector.
func NewWorker(st FleetStore, connect Connect, log *slog.Logger, cfg WorkerConfig) *Worker {
	cfg.defaults()
	w := &Worker{st: st, inner: connect, log: log, cfg: cfg, owner: cfg.Engine.Owner, started: time.Now(), lanes: map[int64]*lane{}}
	w.eng = New(fleetStore{st, w}, w.connect, log, cfg.Engine)
	return w
}

// Owner is the name this worker holds leases under.
func (w *Worker) Owner() string { return w.owner }

// Run works the held apps until ctx ends, then shuts down: it stops
// claiming, lets in-flight batches finish for up to Drain, cancels what is
// left, hands its leases back and leaves the fleet.
func (w *Worker) Run(ctx context.Context) error {
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	t := time.NewTicker(w.cfg.Tick)
	defer t.Stop()
	for ctx.Err() == nil {
		w.tick(ctx, hard)
		select {
		case <-ctx.Done():
			return w.shutdown(cancelHard)
		case <-t.C:
		}
	}
	return w.shutdown(cancelHard)
}

// tick is one pass of the control loop: heartbeat, then lanes.
func (w *Worker) tick(ctx, hard context.Context) {
	w.lastTick.Store(time.Now().UnixNano())
	live, err := w.st.Heartbeat(ctx, w.owner, w.cfg.LaneTTL)
	if err != nil {
		w.log.Warn("fleet heartbeat failed", "err", err)
	} else {
		w.lastBeat.Store(time.Now().UnixNano())
	}
	apps, err := w.st.ListApps(ctx)
	if err != nil {
		w.log.Warn("list apps failed", "err", err)
		return
	}
	w.balance(ctx, hard, workable(apps), max(1, len(live)))
}

// workable keeps the apps workers should run, by ID.
func workable(apps []app.Instance) map[int64]app.Instance {
	out := map[int64]app.Instance{}
	for _, a := range apps {
		if a.Settings.Provisioning && a.HasToken {
			out[a.ID] = a
		}
	}
	return out
}

// balance renews held lanes, gives up those over the fair share or no longer
// workable, and takes free ones up to it.
func (w *Worker) balance(ctx, hard context.Context, apps map[int64]app.Instance, workers int) {
	fair := (len(apps) + workers - 1) / workers
	held := 0
	for id, l := range w.heldLanes() {
		a, ok := apps[id]
		switch {
		case l.stopping.Load():
			continue
		case !ok || held >= fair:
			l.stopping.Store(true) // its runner releases it when in-flight work is done
		case w.renew(ctx, l, a):
			held++
		}
	}
	for _, a := range w.candidates(apps) {
		if held >= fair || ctx.Err() != nil {
			break
		}
		if w.take(ctx, hard, a) {
			held++
		}
	}
	w.cfg.Observer.Lanes(held)
}

// renew extends a held lane and refreshes its app; a lane lost to another
// worker (after a long stall) stops at once.
func (w *Worker) renew(ctx context.Context, l *lane, a app.Instance) bool {
	start := time.Now()
	ok, err := w.st.AcquireLane(ctx, a.ID, w.owner, w.cfg.LaneTTL)
	if err != nil {
		w.log.Warn("renew lane failed", "app", a.Name, "err", err)
		return true // still ours until validUntil; the next tick tries again
	}
	if !ok {
		w.log.Warn("lane lost to another worker", "app", a.Name)
		l.stopping.Store(true)
		return false
	}
	l.app.Store(&a)
	l.lim.set(a.Settings.Budget.PerSecond())
	l.validUntil.Store(start.Add(w.validFor()).UnixNano())
	return true
}

// validFor is how long after a renewal began this worker keeps calling: a
// third of the lease short of it, so the calls end well before another
// worker could take the lane.
func (w *Worker) validFor() time.Duration { return w.cfg.LaneTTL - w.cfg.LaneTTL/3 }

// candidates lists the apps this worker does not hold, starting at an offset
// of its own, so that workers starting together try different apps first.
func (w *Worker) candidates(apps map[int64]app.Instance) []app.Instance {
	held := w.heldLanes()
	var ids []int64
	for id := range apps {
		if _, ok := held[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	h := fnv.New32a()
	h.Write([]byte(w.owner))
	out := make([]app.Instance, 0, len(ids))
	for i := range ids {
		out = append(out, apps[ids[(i+int(h.Sum32()%uint32(max(1, len(ids)))))%len(ids)]])
	}
	return out
}

// take acquires a free lane, frees the leases a dead holder left on its
// work and starts working the app.
func (w *Worker) take(ctx, hard context.Context, a app.Instance) bool {
	start := time.Now()
	ok, err := w.st.AcquireLane(ctx, a.ID, w.owner, w.cfg.LaneTTL)
	if err != nil || !ok {
		if err != nil {
			w.log.Warn("acquire lane failed", "app", a.Name, "err", err)
		}
		return false
	}
	if n, err := w.st.ReclaimWork(ctx, a.ID, w.owner); err != nil {
		w.log.Warn("reclaim work failed", "app", a.Name, "err", err)
	} else if n > 0 {
		w.log.Info("took back work a previous lane holder left", "app", a.Name, "items", n)
	}
	l := &lane{lim: newBudget(a.Settings.Budget.PerSecond()), done: make(chan struct{})}
	l.app.Store(&a)
	l.validUntil.Store(start.Add(w.validFor()).UnixNano())
	w.mu.Lock()
	w.lanes[a.ID] = l
	w.mu.Unlock()
	w.log.Info("lane taken", "app", a.Name, "owner", w.owner)
	w.runners.Add(1)
	go w.work(hard, l)
	return true
}

// work syncs one app until its lane stops, then gives the lane up.
func (w *Worker) work(hard context.Context, l *lane) {
	defer w.runners.Done()
	defer close(l.done)
	a := l.app.Load()
	for w.mayWork(l) && hard.Err() == nil {
		a = l.app.Load()
		woken := w.eng.wake.wait()
		st, err := w.eng.syncOrReconcile(hard, *a)
		if err != nil && hard.Err() == nil && !errors.Is(err, ErrGuard) {
			w.log.Error("sync failed", "app", a.Name, "err", err)
		}
		if st.Items == 0 || err != nil {
			w.sleep(hard, l, woken)
		}
	}
	w.release(a)
}

// sleep waits for more work: Idle, or less if the lane stops meanwhile or
// work is queued in this process (woken).
func (w *Worker) sleep(ctx context.Context, l *lane, woken <-chan struct{}) {
	for end := time.Now().Add(w.cfg.Engine.Idle); time.Now().Before(end) && w.mayWork(l); {
		select {
		case <-ctx.Done():
			return
		case <-woken:
			return
		case <-time.After(min(50*time.Millisecond, time.Until(end))):
		}
	}
}

// release hands back any leases the runner still holds and frees the lane after its cooldown.
func (w *Worker) release(a *app.Instance) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.st.ReleaseWork(ctx, a.ID, w.owner); err != nil {
		w.log.Warn("hand back work failed", "app", a.Name, "err", err)
	}
	if err := w.st.ReleaseLane(ctx, a.ID, w.owner, w.cfg.Cooldown); err != nil {
		w.log.Warn("release lane failed", "app", a.Name, "err", err)
	}
	w.mu.Lock()
	delete(w.lanes, a.ID)
	w.mu.Unlock()
	w.log.Info("lane released", "app", a.Name, "owner", w.owner)
}

// mayWork says whether the lane may claim more work.
func (w *Worker) mayWork(l *lane) bool {
	return !w.draining.Load() && !l.stopping.Load() && time.Now().UnixNano() < l.validUntil.Load()
}

// held says whether calls to the app may still go: the lease cannot have
// passed to another worker yet.
func (l *lane) held() bool { return time.Now().UnixNano() < l.validUntil.Load() }

func (w *Worker) heldLanes() map[int64]*lane {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[int64]*lane, len(w.lanes))
	for id, l := range w.lanes {
		out[id] = l
	}
	return out
}

func (w *Worker) laneOf(appID int64) *lane {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lanes[appID]
}

// shutdown drains the runners within the bound, then hands everything back.
func (w *Worker) shutdown(cancelHard context.CancelFunc) error {
	w.draining.Store(true)
	w.log.Info("worker stopping: no new claims; finishing in-flight work", "owner", w.owner, "bound", w.cfg.Drain)
	done := make(chan struct{})
	go func() { w.runners.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.Drain):
		w.log.Warn("in-flight work did not finish in time; cancelling it", "owner", w.owner)
		cancelHard()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := w.st.ReleaseWork(ctx, 0, w.owner)
	if err == nil {
		err = w.st.LeaveFleet(ctx, w.owner)
	}
	if err != nil {
		return fmt.Errorf("leave fleet: %w", err)
	}
	w.log.Info("worker stopped", "owner", w.owner, "handed_back", n)
	return nil
}

// Ready reports whether the worker takes part in the fleet: not shutting
// down, and its last heartbeat reached the database recently.
func (w *Worker) Ready() error {
	if w.draining.Load() {
		return errors.New("worker is shutting down")
	}
	last := w.lastBeat.Load()
	if last == 0 {
		return errors.New("worker has not joined the fleet yet")
	}
	if since := time.Since(time.Unix(0, last)); since > 3*w.cfg.Tick {
		return fmt.Errorf("no heartbeat reached the database for %s", since.Round(time.Second))
	}
	return nil
}

// Healthy reports whether the control loop still runs.
func (w *Worker) Healthy() error {
	last := w.lastTick.Load()
	if last == 0 {
		return nil // Run has not started
	}
	if since := time.Since(time.Unix(0, last)); since > 3*w.cfg.Tick+w.cfg.Drain && !w.draining.Load() {
		return fmt.Errorf("worker loop stalled for %s", since.Round(time.Second))
	}
	return nil
}

// connect builds an app's connector for the engine, paced by the lane's
// budget and observed; the engine calls it only for a held lane.
func (w *Worker) connect(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
	l := w.laneOf(a.ID)
	if l == nil {
		return nil, fmt.Errorf("app %s: %w", a.Name, errLaneLost)
	}
	var pacer connector.Pacer = budgetPacer{Pacer: p, lim: l.lim, held: l.held}
	calls := w.cfg.Observer.Calls(a.Name)
	if calls != nil {
		pacer = connector.InstrumentPacer(pacer, calls)
	}
	c, err := w.inner(ctx, a, pacer)
	if err != nil || calls == nil {
		return c, err
	}
	return connector.Instrument(c, calls), nil
}

// fleetStore lets a worker gate claims by its lanes and observe outcomes
// without the engine knowing either.
type fleetStore struct {
	FleetStore
	w *Worker
}

// ClaimWork leases only an app whose lane the worker holds, no more than
// the lane's budget lets it call for in half the lease, whatever the kind.
func (s fleetStore) ClaimWork(ctx context.Context, c store.Claim) ([]store.WorkItem, error) {
	l := s.w.laneOf(c.AppID)
	if l == nil || !s.w.mayWork(l) {
		return nil, nil
	}
	c.Limit = min(c.Limit, s.w.cfg.Engine.claimSize(float64(l.lim.Limit())))
	return s.FleetStore.ClaimWork(ctx, c)
}

func (s fleetStore) FinishWork(ctx context.Context, owner string, outs []store.Outcome) error {
	if err := s.FleetStore.FinishWork(ctx, owner, outs); err != nil {
		return err
	}
	if len(outs) > 0 {
		name := ""
		if l := s.w.laneOf(outs[0].Item.AppID); l != nil {
			name = l.app.Load().Name
		}
		observeOutcomes(s.w.cfg.Observer, name, outs)
	}
	return nil
}
