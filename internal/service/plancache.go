package service

import (
	"sync"
	"time"
)

// maxPlans bounds the plans kept in memory; the oldest go first.
const maxPlans = 256

// planCache keeps recent plans, so that apply by id executes exactly the
// plan that was shown. It lives in one process: a plan file (or the web
// page's form, which carries the plan's keys) works on any server of a fleet.
type planCache struct {
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	plans map[string]cachedPlan
}

type cachedPlan struct {
	plan    Plan
	expires time.Time
}

func newPlanCache(ttl time.Duration, now func() time.Time) *planCache {
	return &planCache{ttl: ttl, now: now, plans: map[string]cachedPlan{}}
}

func (c *planCache) put(p Plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var oldest string
	for id, cp := range c.plans {
		if now.After(cp.expires) {
			delete(c.plans, id)
		} else if oldest == "" || cp.expires.Before(c.plans[oldest].expires) {
			oldest = id
		}
	}
	if len(c.plans) >= maxPlans {
		delete(c.plans, oldest)
	}
	c.plans[p.ID] = cachedPlan{p, now.Add(c.ttl)}
}

func (c *planCache) get(id string) (Plan, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, ok := c.plans[id]
	if !ok || c.now().After(cp.expires) {
		return Plan{}, false
	}
	return cp.plan, true
}
