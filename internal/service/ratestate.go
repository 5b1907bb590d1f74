package service

import (
	"context"

	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// rateReader is a runner or engine that can tell an app's rate limiting.
type rateReader interface {
	RateState(appID int64) engine.RateState
}

// RateState is an app's rate limiting as this process's calls met it (429
// answers, and when calls resume): read from the runner when it makes the
// calls (a fleet worker), else from the engine. A process that makes no
// calls to the app knows of none.
func (s *Service) RateState(appID int64) engine.RateState {
	if r, ok := s.opt.Runner.(rateReader); ok {
		return r.RateState(appID)
	}
	if s.opt.Engine != nil {
		return s.opt.Engine.RateState(appID)
	}
	return engine.RateState{}
}

// CallRate is the rate an app is called at now and why (slow start, backed
// off after a 429, …), as the fleet's worker holding the app last saved it;
// ok is false before any worker has. A store without lanes knows none.
func (s *Service) CallRate(ctx context.Context, appID int64) (p store.Pace, ok bool, err error) {
	lr, isLanes := s.st.(engine.LaneReader)
	if !isLanes {
		return store.Pace{}, false, nil
	}
	return engine.PaceOf(ctx, lr, appID)
}
