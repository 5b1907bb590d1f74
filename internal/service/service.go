// Package service holds Roster's use cases: what an admin can do, whichever
// face they use. The JSON API, the web UI and the CLI (through the API) all
// call these functions; each face only reads its input and presents the
// result. Validation and the authorisation hook are applied here once; the
// system log is written by the store in the same transaction as each change.
package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
)

// Store is what the use cases need from persistence.
type Store interface {
	engine.Store
	store.Store
	store.Engine // tasks
	store.Offboardings
}

// Authorizer decides whether an actor may do an action (a use case's name,
// such as "sync.apply") on a target (an app, user or group name). Roles for
// admins come later; today every authenticated admin may do everything.
type Authorizer interface {
	Authorize(ctx context.Context, by store.Actor, action, target string) error
}

// AllowAll is the Authorizer of a Roster without admin roles.
type AllowAll struct{}

// Authorize allows everything.
func (AllowAll) Authorize(context.Context, store.Actor, string, string) error { return nil }

// Options are the parts of a running Roster the use cases reach.
type Options struct {
	Engine  *engine.Engine // plans, and runs syncs unless Runner is set; nil: no provisioning
	Runner  engine.Runner  // runs syncs in a fleet: within the app's lane
	Connect engine.Connect // reaches an app, for test connection and settings checks
	Auth    Authorizer     // nil: AllowAll
	PlanTTL time.Duration  // how long a plan is kept for apply by id (default 1h)
	Now     func() time.Time

	Kinds    Kinds    // app kinds apps may be of; nil: every kind this binary has
	Importer Importer // runs imports and their review; nil: refused

	// SourceKinds are the kinds of directory source that may be added;
	// nil: DefaultSourceKinds.
	SourceKinds []SourceKind
	// Wake tells this process's worker that work was queued, so it claims
	// it at once instead of at its next idle tick; nil: nothing to wake.
	Wake func()
}

// Service runs the use cases.
type Service struct {
	st    Store
	box   *secret.Box
	opt   Options
	plans *planCache
	// syncing holds the names of sources being synced in this process: a
	// manual sync and the schedule never read and apply the same source at
	// once.
	syncing sync.Map
}

// New makes the service.
func New(st Store, box *secret.Box, opt Options) *Service {
	if opt.Auth == nil {
		opt.Auth = AllowAll{}
	}
	if opt.PlanTTL <= 0 {
		opt.PlanTTL = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, box: box, opt: opt, plans: newPlanCache(opt.PlanTTL, opt.Now)}
}

// ErrNoEngine says that this server runs no provisioning engine.
var ErrNoEngine = fmt.Errorf("%w: this server runs no provisioning engine", directory.ErrInvalid)

// HasEngine says whether syncs and plans can run here.
func (s *Service) HasEngine() bool { return s.opt.Engine != nil }

// runner runs syncs: the fleet's when set, else the engine's.
func (s *Service) runner() engine.Runner {
	if s.opt.Runner != nil {
		return s.opt.Runner
	}
	if s.opt.Engine == nil {
		return nil
	}
	return s.opt.Engine
}

func (s *Service) allow(ctx context.Context, by store.Actor, action, target string) error {
	return s.opt.Auth.Authorize(ctx, by, action, target)
}
