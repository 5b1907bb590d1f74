package service

import (
	"context"
	"errors"

	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// SyncRequest is one "sync now".
type SyncRequest struct {
	// Full lists the whole team first and re-plans every user the app holds
	// or should hold against it (a full reconciliation), as a full plan shows.
	Full bool
	// AllowDeletes releases, as confirmed by the actor, what the deletion
	// guard holds.
	AllowDeletes bool
}

// SyncResult is what a sync did.
type SyncResult struct {
	Stats  engine.Stats
	Queued int            // users a full sync found to change
	Survey *engine.Survey // what listing the team found, in a full sync
	// Elsewhere is set when another worker of the fleet holds the app's
	// lane: it does the work (and a full sync, recorded as requested).
	Elsewhere *engine.LaneElsewhereError
}

// Sync runs the app's queued work now, or a full reconciliation: the one
// "sync now" of the API, the CLI and the web UI's Apply. A *engine.GuardError
// says the deletion guard holds off-boardings; the rest was done.
func (s *Service) Sync(ctx context.Context, by store.Actor, appName string, req SyncRequest) (SyncResult, error) {
	var res SyncResult
	run := s.runner()
	if run == nil {
		return res, ErrNoEngine
	}
	if err := s.allow(ctx, by, "sync.run", appName); err != nil {
		return res, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return res, err
	}
	opt := engine.SyncOptions{AllowDeletes: req.AllowDeletes, Actor: by}
	if opt.AllowDeletes {
		// Released here, not by the runner: the lane may be another
		// worker's, which then does the released work.
		if _, err := s.st.ReleaseHeld(ctx, by, a.ID, nil); err != nil {
			return res, err
		}
	}
	if req.Full {
		var rr engine.ReconcileResult
		rr, err = run.Reconcile(ctx, a, opt)
		res.Stats, res.Queued, res.Survey = rr.Stats, rr.Queued, rr.Survey
	} else {
		res.Stats, err = run.Sync(ctx, a, opt)
	}
	if errors.As(err, &res.Elsewhere) {
		if req.Full {
			return res, engine.RequestFullSync(ctx, s.st, by, a)
		}
		return res, nil
	}
	return res, err
}
