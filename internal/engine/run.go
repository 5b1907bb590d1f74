package engine

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/app"
)

// Run works every app with provisioning enabled until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	for {
		woken := e.wake.wait()
		apps, err := e.st.ListApps(ctx)
		if err != nil {
			e.log.Error("list apps", "err", err)
		}
		busy := false
		for _, a := range apps {
			if !a.Settings.Provisioning || !a.HasToken {
				continue
			}
			st, err := e.syncOrReconcile(ctx, a)
			if err != nil && ctx.Err() == nil && !errors.Is(err, ErrGuard) {
				e.log.Error("sync failed", "app", a.Name, "err", err)
			}
			busy = busy || st.Items > 0
		}
		if !busy {
			select {
			case <-ctx.Done():
				return nil
			case <-woken:
			case <-time.After(e.cfg.Idle):
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// syncOrReconcile runs the app's scheduled full reconciliation when it is
// due, and an ordinary sync otherwise.
func (e *Engine) syncOrReconcile(ctx context.Context, a app.Instance) (Stats, error) {
	due, err := e.FullSyncDue(ctx, a)
	if err != nil || !due {
		return e.Sync(ctx, a, SyncOptions{})
	}
	res, err := e.Reconcile(ctx, a, SyncOptions{})
	return res.Stats, err
}
