package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/web"
)

// newConnect builds the Dropbox connector of an app from its stored, encrypted
// token. The token is decrypted only here, for the life of the connector.
func newConnect(st store.Store, box *secret.Box, log *slog.Logger) engine.Connect {
	return func(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		sealed, err := st.AppCredential(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		tok, err := box.Open(sealed, api.AppSecretContext(a.ID))
		if err != nil {
			return nil, fmt.Errorf("token of app %s: %w", a.Name, err)
		}
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: string(tok), Pacer: p, Logger: log.With("app", a.Name)}), nil
	}
}

// services are the parts of a running Roster.
type services struct {
	st      web.Store
	box     *secret.Box
	engine  *engine.Engine
	connect engine.Connect
	ui      web.Options // how the admin UI is reached; serve's flags set it
}

func newServices(st web.Store, box *secret.Box, log *slog.Logger, cfg engine.Config) *services {
	connect := newConnect(st, box, log)
	return &services{st: st, box: box, connect: connect, engine: engine.New(st, connect, log, cfg)}
}

func (s *services) apiOptions() api.Options {
	return api.Options{Engine: s.engine, Connect: s.connect}
}

// handler serves the JSON API under /api/ with its probes, and the admin web
// UI everywhere else.
func (s *services) handler(log *slog.Logger) (http.Handler, *web.Server, error) {
	apiH := api.New(s.st, s.box, log, s.apiOptions()).Handler()
	opt := s.ui
	opt.Engine, opt.Connect = s.engine, s.connect
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
