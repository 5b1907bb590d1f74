// Package api serves Roster's HTTP JSON admin API under /api/v1. Every /api/v1
// route requires a bearer token; /healthz and /readyz are open for probes.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// Store is what the API uses of persistence today: every role but the web
// UI's and the fleet's (the service layer of issue 15 is to narrow it).
type Store interface {
	store.Store
	store.Engine
	store.GroupPush
	store.Offboardings
}

// Server holds what the handlers need.
type Server struct {
	st  Store
	box *secret.Box
	log *slog.Logger
	opt Options
	svc *service.Service
}

// Options connect the API to the provisioning side.
type Options struct {
	Engine  *engine.Engine // plans, and runs syncs on request unless Runner is set
	Runner  engine.Runner  // runs syncs on request in a fleet: within the app's lane
	Connect engine.Connect // reaches an app, for test connection and settings checks
	// Service runs the use cases, shared with the web UI; nil: one of
	// this API's own, made from the fields above.
	Service *service.Service
	// Kinds are the app kinds apps may be of; default every kind this binary has.
	Kinds *connector.Registry
	// PublicURL is where clients reach Roster (serve --public-url), for the
	// SCIM base URL a source is given; "" takes it from the request.
	PublicURL string
}

// runner runs "sync now": the fleet's runner when set, else the engine;
// nil when the server has neither.
func (o Options) runner() engine.Runner {
	switch {
	case o.Runner != nil:
		return o.Runner
	case o.Engine != nil:
		return o.Engine
	}
	return nil
}

// New makes a Server.
func New(st Store, box *secret.Box, log *slog.Logger, opt Options) *Server {
	if opt.Kinds == nil {
		opt.Kinds = connectors.Registry()
	}
	svc := opt.Service
	if svc == nil {
		sopt := service.Options{Engine: opt.Engine, Runner: opt.Runner, Connect: opt.Connect, Kinds: opt.Kinds}
		if ist, ok := st.(importer.Store); ok {
			sopt.Importer = importer.New(ist, opt.Connect, log)
		}
		svc = service.New(st, box, sopt)
	}
	return &Server{st: st, box: box, log: log, opt: opt, svc: svc}
}

// Route is one authenticated API route.
type Route struct {
	Method, Pattern string
	handle          func(*Server, http.ResponseWriter, *http.Request) error
}

// Routes lists every authenticated route; the auth test walks all of them.
func Routes() []Route { return routes }

// Handler returns the API with health probes, authentication and request logs.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.Method+" "+r.Pattern, s.authenticated(r.handle))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("/api/", s.authenticated(func(*Server, http.ResponseWriter, *http.Request) error {
		return errNoRoute
	}))
	return s.logRequests(mux)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

type actorKey struct{}

func actorOf(r *http.Request) store.Actor {
	a, _ := r.Context().Value(actorKey{}).(store.Actor)
	return a
}

func (s *Server) authenticated(h func(*Server, http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !strings.HasPrefix(tok, credential.TokenPrefix) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "a bearer token is required (Authorization: Bearer rst_…)")
			return
		}
		t, err := s.st.TokenByHash(r.Context(), credential.HashToken(tok))
		if errors.Is(err, directory.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "the token is not valid")
			return
		}
		if err != nil {
			s.fail(w, r, fmt.Errorf("check token: %w", err))
			return
		}
		if where, ok := nulInURL(r.URL); ok {
			writeError(w, http.StatusBadRequest, "bad_request", where+": text must not contain NUL (%00) characters")
			return
		}
		httplimit.Trust(r) // an admin's sync may take minutes
		ctx := context.WithValue(r.Context(), actorKey{}, store.Actor("token:"+t.Name))
		if err := h(s, w, r.WithContext(ctx)); err != nil {
			s.fail(w, r, err)
		} else if r.Method != http.MethodGet {
			s.svc.Wake() // a change may have queued work: the worker claims it now, not at its next idle tick
		}
	})
}

var errNoRoute = errors.New("no such route")

// apiError carries a status and code for errors that are not domain errors.
type apiError struct {
	status  int
	code    string
	msg     string
	details any
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, a...), nil}
}

// fail maps an error to the JSON error envelope. Unknown errors are logged and
// answered with a generic message, so internals never leak to a client.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeErrorDetails(w, ae.status, ae.code, ae.msg, ae.details)
	case errors.Is(err, errNoRoute):
		writeError(w, http.StatusNotFound, "not_found", "no such API route: "+r.Method+" "+r.URL.Path)
	case errors.Is(err, directory.ErrInvalidTransition):
		writeError(w, http.StatusConflict, "invalid_transition", err.Error())
	case errors.Is(err, directory.ErrInvalid):
		writeErrorDetails(w, http.StatusBadRequest, "invalid", err.Error(), detailsOf(err))
	case errors.Is(err, directory.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, directory.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, 499, "canceled", "the request was canceled")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error; see the server log")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorDetails(w, status, code, msg, nil)
}

func writeErrorDetails(w http.ResponseWriter, status int, code, msg string, details any) {
	body := map[string]any{"code": code, "message": msg}
	if details != nil {
		body["details"] = details
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const maxJSONBody = 1 << 20

// decode reads a JSON body strictly: unknown fields are errors, so a typo in a
// setting name is reported instead of silently ignored. A NUL character in
// any string is refused: PostgreSQL cannot store it in text.
func decode(r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return &apiError{http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than 1 MiB", nil}
	}
	if err != nil {
		return badRequest("request body: %v", err)
	}
	// Only a \u0000 escape can put a NUL in a JSON string (a raw one is a
	// syntax error), so most bodies skip the walk.
	if bytes.Contains(data, []byte(`\u0000`)) {
		if where, ok := nulPath(data); ok {
			return badRequest("request body: %s: text must not contain NUL (\\u0000) characters", where)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return &apiError{http.StatusRequestEntityTooLarge, "too_large", "the request body is larger than 1 MiB", nil}
		}
		return badRequest("request body: %v", err)
	}
	if dec.More() {
		return badRequest("request body: more than one JSON value")
	}
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// logRequests logs method, path, status and duration; never headers or bodies,
// which may hold tokens.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				writeError(sw, http.StatusInternalServerError, "internal", "internal error; see the server log")
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}
