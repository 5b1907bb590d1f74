package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	queueDepth = prometheus.NewDesc("roster_queue_depth", "Work items queued for an app (due now or later), in progress included.", []string{"app"}, nil)
	queueDue   = prometheus.NewDesc("roster_queue_due", "Work items of an app due now.", []string{"app"}, nil)
	queueAge   = prometheus.NewDesc("roster_queue_oldest_age_seconds", "Age of an app's oldest queued work item; 0 when none.", []string{"app"}, nil)
	tasksOpen  = prometheus.NewDesc("roster_tasks_open", "Work items of an app that failed for good and wait for an admin.", []string{"app"}, nil)
	queueUp    = prometheus.NewDesc("roster_queue_stats_up", "1 when the queue could be read from the database at this scrape.", nil, nil)
)

// queueCollector reads the queue at scrape time, so the figures are the
// database's (the whole fleet's), not this process's.
type queueCollector struct {
	src Source
	log *slog.Logger
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDepth, queueDue, queueAge, tasksOpen, queueUp} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		if c.log != nil {
			c.log.Warn("metrics: read queue", "err", err)
		}
		ch <- prometheus.MustNewConstMetric(queueUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUp, prometheus.GaugeValue, 1)
}

// collect reports every app, with zeros for apps without work, so a drained
// queue reads 0 rather than vanishing.
func (c *queueCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	apps, err := c.src.ListApps(ctx)
	if err != nil {
		return err
	}
	stats, err := c.src.QueueStats(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range apps {
		names[a.ID] = a.Name
	}
	now := time.Now()
	seen := map[int64]bool{}
	for _, q := range stats {
		name, ok := names[q.AppID]
		if !ok {
			continue // work of an app deleted meanwhile
		}
		seen[q.AppID] = true
		age := 0.0
		if !q.Oldest.IsZero() {
			age = max(0, now.Sub(q.Oldest).Seconds())
		}
		gauge(ch, queueDepth, q.Queued, name)
		gauge(ch, queueDue, q.Due, name)
		ch <- prometheus.MustNewConstMetric(queueAge, prometheus.GaugeValue, age, name)
		gauge(ch, tasksOpen, q.Tasks, name)
	}
	for id, name := range names {
		if !seen[id] {
			for _, d := range []*prometheus.Desc{queueDepth, queueDue, queueAge, tasksOpen} {
				gauge(ch, d, 0, name)
			}
		}
	}
	return nil
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v int, app string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), app)
}
