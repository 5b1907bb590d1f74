// Package metrics exposes what Roster's workers do in the Prometheus text
// format, and the health endpoints. It implements engine.Observer and
// connector.CallObserver, so the engine and connectors know nothing of
// Prometheus or HTTP. Every Metrics has its own registry: no global state.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// Source is what the queue gauges are read from at scrape time.
type Source interface {
	ListApps(ctx context.Context) ([]app.Instance, error)
	QueueStats(ctx context.Context) ([]store.QueueStat, error)
}

// Metrics holds one process's metric families.
type Metrics struct {
	reg   *prometheus.Registry
	log   *slog.Logger
	ops   *prometheus.CounterVec
	items *prometheus.CounterVec
	calls *prometheus.HistogramVec
	rl    *prometheus.CounterVec
	s5xx  *prometheus.CounterVec
	lanes prometheus.Gauge
}

var _ engine.Observer = (*Metrics)(nil)

// New registers every family; src, if not nil, feeds the queue gauges.
func New(src Source, log *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_operations_total",
			Help: "Operations on app accounts, by app, operation and outcome (success, failure, skipped)."}, []string{"app", "op", "outcome"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_work_items_total",
			Help: "Work items recorded by this process, by app and result (done, retry, task)."}, []string{"app", "result"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "roster_remote_call_duration_seconds",
			Help:    "Connector calls to an app, pacing and in-call retries included, by app, operation and outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"app", "op", "outcome"}),
		rl: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_remote_rate_limited_total",
			Help: "HTTP 429 answers from an app, retried or not."}, []string{"app"}),
		s5xx: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_remote_server_errors_total",
			Help: "HTTP 5xx answers from an app that ended a call or a batch of one (reads the connector resent successfully are not counted)."}, []string{"app"}),
		lanes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roster_worker_lanes",
			Help: "App lanes this worker holds: the apps it alone calls now."}),
	}
	m.reg.MustRegister(m.ops, m.items, m.calls, m.rl, m.s5xx, m.lanes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src != nil {
		m.reg.MustRegister(&queueCollector{src: src, log: log})
	}
	if ps, ok := src.(paceSource); ok {
		m.reg.MustRegister(&paceCollector{src: ps, log: log})
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogAdapter{m.log}})
}

// Operation implements engine.Observer.
func (m *Metrics) Operation(app, op, outcome string) { m.ops.WithLabelValues(app, op, outcome).Inc() }

// Items implements engine.Observer.
func (m *Metrics) Items(app, result string, n int) {
	m.items.WithLabelValues(app, result).Add(float64(n))
}

// Lanes implements engine.Observer.
func (m *Metrics) Lanes(held int) { m.lanes.Set(float64(held)) }

// Calls implements engine.Observer.
func (m *Metrics) Calls(app string) connector.CallObserver { return appCalls{m, app} }

// appCalls observes one app's calls.
type appCalls struct {
	m   *Metrics
	app string
}

func (c appCalls) Call(op string, took time.Duration, err error) {
	c.m.calls.WithLabelValues(c.app, op, connector.Outcome(err)).Observe(took.Seconds())
	if connector.StatusOf(err) >= 500 {
		c.m.s5xx.WithLabelValues(c.app).Inc()
	}
}

func (c appCalls) RateLimited(time.Duration) { c.m.rl.WithLabelValues(c.app).Inc() }

func (c appCalls) Failed(_ string, err error) {
	if connector.StatusOf(err) >= 500 {
		c.m.s5xx.WithLabelValues(c.app).Inc()
	}
}

// slogAdapter lets promhttp report encoding errors through slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Println(v ...any) {
	if a.log != nil {
		a.log.Warn("metrics", "err", v)
	}
}
