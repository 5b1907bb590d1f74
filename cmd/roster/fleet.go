package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/metrics"
	"github.com/roster-dev/roster/internal/secret"
)

// Roles of `roster serve --role`: the API and the workers scale apart.
const (
	roleAll    = "all"
	roleAPI    = "api"
	roleWorker = "worker"
)

// fleetRole is what one serve process runs: the API, the workers, or both;
// every role serves /metrics, /healthz and /readyz, /metrics and the probes'
// details to holders of an admin API token.
type fleetRole struct {
	name    string
	worker  *engine.Worker // nil for the api role
	metrics *metrics.Metrics
	st      roleStore
	log     *slog.Logger
	auth    *probeAuth
	// metricsLn, when set (--metrics-listen), serves /metrics without a token.
	metricsLn net.Listener
}

// roleStore is what a serve role needs: the fleet's store, the app tokens
// its connectors renew, and the admin API tokens.
type roleStore interface {
	engine.FleetStore
	credential.TokenStore
	tokenFinder
	Ping(ctx context.Context) error
}

// newFleetRole checks the role name and builds its parts. cfg.Owner names the
// worker's leases; empty picks a unique one.
func newFleetRole(name string, st roleStore, box *secret.Box, log *slog.Logger, cfg engine.Config) (*fleetRole, error) {
	switch name {
	case roleAll, roleAPI, roleWorker:
	default:
		return nil, usageErr("--role %q is not one of api, worker, all", name)
	}
	r := &fleetRole{name: name, metrics: metrics.New(st, log), st: st, log: log, auth: newProbeAuth(st)}
	if name != roleAPI {
		cfg.Kinds = connectors.Registry()
		r.worker = engine.NewWorker(st, newConnect(st, box, log), log, engine.WorkerConfig{Engine: cfg, Observer: r.metrics})
	}
	return r, nil
}

// runner runs the API's and the UI's "sync now" within the fleet's lanes:
// through this process's worker when it has one, else by the engine when no
// worker holds the app's lane.
func (r *fleetRole) runner(e *engine.Engine) engine.Runner {
	if r.worker != nil {
		return r.worker
	}
	return engine.LaneRunner{Engine: e, Fleet: r.st}
}

// servesAPI says whether the role answers /api/.
func (r *fleetRole) servesAPI() bool { return r.name != roleWorker }

// startWorkers runs the workers, if the role has them, until ctx ends (SIGTERM
// or SIGINT: main's context). The returned wait blocks until they have
// finished or handed back their work, within WorkerConfig.Drain.
func (r *fleetRole) startWorkers(ctx context.Context) (wait func() error) {
	if r.worker == nil {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() { done <- r.worker.Run(ctx) }()
	return func() error { return <-done }
}

// handler mounts /metrics, /healthz and /readyz before api; a worker-only
// process answers nothing else.
func (r *fleetRole) handler(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.auth.require(r.metrics.Handler()))
	mux.Handle("GET /healthz", metrics.Health(r.auth.valid, r.checks(false)...))
	mux.Handle("GET /readyz", metrics.Health(r.auth.valid, r.checks(true)...))
	if r.servesAPI() && api != nil {
		mux.Handle("/", api)
	} else {
		mux.Handle("/", http.NotFoundHandler())
	}
	return mux
}

// metricsHandler serves /metrics to anyone, on --metrics-listen.
func (r *fleetRole) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", r.metrics.Handler())
	return mux
}

// checks are the database and, in roles with workers, the workers: alive
// for /healthz, taking part in the fleet (not shutting down) for /readyz.
func (r *fleetRole) checks(ready bool) []metrics.Check {
	cs := []metrics.Check{{Name: "database", Fn: r.st.Ping}}
	if r.worker == nil {
		return cs
	}
	fn := func(context.Context) error { return r.worker.Healthy() }
	if ready {
		fn = func(context.Context) error { return errors.Join(r.worker.Healthy(), r.worker.Ready()) }
	}
	return append(cs, metrics.Check{Name: "workers", Fn: fn})
}
