package dropbox

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults are the failures (and async behaviour) the emulator injects into
// Team API calls. The zero value injects nothing. See the package
// documentation for the compact spec ParseFaults reads.
type Faults struct {
	Latency      time.Duration // fixed delay before every call
	Jitter       time.Duration // extra random delay in [0, Jitter)
	Rate429      float64       // share of calls answered 429
	Plain429     float64       // share of injected 429s with a plain-text body
	RetryAfter   int           // Retry-After seconds of injected 429s and 503s; 0: 1
	Rate5xx      float64       // share of calls answered 500 or 503
	Code5xx      int           // status of injected 5xx; 0: 500 and 503 at random
	Lost         float64       // share of writes committed whose answer is lost
	WritesPerSec float64       // per-team write budget; 0: unlimited
	WriteBurst   int           // token bucket size; 0: max(1, WritesPerSec)
	Routes       []string      // limit Rate429, Rate5xx and Lost to these routes ("members/add_v2")
	AsyncAdd     int           // add_v2 batches of at least this size answer async; 0: only force_async
	JobPolls     int           // in_progress answers before an async job completes
	JobFail      float64       // share of async jobs that end in internal_error
	Seed         uint64        // random seed; 0: random
}

// ParseFaults reads the compact spec described in the package documentation,
// e.g. "latency=5ms,rate429=0.05,writes_per_sec=100,seed=42".
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: want key=value", part)
		}
		if err := f.set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return Faults{}, fmt.Errorf("fault %s: %w", k, err)
		}
	}
	return f, nil
}

type faultKey struct {
	name string
	set  func(f *Faults, v string) error
	get  func(f Faults) string // "" when unset
}

func faultKeys() []faultKey {
	return []faultKey{
		{"latency", func(f *Faults, v string) error { return parseDur(v, &f.Latency) }, func(f Faults) string { return durStr(f.Latency) }},
		{"jitter", func(f *Faults, v string) error { return parseDur(v, &f.Jitter) }, func(f Faults) string { return durStr(f.Jitter) }},
		{"rate429", func(f *Faults, v string) error { return parseShare(v, &f.Rate429) }, func(f Faults) string { return floatStr(f.Rate429) }},
		{"plain429", func(f *Faults, v string) error { return parseShare(v, &f.Plain429) }, func(f Faults) string { return floatStr(f.Plain429) }},
		{"retry_after", func(f *Faults, v string) error { return parseInt(v, 0, 86400, &f.RetryAfter) }, func(f Faults) string { return intStr(f.RetryAfter) }},
		{"rate5xx", func(f *Faults, v string) error { return parseShare(v, &f.Rate5xx) }, func(f Faults) string { return floatStr(f.Rate5xx) }},
		{"code5xx", func(f *Faults, v string) error { return parseInt(v, 500, 599, &f.Code5xx) }, func(f Faults) string { return intStr(f.Code5xx) }},
		{"lost", func(f *Faults, v string) error { return parseShare(v, &f.Lost) }, func(f Faults) string { return floatStr(f.Lost) }},
		{"writes_per_sec", parseRate, func(f Faults) string { return floatStr(f.WritesPerSec) }},
		{"write_burst", func(f *Faults, v string) error { return parseInt(v, 0, math.MaxInt32, &f.WriteBurst) }, func(f Faults) string { return intStr(f.WriteBurst) }},
		{"routes", parseRoutes, func(f Faults) string { return strings.Join(f.Routes, "|") }},
		{"async_add", func(f *Faults, v string) error { return parseInt(v, 0, 20, &f.AsyncAdd) }, func(f Faults) string { return intStr(f.AsyncAdd) }},
		{"job_polls", func(f *Faults, v string) error { return parseInt(v, 0, 1000, &f.JobPolls) }, func(f Faults) string { return intStr(f.JobPolls) }},
		{"job_fail", func(f *Faults, v string) error { return parseShare(v, &f.JobFail) }, func(f Faults) string { return floatStr(f.JobFail) }},
		{"seed", parseSeed, func(f Faults) string { return uintStr(f.Seed) }},
	}
}

func (f *Faults) set(k, v string) error {
	for _, fk := range faultKeys() {
		if fk.name == k {
			return fk.set(f, v)
		}
	}
	names := make([]string, 0, 16)
	for _, fk := range faultKeys() {
		names = append(names, fk.name)
	}
	return fmt.Errorf("unknown fault (known: %s)", strings.Join(names, ", "))
}

