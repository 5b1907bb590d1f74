// Package web serves Roster's admin web UI: server-rendered pages with a
// little JavaScript for progressive enhancement, assets embedded in the
// binary. It calls the store, the engine and the importer directly, as the
// JSON API does. Every page but sign-in needs a session; every form carries a
// CSRF token tied to that session.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the UI needs from persistence.
type Store interface {
	store.Store
	store.Engine
	store.GroupPush
	store.Offboardings
	store.Admins
	store.Imports
	store.UserTable
	store.Fleet
}

// Options connect the UI to the rest of Roster.
type Options struct {
	Engine  *engine.Engine // plans, and runs syncs unless Runner is set
	Runner  engine.Runner  // runs syncs in a fleet: within the app's lane
	Connect engine.Connect // reaches an app, for test connection and settings checks
	// Service runs the use cases, shared with the API; nil: one of the
	// UI's own, made from the fields above.
	Service *service.Service
	// Kinds are the app kinds apps may be of; default every kind this binary has.
	Kinds *connector.Registry
	// Importer runs imports and their review; nil hides nothing but refuses the actions.
	Importer *importer.Importer
	// PublicURL is where browsers reach Roster (such as https://roster.corp.example),
	// used for the OAuth redirect address; empty: taken from each request.
	PublicURL string
	// SecureCookies marks cookies Secure even when Roster itself serves plain
	// HTTP behind a TLS-terminating proxy. Requests over TLS always get Secure cookies.
	SecureCookies bool
	SessionTTL    time.Duration // default 12h
	// HTTPClient makes the OAuth token calls; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// JobWait is how long a form that starts a job (apply, import, sync
	// now) waits for it to end before showing its progress page instead;
	// default 1.5 s, negative: never wait.
	JobWait time.Duration
}

// Server is the web UI.
type Server struct {
	st    Store
	box   *secret.Box
	log   *slog.Logger
	opt   Options
	svc   *service.Service
	pages map[string]*template.Template
	guard *signinGuard // counts password attempts
	slots *hashSlots   // bounds password checks at once
	jobs  *jobRegistry // long work running in the background
}

// New makes the UI; it fails only if the embedded templates do not parse.
func New(st Store, box *secret.Box, log *slog.Logger, opt Options) (*Server, error) {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.JobWait == 0 {
		opt.JobWait = jobWaitDef
	}
	if opt.Kinds == nil {
		opt.Kinds = connectors.Registry()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	svc := opt.Service
	if svc == nil {
		sopt := service.Options{Engine: opt.Engine, Runner: opt.Runner, Connect: opt.Connect, Kinds: opt.Kinds}
		if opt.Importer != nil {
			sopt.Importer = opt.Importer
		}
		svc = service.New(st, box, sopt)
	}
	return &Server{st: st, box: box, log: log, opt: opt, svc: svc, pages: pages,
		jobs: newJobRegistry(), guard: newSigninGuard(), slots: newHashSlots(defaultHashSlots(), 2*time.Second)}, nil
}

// handler is a page or form handler; a returned error is rendered as an error page.
type handler func(s *Server, w http.ResponseWriter, r *http.Request) error

// route is one UI route. open routes need no session (sign-in and assets).
type route struct {
	method, pattern string
	h               handler
	open            bool
}

// Handler serves the UI. Mount it at "/" beside the API's /api/ routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes() {
		h := s.guarded(rt)
		mux.Handle(rt.method+" "+rt.pattern, h)
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheAssets(http.FileServerFS(static))))
	mux.Handle("/", s.guarded(route{"", "/", (*Server).notFound, false}))
	return s.recoverPanics(securityHeaders(mux))
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keep the pages from being framed or sniffed and allow
// scripts and styles only from Roster itself. form-action is left open: the
// "Authenticate with Dropbox Business" form redirects to Dropbox's own address.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into an error page, so none reaches a user as a
// dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("web handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// SweepSessions deletes expired sessions every interval until ctx ends.
func (s *Server) SweepSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.st.DeleteExpiredSessions(ctx, s.opt.Now()); err != nil && ctx.Err() == nil {
				s.log.Warn("delete expired sessions", "err", err)
			}
		}
	}
}
