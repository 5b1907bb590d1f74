package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// SCIMConfig sizes `roster bench scim`.
type SCIMConfig struct {
	Users         int // provisioned before the measurements
	Creates       int // users created over SCIM
	Patches       int // profile PATCHes of provisioned users
	Deactivations int // deactivating PATCHes timed to their Dropbox call
	Clients       int // concurrent SCIM clients
}

// SCIMResult is what `roster bench scim` reports.
type SCIMResult struct {
	Users           int     `json:"users"`
	ProvisionSecs   float64 `json:"provision_seconds"`
	Clients         int     `json:"clients"`
	Creates         int     `json:"creates"`
	CreatesPerSec   float64 `json:"creates_per_second"`
	Patches         int     `json:"patches"`
	PatchesPerSec   float64 `json:"patches_per_second"`
	Deactivations   int     `json:"deactivations"`
	LatencyP50Milli float64 `json:"latency_p50_ms"`
	LatencyP99Milli float64 `json:"latency_p99_ms"`
	LatencyMaxMilli float64 `json:"latency_max_ms"`
}

// suspendClock notes when the connector is asked to suspend each member:
// the Dropbox call that acts on a deactivation.
type suspendClock struct {
	connector.Connector
	s  connector.Suspender
	at func(memberID string)
}

func (c *suspendClock) Suspend(ctx context.Context, id string, wipe bool) error {
	c.at(id)
	return c.s.Suspend(ctx, id, wipe)
}

func (c *suspendClock) Unsuspend(ctx context.Context, id string) error {
	return c.s.Unsuspend(ctx, id)
}

func (c *suspendClock) Unwrap() connector.Connector { return c.Connector }

