package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/web"
)

// newConnect builds the connector of an app, by its kind, from its stored,
// encrypted token. The token is decrypted only here, for the life of the
// connector; a token from an OAuth connection is renewed before it expires.
func newConnect(st web.TokenStore, box *secret.Box, log *slog.Logger) engine.Connect {
	kinds := connectors.Registry()
	return func(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		// An app saved before plain http was limited to loopback: no token in the clear.
		if err := app.CheckBaseURL(a.BaseURL); err != nil {
			return nil, fmt.Errorf("%w: app %s: %w; set its base_url again", directory.ErrInvalid, a.Name, err)
		}
		toks, err := web.NewTokens(ctx, st, box, a, nil)
		if err != nil {
			return nil, err
		}
		opt := connector.OpenOptions{BaseURL: a.BaseURL, Pacer: p, Logger: log.With("app", a.Name)}
		if toks.Renewable() {
			opt.TokenSource, opt.TokenExpired = toks.Token, toks.Expired
		} else if opt.Token, err = toks.Token(ctx); err != nil {
			return nil, err
		}
		return kinds.Open(ctx, a.Kind, opt)
	}
}

// services are the parts of a running Roster.
type services struct {
	kinds   *connector.Registry
	st      web.Store
	box     *secret.Box
	engine  *engine.Engine
	runner  engine.Runner // "sync now" in a fleet; nil: the engine
	connect engine.Connect
	ui      web.Options // how the admin UI is reached; serve's flags set it
	limits  httplimit.Limits
}

func newServices(st web.Store, box *secret.Box, log *slog.Logger, cfg engine.Config) *services {
	kinds := connectors.Registry()
	connect := newConnect(st, box, log)
	cfg.Kinds = kinds
	if ks, ok := st.(interface{ SetKinds(*connector.Registry) }); ok {
		ks.SetKinds(kinds) // assignments' roles are the kinds'
	}
	return &services{kinds: kinds, st: st, box: box, connect: connect, engine: engine.New(st, connect, log, cfg), limits: httplimit.Default()}
}

func (s *services) apiOptions() api.Options {
	return api.Options{Engine: s.engine, Runner: s.runner, Connect: s.connect, Kinds: s.kinds}
}

// handler serves the JSON API under /api/ with its probes, and the admin web
// UI everywhere else.
func (s *services) handler(log *slog.Logger) (http.Handler, *web.Server, error) {
	apiH := api.New(s.st, s.box, log, s.apiOptions()).Handler()
	opt := s.ui
	opt.Engine, opt.Runner, opt.Connect, opt.Kinds = s.engine, s.runner, s.connect, s.kinds
	opt.Importer = importer.New(s.st, s.connect, log)
	ui, err := web.New(s.st, s.box, log, opt)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz"} {
		mux.Handle(p, apiH)
	}
	mux.Handle("/", ui.Handler())
	return mux, ui, nil
}
