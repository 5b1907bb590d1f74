package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/engine"
)

var (
	paceRate = prometheus.NewDesc("roster_app_call_rate",
		"Calls a second Roster lets go to an app now, over the whole fleet: found by trial (budget auto) or fixed, as the lane's holder last saved it.",
		[]string{"app", "mode"}, nil)
	paceWhy = prometheus.NewDesc("roster_app_call_rate_reason",
		"1 for why an app's call rate is where it is (slow start, increasing, backed off after 429, backed off: latency rising, at the cap, holding: little work, fixed); the value of the series is when that began, as a Unix time.",
		[]string{"app", "reason"}, nil)
	pace429 = prometheus.NewDesc("roster_app_last_429_timestamp_seconds",
		"When an app last answered 429 to the holder of its lane, as a Unix time.", []string{"app"}, nil)
)

// paceSource is a store that keeps each app's pace with its lane.
type paceSource interface {
	Source
	engine.LaneReader
}

// paceCollector reads every app's call rate at scrape time from the
// database, so every process of a fleet shows the same, a tick old at most.
type paceCollector struct {
	src paceSource
	log *slog.Logger
}

func (c *paceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{paceRate, paceWhy, pace429} {
		ch <- d
	}
}

func (c *paceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	apps, err := c.src.ListApps(ctx)
	if err == nil {
		var lanes []laneLike
		lanes, err = c.lanes(ctx)
		names := map[int64]string{}
		for _, a := range apps {
			names[a.ID] = a.Name
		}
		for _, l := range lanes {
			name, ok := names[l.appID]
			if !ok || l.at.IsZero() {
				continue
			}
			mode := "fixed"
			if l.auto {
				mode = "auto"
			}
			ch <- prometheus.MustNewConstMetric(paceRate, prometheus.GaugeValue, l.rate, name, mode)
			ch <- prometheus.MustNewConstMetric(paceWhy, prometheus.GaugeValue, unix(l.since), name, l.reason)
			if !l.last429.IsZero() {
				ch <- prometheus.MustNewConstMetric(pace429, prometheus.GaugeValue, unix(l.last429), name)
			}
		}
	}
	if err != nil && c.log != nil {
		c.log.Warn("metrics: read call rates", "err", err)
	}
}

type laneLike struct {
	appID              int64
	auto               bool
	rate               float64
	reason             string
	since, last429, at time.Time
}

func (c *paceCollector) lanes(ctx context.Context) ([]laneLike, error) {
	ls, err := c.src.Lanes(ctx)
	out := make([]laneLike, 0, len(ls))
	for _, l := range ls {
		p := l.Pace
		out = append(out, laneLike{l.AppID, p.Auto, p.Rate, p.Reason, p.Since, p.Last429, p.At})
	}
	return out, err
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
