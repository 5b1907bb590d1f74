package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// Plan is a plan as an artifact, in Terraform's model: what a sync of the
// app would do, with an id and a fingerprint of what it was computed from.
//
// What applying a plan means, with an engine that is level-triggered (workers
// make queued changes on their own, and every sync recomputes what to do
// from the directory and the known accounts):
//
//   - Each change of the plan has a key: its user, its operation and what it
//     would set, from what to what (the known account state), its detail,
//     why it is skipped, and the generation of the user's work item (which
//     every edit of the user bumps, so a change computed from an older
//     directory state is told apart even where it shows the same, as a
//     create does). Where it stands (due, in flight, retrying) is left out:
//     workers move that along without changing what the change does. The
//     fingerprint is the hash of the keys, so a plan file that was edited is
//     refused.
//   - Apply recomputes the plan now. If it holds a change whose key is not
//     in the plan (a new change, or a change to one of the plan's users that
//     now sets something else), the plan is stale: nothing is applied and
//     the caller gets the current plan, with what is new in it.
//   - A change of the plan that is no longer due was made meanwhile (by a
//     worker, or made moot by an edit): it counts as done, not as stale, and
//     the result says which.
//   - Otherwise the sync runs: what it makes is the plan's changes that are
//     still due, no more. A directory change that lands after the check is
//     the next sync's work, as it would be without a plan; it was never the
//     admin's to approve here, and workers would make it anyway.
type Plan struct {
	ID          string         `json:"id"`
	App         string         `json:"app"`
	Full        bool           `json:"full"`
	CreatedAt   time.Time      `json:"created_at"`
	Fingerprint string         `json:"fingerprint"`
	Keys        []string       `json:"keys"` // one per change, in the order of Preview.Changes
	Preview     engine.Preview `json:"plan"`
}

// ChangeKey names a change by what it shows, for marking it on a page.
func ChangeKey(c engine.Change) string { return changeKey(c, 0) }

// changeKey names a change of a plan by what it does and the generation of
// the directory state it was computed from (see Plan).
func changeKey(c engine.Change, generation int64) string {
	b, _ := json.Marshal(struct {
		C map[string][2]string
		D map[string]any
		S string
		G int64 `json:",omitempty"`
	}{c.Changes, c.Detail, c.Skipped, generation})
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d:%s:%s", c.UserID, c.Op, hex.EncodeToString(h[:6]))
}

// generations maps the app's users with queued work to their item's generation.
func (s *Service) generations(ctx context.Context, appID int64) (map[int64]int64, error) {
	items, err := s.st.PendingWork(ctx, appID, 1_000_000)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(items))
	for _, it := range items {
		if it.Kind == store.WorkUser {
			out[it.RefID] = it.Generation
		}
	}
	return out, nil
}

// Fingerprint hashes a plan's change keys, in any order.
func Fingerprint(keys []string) string {
	sorted := slices.Sorted(slices.Values(keys))
	h := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return hex.EncodeToString(h[:12])
}

// CreatePlan computes a plan of the app's queued work, or with full of every
// user it holds or should hold against the team as listed now, and keeps it
// for a while (Options.PlanTTL) to be applied by id.
func (s *Service) CreatePlan(ctx context.Context, by store.Actor, appName string, full bool) (Plan, error) {
	if s.opt.Engine == nil {
		return Plan{}, ErrNoEngine
	}
	if err := s.allow(ctx, by, "sync.plan", appName); err != nil {
		return Plan{}, err
	}
	a, err := s.st.GetApp(ctx, appName)
	if err != nil {
		return Plan{}, err
	}
	pv, err := s.opt.Engine.Plan(ctx, a, full)
	if err != nil {
		return Plan{}, err
	}
	gens, err := s.generations(ctx, a.ID)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{App: a.Name, Full: full, CreatedAt: s.opt.Now().UTC(), Preview: pv, Keys: make([]string, len(pv.Changes))}
	for i, c := range pv.Changes {
		p.Keys[i] = changeKey(c, gens[c.UserID])
	}
	p.Fingerprint = Fingerprint(p.Keys)
	if p.ID, err = newID(); err != nil {
		return Plan{}, err
	}
	s.plans.put(p)
	return p, nil
}