// String renders the faults in the compact spec form; ParseFaults reads it back.
func (f Faults) String() string {
	var parts []string
	for _, fk := range faultKeys() {
		if v := fk.get(f); v != "" {
			parts = append(parts, fk.name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

func parseDur(v string, dst *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a duration such as 5ms", v)
	}
	*dst = d
	return nil
}

func parseShare(v string, dst *float64) error {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || x > 1 {
		return fmt.Errorf("%q is not a share between 0 and 1", v)
	}
	*dst = x
	return nil
}

func parseInt(v string, lo, hi int, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("%q is not a whole number in [%d, %d]", v, lo, hi)
	}
	*dst = n
	return nil
}

func parseRate(f *Faults, v string) error {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 || math.IsInf(x, 0) {
		return fmt.Errorf("%q is not a rate", v)
	}
	f.WritesPerSec = x
	return nil
}

func parseRoutes(f *Faults, v string) error {
	f.Routes = nil
	for r := range strings.SplitSeq(v, "|") {
		if r = strings.Trim(strings.TrimSpace(r), "/"); r != "" {
			f.Routes = append(f.Routes, strings.TrimPrefix(r, "team/"))
		}
	}
	return nil
}

func parseSeed(f *Faults, v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	f.Seed = n
	return nil
}

func durStr(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func floatStr(x float64) string {
	if x == 0 {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func intStr(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func uintStr(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// faultState applies the current faults; one is shared by every team.
type faultState struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{}
	fs.set(f)
	return fs
}

func (fs *faultState) set(f Faults) {
	f.Routes = slices.Clone(f.Routes)
	seed := f.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	f.Routes = slices.Clone(f.Routes)
	return f
}

// roll reports true with probability p; it skips the lock when p is 0, the
// common case, so fault checks cost nothing when no fault is set.
func (fs *faultState) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.rng.Float64() < p
}

// targets reports whether route-limited faults apply to route.
func (f *Faults) targets(route string) bool {
	return len(f.Routes) == 0 || slices.Contains(f.Routes, strings.TrimPrefix(route, "team/"))
}

// pause is the delay before one call: the fixed latency plus a random jitter.
func (fs *faultState) pause() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d := fs.f.Latency
	if fs.f.Jitter > 0 {
		d += time.Duration(fs.rng.Int64N(int64(fs.f.Jitter)))
	}
	return d
}

// delay sleeps for the configured latency; false if the client went away.
func (fs *faultState) delay(ctx context.Context) bool {
	d := fs.pause()
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (fs *faultState) lose(route string) bool {
	f := fs.get()
	return f.targets(route) && fs.roll(f.Lost)
}

// inject answers an injected 5xx or 429, or a 429 for a team over its write
// budget, and reports whether it did.
func (fs *faultState) inject(w http.ResponseWriter, t *Team, route string, write bool) bool {
	f := fs.get()
	after := max(f.RetryAfter, 1)
	switch {
	case f.targets(route) && fs.roll(f.Rate5xx):
		fs.serverError(w, f, after)
		t.stats.add5xx()
		return true
	case f.targets(route) && fs.roll(f.Rate429):
		t.stats.add429(false, time.Duration(after)*time.Second)
		tooMany(w, after, fs.roll(f.Plain429))
		return true
	case write && f.WritesPerSec > 0:
		burst := float64(f.WriteBurst)
		if burst <= 0 {
			burst = math.Max(1, f.WritesPerSec)
		}
		if wait, ok := t.writes.take(f.WritesPerSec, burst, time.Now()); !ok {
			secs := max(int(math.Ceil(wait.Seconds())), 1)
			t.stats.add429(true, time.Duration(secs)*time.Second)
			tooMany(w, secs, false)
			return true
		}
	}
	return false
}

func (fs *faultState) serverError(w http.ResponseWriter, f Faults, after int) {
	code := f.Code5xx
	if code == 0 {
		code = http.StatusInternalServerError
		if fs.roll(0.5) {
			code = http.StatusServiceUnavailable
		}
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(after))
	}
	writeText(w, code, http.StatusText(code)+" (injected by the emulator)")
}

// tooMany answers 429 with Retry-After, with a JSON RateLimitError body or a
// plain-text one, both of which the real service sends (reference §2.3, §3).
func tooMany(w http.ResponseWriter, after int, plain bool) {
	w.Header().Set("Retry-After", strconv.Itoa(after))
	if plain {
		writeText(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	writeJSON(w, http.StatusTooManyRequests, errorEnvelope{Summary: "too_many_requests/..",
		Error: map[string]any{"reason": tagged{"too_many_requests"}, "retry_after": after}})
}

// bucket is a team's write budget: a token bucket refilled at rate per
// second up to burst tokens. It runs on wall time, not the emulator clock.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// take spends a token, or reports how long until one is available.
func (b *bucket) take(rate, burst float64, now time.Time) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// jobOutcome decides, when an async job starts, how many polls it stays
// in_progress and whether it ends in internal_error.
func (fs *faultState) jobOutcome() (polls int, fail bool) {
	f := fs.get()
	return f.JobPolls, fs.roll(f.JobFail)
}

func (fs *faultState) asyncAdd() int { return fs.get().AsyncAdd }

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// SetWriteLimit changes each team's write limit, and only it, mid-run: a
// token bucket of perSecond writes a second holding one second's worth
// (0: unlimited). A client is not told; it sees 429s with Retry-After.
func (s *Server) SetWriteLimit(perSecond float64) error {
	if math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond < 0 {
		return fmt.Errorf("a write limit must be 0 (none) or a number of writes a second, got %v", perSecond)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.f.WritesPerSec, s.faults.f.WriteBurst = perSecond, 0
	return nil
}

// Faults returns the injected faults.
func (s *Server) Faults() Faults { return s.faults.get() }
