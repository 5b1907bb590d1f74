package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Connect makes the connector of one app instance; the engine supplies the
// decrypted token and the app's pacer.
type Connect func(ctx context.Context, a app.Instance, pacer connector.Pacer) (connector.Connector, error)

// Config tunes the engine; zero values take the defaults.
type Config struct {
	Owner       string        // lease owner name; unique per process
	Batch       int           // items claimed at once (default 2000), fewer when a call rate applies (claimSize)
	Lease       time.Duration // how long a claim lasts (default 2m)
	MaxAttempts int           // failures before an item becomes a task (default 8)
	BaseBackoff time.Duration // first retry delay (default 2s), doubled per attempt with jitter
	MaxBackoff  time.Duration // cap on the retry delay (default 10m)
	Parallel    int           // concurrent calls per batch for non-create actions (default 8)
	Lanes       int           // batches of one app processed at once (default 4); claims keep them apart
	RatePerApp  float64       // calls per second per app; 0 means only obey Retry-After
	Idle        time.Duration // how long Run sleeps when there is no work (default 1s)
	// Kinds are the app kinds this binary supports: their name rules and
	// roles. Nil: names go to the app as the directory holds them.
	Kinds *connector.Registry
}

func (c *Config) defaults() {
	if c.Owner == "" {
		c.Owner = fmt.Sprintf("roster-%d", rand.Int64())
	}
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&c.Batch, 2000)
	set(&c.MaxAttempts, 8)
	set(&c.Parallel, 8)
	set(&c.Lanes, 4)
	setD(&c.Lease, 2*time.Minute)
	setD(&c.BaseBackoff, 2*time.Second)
	setD(&c.MaxBackoff, 10*time.Minute)
	setD(&c.Idle, time.Second)
}

// Engine runs provisioning work.
type Engine struct {
	st      Store
	connect Connect
	log     *slog.Logger
	cfg     Config

	wake waker // closes when work is queued in this process

	mu     sync.Mutex
	pacers map[int64]*Pacer
	guards map[int64]int // last deletion-guard trip per app, to log it once
}

// New makes an engine.
func New(st Store, connect Connect, log *slog.Logger, cfg Config) *Engine {
	cfg.defaults()
	return &Engine{st: st, connect: connect, log: log, cfg: cfg, pacers: map[int64]*Pacer{}, guards: map[int64]int{}}
}

// pacer returns the app's shared pacer, so every batch of one app shares one budget.
func (e *Engine) pacer(appID int64) *Pacer {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.pacers[appID]
	if !ok {
		p = NewPacer(e.cfg.RatePerApp)
		e.pacers[appID] = p
	}
	return p
}

// Stats counts what a run did.
type Stats struct {
	Items    int            `json:"items"`
	Done     int            `json:"done"`
	Retrying int            `json:"retrying"`
	Tasks    int            `json:"tasks"`
	Held     int            `json:"held"` // off-boardings the deletion guard holds for an admin
	Ops      map[string]int `json:"ops"`
}

func (s *Stats) add(o Stats) {
	s.Items += o.Items
	s.Done += o.Done
	s.Retrying += o.Retrying
	s.Tasks += o.Tasks
	s.Held += o.Held
	if s.Ops == nil {
		s.Ops = map[string]int{}
	}
	for k, v := range o.Ops {
		s.Ops[k] += v
	}
}

// SyncOptions adjust one sync.
type SyncOptions struct {
	// AllowDeletes releases, as confirmed by Actor, the off-boardings the
	// deletion guard holds, before the sync runs.
	AllowDeletes bool
	Actor        store.Actor
	Progress     func(Stats) // called after each batch with the totals so far
}

