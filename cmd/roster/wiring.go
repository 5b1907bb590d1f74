package main

import (
	"log/slog"
	"net/http"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/web"
)

// newConnect builds the connector of an app, by its kind, from its stored,
// encrypted token (credential.Connect): the workers need nothing of the web UI.
func newConnect(st credential.TokenStore, box *secret.Box, log *slog.Logger) engine.Connect {
	return credential.Connect(st, box, connectors.Registry(), log)
}

// services are the parts of a running Roster.
type services struct {
	kinds    *connector.Registry
	st       web.Store
	box      *secret.Box
	engine   *engine.Engine
	runner   engine.Runner // "sync now" in a fleet; nil: the engine
	connect  engine.Connect
	ui       web.Options // how the admin UI is reached; serve's flags set it
	limits   httplimit.Limits
	svc      *service.Service // made on first use, once runner is set
	wake     func()           // wakes this process's worker when a change queues work; nil: none runs here
	importer *importer.Importer
}

func newServices(st web.Store, box *secret.Box, log *slog.Logger, cfg engine.Config) *services {
	kinds := connectors.Registry()
	connect := newConnect(st, box, log)
	cfg.Kinds = kinds
	if ks, ok := st.(interface{ SetKinds(*connector.Registry) }); ok {
		ks.SetKinds(kinds) // assignments' roles are the kinds'
	}
	return &services{kinds: kinds, st: st, box: box, connect: connect, engine: engine.New(st, connect, log, cfg), limits: httplimit.Default(),
		importer: importer.New(st, connect, log)}
}

func (s *services) apiOptions() api.Options {
	return api.Options{Engine: s.engine, Runner: s.runner, Connect: s.connect, Kinds: s.kinds, Service: s.service(), PublicURL: s.ui.PublicURL}
}

// service is the one use-case layer the API and the UI share (so a plan
// made on one face is kept for the other).
func (s *services) service() *service.Service {
	if s.svc == nil {
		s.svc = service.New(s.st, s.box, service.Options{Engine: s.engine, Runner: s.runner, Connect: s.connect, Kinds: s.kinds, Importer: s.importer, Wake: s.wake})
	}
	return s.svc
}

// handler serves the JSON API under /api/ with its probes, and the admin web
// UI everywhere else.
func (s *services) handler(log *slog.Logger) (http.Handler, *web.Server, error) {
	apiH := api.New(s.st, s.box, log, s.apiOptions()).Handler()
	opt := s.ui
	opt.Engine, opt.Runner, opt.Connect, opt.Kinds, opt.Service = s.engine, s.runner, s.connect, s.kinds, s.service()
	opt.Importer = s.importer
	ui, err := web.New(s.st, s.box, log, opt)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz"} {
		mux.Handle(p, apiH)
	}
	if sst, ok := s.st.(scim.Store); ok {
		mux.Handle(service.SCIMPath+"/", scim.New(s.service(), sst, log).Handler())
	}
	mux.Handle("/", ui.Handler())
	return mux, ui, nil
}
