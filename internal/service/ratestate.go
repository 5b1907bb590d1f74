package service

import "github.com/roster-dev/roster/internal/engine"

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
