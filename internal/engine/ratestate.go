package engine

import "time"

// RateState is what an app's pacer in this process knows of the app's rate
// limiting now: the 429 answers it was told about and when calls resume.
// It is this process's view: in a fleet, the worker holding the app's lane
// makes the calls.
type RateState struct {
	LastHour int       // 429 answers in the last hour
	Total    int       // 429 answers since this process started
	Last     time.Time // the latest 429; zero if none
	ResumeAt time.Time // calls wait until then; zero or past when they flow
}

// rateLimited counts 429 answers by minute for the last hour.
type rateLimited struct {
	total   int
	last    time.Time
	minutes [60]struct {
		at int64 // the unix minute counted in n
		n  int
	}
}

func (r *rateLimited) record(now time.Time) {
	r.total++
	r.last = now
	m := now.Unix() / 60
	b := &r.minutes[m%60]
	if b.at != m {
		b.at, b.n = m, 0
	}
	b.n++
}

func (r *rateLimited) lastHour(now time.Time) int {
	m, n := now.Unix()/60, 0
	for _, b := range r.minutes {
		if b.at > m-60 && b.at <= m {
			n += b.n
		}
	}
	return n
}

// RateState reads the pacer's view of the app's rate limiting.
func (p *Pacer) RateState() RateState {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	st := RateState{LastHour: p.limited.lastHour(now), Total: p.limited.total, Last: p.limited.last}
	if p.pausedUntil.After(now) {
		st.ResumeAt = p.pausedUntil
	}
	return st
}

// RateState is the rate limiting of an app as this engine's calls met it.
func (e *Engine) RateState(appID int64) RateState {
	e.mu.Lock()
	p, ok := e.pacers[appID]
	e.mu.Unlock()
	if !ok {
		return RateState{}
	}
	return p.RateState()
}

// RateState is the rate limiting of an app as this worker's calls met it.
func (w *Worker) RateState(appID int64) RateState { return w.eng.RateState(appID) }
