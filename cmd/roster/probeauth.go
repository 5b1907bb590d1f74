package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// tokenFinder finds admin API tokens.
type tokenFinder interface {
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
}

const (
	// recentFor is how long a verified token is still taken while the
	// database cannot be asked.
	recentFor = 15 * time.Minute
	maxRecent = 64
)

// probeAuth tells whether a request to /metrics or a health probe carries a
// valid admin API token. While the database is down, which is when the
// probes' details matter, it takes a token it verified in the last
// recentFor; a token the database says is unknown is forgotten at once.
type probeAuth struct {
	st   tokenFinder
	mu   sync.Mutex
	seen map[string]time.Time // token hash → last verified
}

func newProbeAuth(st tokenFinder) *probeAuth {
	return &probeAuth{st: st, seen: map[string]time.Time{}}
}

func (a *probeAuth) valid(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(tok, credential.TokenPrefix) || len(tok) > 200 {
		return false
	}
	h := credential.HashToken(tok)
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	_, err := a.st.TokenByHash(ctx, h)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err == nil:
		a.remember(string(h), time.Now())
		return true
	case errors.Is(err, directory.ErrNotFound):
		delete(a.seen, string(h))
		return false
	}
	at, ok := a.seen[string(h)]
	return ok && time.Since(at) < recentFor
}

// remember keeps at most maxRecent tokens, dropping the oldest.
func (a *probeAuth) remember(h string, now time.Time) {
	if _, ok := a.seen[h]; !ok && len(a.seen) >= maxRecent {
		var oldest string
		var first time.Time
		for k, at := range a.seen {
			if first.IsZero() || at.Before(first) {
				oldest, first = k, at
			}
		}
		delete(a.seen, oldest)
	}
	a.seen[h] = now
}

// require answers 401 to a request without a valid token.
func (a *probeAuth) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.valid(r) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"unauthorized","message":"a valid admin API token is required (Authorization: Bearer rst_…), or serve /metrics on its own address with --metrics-listen"}}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
