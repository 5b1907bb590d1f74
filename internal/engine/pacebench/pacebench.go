// Package pacebench measures how an app's call rate follows a write limit it
// does not know: the Dropbox emulator limits writes with a token bucket of R
// calls a second (one second's burst), changed on schedule, and callers with
// always more work call it through the real connector and the engine's pacer.
// Figures are counted by the emulator, second by second.
package pacebench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
)

// Phase holds the write limit at Limit calls a second for For.
type Phase struct {
	Limit float64       `json:"limit"`
	For   time.Duration `json:"-"`
}

// Config is one run.
type Config struct {
	Phases  []Phase
	Budget  app.Budget // default auto
	Callers int        // concurrent callers (default 16)
	// Second, if set, is told each second's figures as they come.
	Second func(Second)
}

// Second is what one second of a run saw.
type Second struct {
	At      int     `json:"at"`    // seconds since the start
	Limit   float64 `json:"limit"` // the emulator's write limit
	OK      int64   `json:"ok"`    // writes answered without 429
	Limited int64   `json:"limited_429"`
	Rate    float64 `json:"rate"` // the pacer's rate at the end of the second
	Reason  string  `json:"reason"`
}

// PhaseResult sums up one phase.
type PhaseResult struct {
	Limit float64 `json:"limit"`
	// Reach is the seconds from the phase's start until the writes answered
	// without 429 average at least 0.9 of the limit over 5 seconds, with
	// the pacer's rate no more than 1.5 times it; -1 if never.
	Reach int `json:"reach_s"`
	// Held is the writes answered without 429 a second from Reach to the
	// phase's end, and Share429 the share of writes answered 429 then.
	Held     float64 `json:"held_per_s"`
	Share429 float64 `json:"share_429"`
	// All429 is the share of writes answered 429 over the whole phase.
	All429 float64 `json:"share_429_whole_phase"`
}

// Result is one run.
type Result struct {
	Seconds []Second      `json:"seconds"`
	Phases  []PhaseResult `json:"phases"`
	// InRetryAfter counts the calls that reached the emulator while a
	// Retry-After it had answered was still running: calls already on
	// their way when the 429 came, as the pacer holds back every other.
	InRetryAfter int64 `json:"calls_in_retry_after"`
}

// Run starts an emulator, drives it through the phases and returns the figures.
func Run(parent context.Context, cfg Config) (Result, error) {
	if len(cfg.Phases) == 0 {
		return Result{}, errors.New("pacebench: no phases")
	}
	if cfg.Callers <= 0 {
		cfg.Callers = 16
	}
	srv, base, stop, err := start(cfg.Phases[0].Limit)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	team := srv.Team("bench")
	ids, err := seed(team, 200)
	if err != nil {
		return Result{}, err
	}
	pacer := engine.NewAppPacer(cfg.Budget)
	client := dropbox.New(dropbox.Options{BaseURL: base, Token: "bench-token", Pacer: pacer, MaxRateLimitRetries: 1 << 20})
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Value
	for range cfg.Callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				name := fmt.Sprintf("N%d", n)
				if _, err := client.SetProfile(ctx, ids[int(n)%len(ids)], connector.ProfileChange{GivenName: &name}); err != nil && ctx.Err() == nil {
					failed.CompareAndSwap(nil, err)
				}
			}
		})
	}
	res := Result{}
	last := team.Stats()
	at := 0
	for pi, ph := range cfg.Phases {
		if pi > 0 {
			if err := srv.SetWriteLimit(ph.Limit); err != nil {
				cancel()
				wg.Wait()
				return res, err
			}
		}
		tick := time.NewTicker(time.Second)
		for range int(ph.For / time.Second) {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
			if ctx.Err() != nil {
				break
			}
			st := team.Stats()
			p := pacer.Pace()
			s := Second{At: at, Limit: ph.Limit, OK: (st.Writes - st.WriteLimited) - (last.Writes - last.WriteLimited),
				Limited: st.WriteLimited - last.WriteLimited, Rate: p.Rate, Reason: p.Reason}
			last, at = st, at+1
			res.Seconds = append(res.Seconds, s)
			if cfg.Second != nil {
				cfg.Second(s)
			}
		}
		tick.Stop()
	}
	cancel()
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return res, fmt.Errorf("pacebench: a call failed: %w", err)
	}
	res.Phases = summarise(res.Seconds)
	res.InRetryAfter = team.Stats().RetryAfterCalls
	return res, parent.Err()
}

// summarise cuts the seconds into their phases.
func summarise(secs []Second) []PhaseResult {
	var out []PhaseResult
	for i := 0; i < len(secs); {
		j := i
		for j < len(secs) && secs[j].Limit == secs[i].Limit {
			j++
		}
		out = append(out, phase(secs[i:j]))
		i = j
	}
	return out
}

func phase(secs []Second) PhaseResult {
	l := secs[0].Limit
	r := PhaseResult{Limit: l, Reach: -1}
	for s := 0; s+5 <= len(secs); s++ {
		var ok int64
		for _, x := range secs[s : s+5] {
			ok += x.OK
		}
		if float64(ok)/5 >= 0.9*l && secs[s+4].Rate <= 1.5*l {
			r.Reach = s
			break
		}
	}
	from := max(0, r.Reach)
	ok, no := sum(secs[from:])
	if n := len(secs) - from; n > 0 {
		r.Held = float64(ok) / float64(n)
	}
	r.Share429 = share(ok, no)
	r.All429 = share(sum(secs))
	return r
}

func sum(secs []Second) (ok, no int64) {
	for _, s := range secs {
		ok, no = ok+s.OK, no+s.Limited
	}
	return ok, no
}

func share(ok, no int64) float64 {
	if ok+no == 0 {
		return 0
	}
	return float64(no) / float64(ok+no)
}

// start runs an emulator with one team and the write limit on loopback.
func start(limit float64) (*emu.Server, string, func(), error) {
	srv, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "bench", Token: "bench-token"}},
		Faults: emu.Faults{WritesPerSec: limit}})
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	stop := func() {
		_ = hs.Close()
		_ = srv.Close()
	}
	return srv, "http://" + ln.Addr().String(), stop, nil
}

func seed(t *emu.Team, n int) ([]string, error) {
	ms := make([]emu.SeedMember, n)
	for i := range ms {
		ms[i] = emu.SeedMember{Email: fmt.Sprintf("m%d@bench.example", i), GivenName: "M", Surname: fmt.Sprint(i), Status: "active"}
	}
	return t.Seed(ms)
}
