package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Runner runs an app's work on an admin's request ("sync now"). An Engine
// runs it itself; in a fleet, the worker holding the app's lane must, so
// that the app's calls stay within its budget.
type Runner interface {
	Sync(ctx context.Context, a app.Instance, opt SyncOptions) (Stats, error)
	Reconcile(ctx context.Context, a app.Instance, opt SyncOptions) (ReconcileResult, error)
}

// LaneElsewhereError refuses a sync now because another worker of the
// fleet holds the app's lane (or none does yet); that worker does the
// app's queued work, within the app's call budget.
type LaneElsewhereError struct {
	App   string `json:"app"`
	Owner string `json:"owner"` // "" when no worker holds the lane yet
}

func (e *LaneElsewhereError) Error() string {
	if e.Owner == "" {
		return fmt.Sprintf("no worker holds app %s yet; its queued work starts within seconds, when one takes it", e.App)
	}
	return fmt.Sprintf("app %s is worked by %s: its queued work is done there, within the app's call budget", e.App, e.Owner)
}

// Sync runs a sync of an app whose lane this worker holds, through the
// lane's budget; for any other app it answers LaneElsewhereError.
func (w *Worker) Sync(ctx context.Context, a app.Instance, opt SyncOptions) (Stats, error) {
	if err := w.holding(ctx, a); err != nil {
		return Stats{}, err
	}
	return w.eng.Sync(ctx, a, opt)
}

// Reconcile is Sync for a full reconciliation.
func (w *Worker) Reconcile(ctx context.Context, a app.Instance, opt SyncOptions) (ReconcileResult, error) {
	if err := w.holding(ctx, a); err != nil {
		return ReconcileResult{}, err
	}
	return w.eng.Reconcile(ctx, a, opt)
}

func (w *Worker) holding(ctx context.Context, a app.Instance) error {
	if l := w.laneOf(a.ID); l != nil && w.mayWork(l) {
		return nil
	}
	// Workers take only apps with provisioning on and a token: say which is missing.
	if err := provisioning(a); err != nil {
		return err
	}
	if !a.HasToken {
		return fmt.Errorf("%w: app %s is not connected to Dropbox yet; use Authenticate with Dropbox Business or paste a team token", directory.ErrInvalid, a.Name)
	}
	owner, err := laneHolder(ctx, w.st, a.ID)
	if err != nil {
		return err
	}
	return &LaneElsewhereError{App: a.Name, Owner: owner}
}

// LaneRunner runs syncs now in a process without a worker (serve --role
// api): itself when no worker holds the app's lane, and otherwise it
// leaves the work to the worker that does.
type LaneRunner struct {
	*Engine
	Fleet store.Fleet
}

// Sync runs the sync unless a worker holds the app's lane.
func (r LaneRunner) Sync(ctx context.Context, a app.Instance, opt SyncOptions) (Stats, error) {
	if err := r.free(ctx, a); err != nil {
		return Stats{}, err
	}
	return r.Engine.Sync(ctx, a, opt)
}

// Reconcile is Sync for a full reconciliation.
func (r LaneRunner) Reconcile(ctx context.Context, a app.Instance, opt SyncOptions) (ReconcileResult, error) {
	if err := r.free(ctx, a); err != nil {
		return ReconcileResult{}, err
	}
	return r.Engine.Reconcile(ctx, a, opt)
}

func (r LaneRunner) free(ctx context.Context, a app.Instance) error {
	owner, err := laneHolder(ctx, r.Fleet, a.ID)
	if err != nil || owner == "" {
		return err
	}
	return &LaneElsewhereError{App: a.Name, Owner: owner}
}

// laneHolder names the worker whose lease on the app's lane is current, or "".
func laneHolder(ctx context.Context, f store.Fleet, appID int64) (string, error) {
	lanes, err := f.Lanes(ctx)
	if err != nil {
		return "", fmt.Errorf("find the app's worker: %w", err)
	}
	for _, l := range lanes {
		if l.AppID == appID && l.Owner != "" && l.Until.After(time.Now()) {
			return l.Owner, nil
		}
	}
	return "", nil
}

var (
	_ Runner = (*Engine)(nil)
	_ Runner = (*Worker)(nil)
	_ Runner = LaneRunner{}
)
