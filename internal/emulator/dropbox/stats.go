package dropbox

import (
	"sync"
	"time"
)

// Stats is a snapshot of a team's call counters. Rates are the most calls
// seen in any one-second window (wall time), so tests can check a client's pacing.
type Stats struct {
	Calls        int64 `json:"calls"`
	Writes       int64 `json:"writes"`
	Got429       int64 `json:"answered_429"`
	Got5xx       int64 `json:"answered_5xx"`
	Lost         int64 `json:"answers_lost"`
	MaxRate      int   `json:"max_calls_per_second"`
	MaxWriteRate int   `json:"max_writes_per_second"`
}

// teamStats counts the calls that reached a team (after authentication).
type teamStats struct {
	mu            sync.Mutex
	s             Stats
	calls, writes window
}

func (st *teamStats) record(write bool) {
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Calls++
	st.s.MaxRate = max(st.s.MaxRate, st.calls.add(now))
	if write {
		st.s.Writes++
		st.s.MaxWriteRate = max(st.s.MaxWriteRate, st.writes.add(now))
	}
}

func (st *teamStats) add429()  { st.mu.Lock(); st.s.Got429++; st.mu.Unlock() }
func (st *teamStats) add5xx()  { st.mu.Lock(); st.s.Got5xx++; st.mu.Unlock() }
func (st *teamStats) addLost() { st.mu.Lock(); st.s.Lost++; st.mu.Unlock() }

func (st *teamStats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
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