// Sync processes an app's due work until none is left. Off-boardings the
// deletion guard holds wait for an admin; the sync then answers a
// *GuardError after doing everything else.
func (e *Engine) Sync(ctx context.Context, a app.Instance, opt SyncOptions) (Stats, error) {
	var total Stats
	if err := provisioning(a); err != nil {
		return total, err
	}
	if opt.AllowDeletes {
		by := opt.Actor
		if by == "" {
			by = "admin"
		}
		if _, err := e.st.ReleaseHeld(ctx, by, a.ID, nil); err != nil {
			return total, fmt.Errorf("release held off-boardings: %w", err)
		}
	}
	if _, err := e.st.QueueDueRemovals(ctx, a.ID, time.Now()); err != nil {
		return total, fmt.Errorf("queue removals whose grace ended: %w", err)
	}
	conn, err := e.connect(ctx, a, e.pacer(a.ID))
	if err != nil {
		return total, err
	}
	// Each kind in turn (see reconcilers); only what was due when the pass
	// began is worked.
	p := &Pass{App: a, Conn: conn, DueBy: time.Now()}
	for _, r := range e.reconcilers() {
		if err = e.work(ctx, p, r, &total, opt.Progress); err != nil {
			return total, err
		}
	}
	// Held in this pass or an earlier one: the sync is not done while an
	// admin has not decided.
	held, err := e.st.HeldOffboardings(ctx, a.ID)
	if err == nil && held > 0 {
		err = e.heldError(ctx, a, held)
	}
	return total, err
}

// claimSize is how many items a lane claims at once. Large batches make
// few, large commits: a 100,000-user push ran 13% faster with 2,000 than
// with 500. At a call rate (calls per second), a lane claims no more than
// it can make one call each for in half the lease, so that no lease runs
// out while its batch waits for the budget.
func (c *Config) claimSize(rate float64) int {
	if rate <= 0 {
		return c.Batch
	}
	return min(c.Batch, max(1, int(rate*c.Lease.Seconds()/2/float64(c.Lanes))))
}

// provisioning refuses work on an app whose provisioning is off.
func provisioning(a app.Instance) error {
	if !a.Settings.Provisioning {
		return fmt.Errorf("%w: provisioning is not enabled for app %s (roster apps set %s provisioning=true)", directory.ErrInvalid, a.Name, a.Name)
	}
	return nil
}

// backoff is the delay before attempt n+1: exponential with full jitter, capped.
func (e *Engine) backoff(attempts int) time.Duration {
	d := e.cfg.BaseBackoff << min(attempts, 20)
	if d > e.cfg.MaxBackoff || d <= 0 {
		d = e.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// outcomeFor turns an item's final error into a retry or a task.
func (e *Engine) outcomeFor(o *store.Outcome, err error, now time.Time) {
	if err == nil {
		return
	}
	o.Err = err
	kind := connector.KindOf(err)
	switch {
	case kind == connector.Permanent || kind == connector.Auth || o.Item.Attempts+1 >= e.cfg.MaxAttempts:
		o.GiveUp = true
		o.RetryAt = now
	case kind == connector.RateLimited:
		d, _ := connector.RetryAfterOf(err)
		o.RetryAt = now.Add(max(d, time.Second))
	case kind == connector.Conflict || kind == connector.NotFound:
		o.RetryAt = now // state was refreshed: re-plan at once
	default:
		o.RetryAt = now.Add(e.backoff(o.Item.Attempts))
	}
}

// errPartial asks for an immediate re-plan: part of the work is left for the next round.
var errPartial = &connector.Error{Kind: connector.Conflict, Op: "plan", Msg: "some changes are still pending"}

// The log's actions for the engine's work in an app, whatever its kind:
// "account.create", "account.remove", … for members, "app_group.create",
// "app_group.add_members", … for pushed groups.
const (
	ActionAccountPrefix = "account."
	ActionGroupPrefix   = "app_group."
)

// OpLabel is the short name of a logged operation for a summary: "create"
// for account.create, "group.create" for app_group.create.
func OpLabel(action string) string {
	if op, ok := strings.CutPrefix(action, ActionGroupPrefix); ok {
		return "group." + op
	}
	return strings.TrimPrefix(action, ActionAccountPrefix)
}

func logEntry(a app.Instance, username, op, outcome, msg string, detail map[string]any) audit.Entry {
	return audit.Entry{Actor: "engine", Action: ActionAccountPrefix + op, TargetKind: "user", Target: username,
		App: a.Name, Outcome: outcome, Message: msg, Detail: detail}
}