// GetPlan returns a plan made here within Options.PlanTTL.
func (s *Service) GetPlan(appName, id string) (Plan, error) {
	p, ok := s.plans.get(id)
	if !ok || directory.Key(p.App) != directory.Key(appName) {
		return Plan{}, fmt.Errorf("%w: plan %q of app %s (plans are kept for %s by the server that made them; apply the plan file instead)",
			directory.ErrNotFound, id, appName, s.opt.PlanTTL)
	}
	return p, nil
}

// StaleError refuses to apply a plan that changed since it was made; nothing
// was applied.
type StaleError struct {
	Plan Plan            // the plan as it is now, kept to be applied by id
	New  []engine.Change // its changes that the stale plan does not hold
	Made []Made          // the stale plan's changes that are no longer due
}

func (e *StaleError) Error() string {
	msg := fmt.Sprintf("the plan of %s changed since it was made: %d new change(s) it does not show", e.Plan.App, len(e.New))
	for i, c := range e.New {
		if i == 10 {
			msg += ", …"
			break
		}
		msg += fmt.Sprintf("%s %s %s", map[bool]string{true: ":", false: ","}[i == 0], c.Op, c.User)
	}
	if len(e.Made) > 0 {
		msg += fmt.Sprintf(", and %d of its changes were made meanwhile", len(e.Made))
	}
	return msg + "; nothing was applied: review the new plan, then apply it"
}

// Made is a change of a plan that was made (or became moot) before it was applied.
type Made struct {
	User string `json:"user"`
	Op   string `json:"op"`
}

// Applied is what applying a plan did.
type Applied struct {
	SyncResult
	Made []Made // changes of the plan made meanwhile, by a worker or moot
}

// ApplyPlan applies exactly the plan p (see Plan), or refuses it with a
// *StaleError; allowDeletes releases what the deletion guard holds.
func (s *Service) ApplyPlan(ctx context.Context, by store.Actor, p Plan, allowDeletes bool) (Applied, error) {
	if s.opt.Engine == nil {
		return Applied{}, ErrNoEngine
	}
	if p.Fingerprint != Fingerprint(p.Keys) {
		return Applied{}, fmt.Errorf("%w: the plan's fingerprint does not match its changes (was the plan file edited?)", directory.ErrInvalid)
	}
	if err := s.allow(ctx, by, "sync.apply", p.App); err != nil {
		return Applied{}, err
	}
	now, err := s.CreatePlan(ctx, by, p.App, p.Full)
	if err != nil {
		return Applied{}, err
	}
	made, fresh, err := s.since(ctx, p, now)
	if err != nil {
		return Applied{}, err
	}
	if len(fresh) > 0 {
		return Applied{Made: made}, &StaleError{Plan: now, New: fresh, Made: made}
	}
	res, err := s.Sync(ctx, by, p.App, SyncRequest{Full: p.Full, AllowDeletes: allowDeletes})
	return Applied{SyncResult: res, Made: made}, err
}

// since compares plan p with the plan now: the changes of p no longer due,
// and the changes due now that p does not hold.
func (s *Service) since(ctx context.Context, p, now Plan) ([]Made, []engine.Change, error) {
	was := make(map[string]bool, len(p.Keys))
	for _, k := range p.Keys {
		was[k] = true
	}
	is := make(map[string]bool, len(now.Keys))
	var fresh []engine.Change
	for i, k := range now.Keys {
		is[k] = true
		if !was[k] {
			fresh = append(fresh, now.Preview.Changes[i])
		}
	}
	var ids []int64
	var ops []string
	for _, k := range p.Keys {
		if is[k] {
			continue
		}
		id, rest, _ := strings.Cut(k, ":")
		n, _ := strconv.ParseInt(id, 10, 64)
		op, _, _ := strings.Cut(rest, ":")
		ids, ops = append(ids, n), append(ops, op)
	}
	users, err := s.st.UsersByID(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	made := make([]Made, len(ids))
	for i, id := range ids {
		name := users[id].Username
		if name == "" {
			name = fmt.Sprintf("user %d", id)
		}
		made[i] = Made{User: name, Op: ops[i]}
	}
	return made, fresh, nil
}

func newID() (string, error) {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "plan_" + hex.EncodeToString(b[:]), nil
}
