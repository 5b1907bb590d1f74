package engine

import (
	"context"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
)

// Group push (MISSION F7) is not built yet; these are the engine's hook
// points for it: Sync calls syncGroups after the users, Plan calls planGroups.

// GroupChange is one intended change to a pushed group, as a plan shows it.
type GroupChange struct {
	Group string `json:"group"`
	Op    string `json:"op"`
}

func (e *Engine) syncGroups(ctx context.Context, a app.Instance, conn connector.Connector, dueBy time.Time) (Stats, error) {
	return Stats{}, nil
}

func (e *Engine) planGroups(ctx context.Context, a app.Instance, p *Preview) error {
	return nil
}
