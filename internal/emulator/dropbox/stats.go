package dropbox

import (
	"maps"
	"sync"
	"time"
)

// Stats is a snapshot of a team's call counters, kept from the emulator's
// start or the last ResetCalls. A call counts once it is authenticated as the
// team's, whatever its answer. Rates are the most events seen in any sliding
// one-second window of wall time, so tests can check a client's pacing.
type Stats struct {
	Calls        int64            `json:"calls"`
	Writes       int64            `json:"writes"`          // calls to routes that change state, refused ones included
	Routes       map[string]int64 `json:"calls_per_route"` // "team/members/add_v2" -> calls
	Got429       int64            `json:"answered_429"`    // injected and write-budget 429s
	WriteLimited int64            `json:"answered_429_write_limit"`
	Got5xx       int64            `json:"answered_5xx"`
	Lost         int64            `json:"answers_lost"`
	MaxRate      int              `json:"max_calls_per_second"`
	MaxWriteRate int              `json:"max_writes_per_second"` // writes sent, refused ones included
	// Calls that arrived while a Retry-After of a 429 answered to the team
	// had not passed, refused ones included: a client that honours every
	// Retry-After makes none, but for calls already on their way.
	RetryAfterCalls int64 `json:"calls_in_retry_after"`
}

// teamStats counts the calls that reached a team (after authentication).
type teamStats struct {
	mu            sync.Mutex
	s             Stats
	calls, writes window
	quietUntil    time.Time // the latest end of a Retry-After the team was given; kept by reset
}

func (st *teamStats) record(route string, write bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now() // read under the lock, so the window's times stay in order
	if st.s.Routes == nil {
		st.s.Routes = map[string]int64{}
	}
	st.s.Routes[route]++
	st.s.Calls++
	if now.Before(st.quietUntil) {
		st.s.RetryAfterCalls++
	}
	st.s.MaxRate = max(st.s.MaxRate, st.calls.add(now))
	if write {
		st.s.Writes++
		st.s.MaxWriteRate = max(st.s.MaxWriteRate, st.writes.add(now))
	}
}

// add429 counts a 429 answered now with Retry-After after.
func (st *teamStats) add429(writeLimit bool, after time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if until := time.Now().Add(after); until.After(st.quietUntil) {
		st.quietUntil = until
	}
	st.s.Got429++
	if writeLimit {
		st.s.WriteLimited++
	}
}

func (st *teamStats) add5xx()  { st.mu.Lock(); st.s.Got5xx++; st.mu.Unlock() }
func (st *teamStats) addLost() { st.mu.Lock(); st.s.Lost++; st.mu.Unlock() }

func (st *teamStats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.Routes = maps.Clone(st.s.Routes)
	if s.Routes == nil {
		s.Routes = map[string]int64{} // JSON {} rather than null
	}
	return s
}

func (st *teamStats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s, st.calls, st.writes = Stats{}, window{}, window{}
}

// window holds the times of the events of the last second; add returns how
// many there are. Amortised O(1): each time is appended and dropped once.
type window struct {
	ts   []time.Time
	head int
}

func (w *window) add(now time.Time) int {
	w.ts = append(w.ts, now)
	for now.Sub(w.ts[w.head]) >= time.Second {
		w.head++
	}
	if w.head > 1024 && 2*w.head > len(w.ts) {
		w.ts = append(w.ts[:0], w.ts[w.head:]...)
		w.head = 0
	}
	return len(w.ts) - w.head
}

// StatsReport is every counter at once: calls per route over all teams
// (unauthenticated calls included) and each team's Stats. It is also the
// body of GET /_emulator/stats.
type StatsReport struct {
	Calls map[string]int64 `json:"calls"`
	Teams map[string]Stats `json:"teams"`
}

// Stats returns the counters of the whole emulator.
func (s *Server) Stats() StatsReport {
	r := StatsReport{Calls: s.Calls(), Teams: map[string]Stats{}}
	for _, t := range s.allTeams() {
		r.Teams[t.name] = t.stats.snapshot()
	}
	return r
}