// SCIM measures the SCIM service with a worker running against the
// emulator: cfg.Users are provisioned (and activated in the team) first;
// then creates and PATCHes per second from cfg.Clients clients, and the
// latency from a deactivating PATCH's answer to the suspend call acting on it.
func SCIM(ctx context.Context, open Open, cfg SCIMConfig) (SCIMResult, error) {
	res := SCIMResult{Users: cfg.Users, Clients: cfg.Clients, Creates: cfg.Creates, Patches: cfg.Patches, Deactivations: cfg.Deactivations}
	es, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "bench", Token: "tok"}}})
	if err != nil {
		return res, err
	}
	hs := httptest.NewServer(es)
	defer hs.Close()
	st, closeSt, err := open()
	if err != nil {
		return res, err
	}
	defer closeSt()
	log := slog.New(slog.NewTextHandler(logTo(), nil))

	var mu sync.Mutex
	called := map[string]time.Time{}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		c := dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, AddConcurrency: 8})
		return &suspendClock{Connector: c, s: c, at: func(id string) {
			mu.Lock()
			if _, ok := called[id]; !ok {
				called[id] = time.Now()
			}
			mu.Unlock()
		}}, nil
	}
	svc := service.New(st, nil, service.Options{})
	_, token, err := svc.AddSource(ctx, "bench", service.NewSource{Kind: store.SourceSCIM, Name: "idp"})
	if err != nil {
		return res, err
	}
	a, names, err := seedSCIM(ctx, st, hs.URL, cfg.Users)
	if err != nil {
		return res, err
	}
	start := time.Now()
	eng := engine.New(st, connect, log, engine.Config{Parallel: 16})
	if _, err := eng.Sync(ctx, a, engine.SyncOptions{AllowDeletes: true}); err != nil {
		return res, fmt.Errorf("provision %d users: %w", cfg.Users, err)
	}
	res.ProvisionSecs = time.Since(start).Seconds()
	es.Team("bench").Activate(names...) // accepted invitations: an invited member cannot be suspended

	// The worker idles a minute between passes: only a wake brings it in time.
	w := engine.NewWorker(st, connect, log, engine.WorkerConfig{Engine: engine.Config{Idle: time.Minute, Parallel: 16}, Tick: 200 * time.Millisecond})
	svc = service.New(st, nil, service.Options{Wake: w.Wake})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	ss := httptest.NewServer(scim.New(svc, st, log).Handler())
	defer ss.Close()
	cl := scimCaller{base: ss.URL + service.SCIMPath, token: token, hc: &http.Client{Timeout: time.Minute}}

	ids, err := userIDs(ctx, st, names[:min(len(names), cfg.Patches+cfg.Deactivations)])
	if err != nil {
		return res, err
	}
	secs, err := parallel(cfg.Clients, cfg.Creates, func(i int) error {
		n := fmt.Sprintf("new%06d@corp.example", i)
		return cl.call("POST", "/Users", map[string]any{"userName": n, "emails": []any{map[string]any{"value": n, "primary": true}},
			"name": map[string]any{"givenName": "New", "familyName": fmt.Sprint(i)}}, http.StatusCreated)
	})
	if err != nil {
		return res, fmt.Errorf("creates: %w", err)
	}
	res.CreatesPerSec = float64(cfg.Creates) / secs
	secs, err = parallel(cfg.Clients, cfg.Patches, func(i int) error {
		return cl.call("PATCH", "/Users/"+ids[i], patchOp("replace", "name.givenName", fmt.Sprintf("Patched%d", i)), http.StatusOK)
	})
	if err != nil {
		return res, fmt.Errorf("patches: %w", err)
	}
	res.PatchesPerSec = float64(cfg.Patches) / secs
	if err := drain(ctx, st, a.ID, 2*time.Minute); err != nil {
		return res, err
	}

	// Deactivations a few at a time, each timed from its answer.
	answered := make([]time.Time, cfg.Deactivations)
	members := make([]string, cfg.Deactivations)
	team := es.Team("bench")
	for i := range cfg.Deactivations {
		m, ok := team.Member(names[cfg.Patches+i])
		if !ok {
			return res, fmt.Errorf("no member for %s", names[cfg.Patches+i])
		}
		members[i] = m.ID
	}
	stopProfile := cpuProfile() // ROSTER_BENCH_CPUPROFILE: the deactivations alone
	_, err = parallel(min(cfg.Clients, 4), cfg.Deactivations, func(i int) error {
		err := cl.call("PATCH", "/Users/"+ids[cfg.Patches+i], map[string]any{"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}, http.StatusOK)
		answered[i] = time.Now()
		time.Sleep(20 * time.Millisecond) // spread them: latency, not a burst's throughput
		return err
	})
	if err != nil {
		stopProfile()
		return res, fmt.Errorf("deactivations: %w", err)
	}
	err = drain(ctx, st, a.ID, 2*time.Minute)
	stopProfile()
	if err != nil {
		return res, err
	}
	lat := make([]float64, 0, cfg.Deactivations)
	mu.Lock()
	for i, id := range members {
		at, ok := called[id]
		if !ok {
			mu.Unlock()
			return res, fmt.Errorf("member %s was never suspended", names[cfg.Patches+i])
		}
		lat = append(lat, float64(at.Sub(answered[i]).Microseconds())/1000)
	}
	mu.Unlock()
	slices.Sort(lat)
	if len(lat) > 0 {
		res.LatencyP50Milli = lat[len(lat)/2]
		res.LatencyP99Milli = lat[min(len(lat)-1, len(lat)*99/100)]
		res.LatencyMaxMilli = lat[len(lat)-1]
	}
	return res, nil
}

// seedSCIM makes the app (suspending without a wipe) and n users owned by
// the SCIM source, in its group assigned to the app.
func seedSCIM(ctx context.Context, st interface {
	store.Store
}, url string, n int) (app.Instance, []string, error) {
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: url, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	a.Settings.Deactivation.Type = app.DeactivateSuspend
	a.Settings.Deactivation.WipeData = false
	a.Settings.Budget.CallsPerSecond = 1000
	if err := st.CreateApp(ctx, "bench", &a); err != nil {
		return a, nil, err
	}
	// Workers run apps with a token; the bench's connector needs none.
	if err := st.SetAppCredential(ctx, "bench", "dbx", []byte("unused")); err != nil {
		return a, nil, err
	}
	names := make([]string, n)
	users := make([]directory.User, n)
	for i := range users {
		names[i] = fmt.Sprintf("u%06d@corp.example", i)
		users[i] = directory.User{Username: names[i], Email: names[i], FirstName: "User", LastName: fmt.Sprint(i), Source: "idp"}
	}
	if err := st.CreateUsers(ctx, "bench", users); err != nil {
		return a, nil, err
	}
	g := directory.Group{Name: "everyone", Source: "idp"}
	if err := st.CreateGroup(ctx, "bench", &g); err != nil {
		return a, nil, err
	}
	for i := 0; i < n; i += 1000 {
		if err := st.AddGroupMembers(ctx, "bench", "everyone", names[i:min(i+1000, n)]); err != nil {
			return a, nil, err
		}
	}
	return a, names, st.Assign(ctx, "bench", &directory.Assignment{AppName: "dbx", GroupName: "everyone"})
}

func userIDs(ctx context.Context, st store.Store, names []string) ([]string, error) {
	ids := make([]string, len(names))
	for i, n := range names {
		u, err := st.GetUser(ctx, n)
		if err != nil {
			return nil, err
		}
		ids[i] = u.ExternalKey
	}
	return ids, nil
}

// drain waits until the app's queue is empty.
func drain(ctx context.Context, st store.Store, appID int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		left, err := st.PendingWork(ctx, appID, 1)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the queue did not drain within %v", limit)
}

// parallel runs fn(0..n-1) on clients goroutines and returns the seconds taken.
func parallel(clients, n int, fn func(int) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range max(1, clients) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return time.Since(start).Seconds(), <-errs
}

type scimCaller struct {
	base, token string
	hc          *http.Client
}

func (c scimCaller) call(method, path string, body any, want int) error {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, out)
	}
	return nil
}

func patchOp(op, path string, v any) map[string]any {
	return map[string]any{"Operations": []any{map[string]any{"op": op, "path": path, "value": v}}}
}
