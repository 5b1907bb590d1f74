package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// Change is one intended change, as a plan shows it.
type Change struct {
	User    string               `json:"user"`
	UserID  int64                `json:"user_id"`
	Op      Op                   `json:"op"`
	Changes map[string][2]string `json:"changes,omitempty"`
	Detail  map[string]any       `json:"detail,omitempty"`
	Skipped string               `json:"skipped,omitempty"`
	// State says where the change stands while workers run: due (waiting
	// for a worker), in_flight (a worker is making it), retrying (failed,
	// tried again at Due), held (the deletion guard holds it for an admin)
	// or scheduled (a removal waiting for its grace period, at Due).
	State string     `json:"state"`
	Due   *time.Time `json:"due_at,omitempty"`
	// Irreversible: a removal or a wipe, which cannot be undone.
	Irreversible bool `json:"irreversible,omitempty"`
	// ConfirmedBy names the admin who confirmed this off-boarding; the
	// deletion guard never holds it.
	ConfirmedBy string `json:"confirmed_by,omitempty"`
}

// Where a change stands.
const (
	StateDue       = "due"
	StateInFlight  = "in_flight"
	StateRetrying  = "retrying"
	StateHeld      = "held"
	StateScheduled = "scheduled"
)

// Preview is a plan: what a sync would do, computed without any write call.
type Preview struct {
	App      string        `json:"app"`
	Full     bool          `json:"full"`
	Changes  []Change      `json:"changes"`
	Groups   []GroupChange `json:"groups"`
	Summary  map[Op]int    `json:"summary"`
	Offboard int           `json:"offboard"` // suspensions and removals
	// Irreversible counts the removals and wipes among them.
	Irreversible int         `json:"irreversible"`
	Held         int         `json:"held"`      // changes the deletion guard holds
	Scheduled    int         `json:"scheduled"` // removals waiting for their grace period
	Members      int         `json:"members"`   // accounts the app holds now
	Guard        *GuardError `json:"guard,omitempty"`
	// Survey is what listing the team found, in a full plan.
	Survey *Survey `json:"reconcile,omitempty"`
}

// GuardError says that the deletion guard holds off-boardings (MISSION E5):
// more of them within its window than the app's settings allow. Held ones
// wait for an admin; everything else was done.
type GuardError struct {
	App          string `json:"app"`
	Offboard     int    `json:"offboard"`
	Held         int    `json:"held"`
	Members      int    `json:"members"`
	Percent      int    `json:"percent"`
	Irreversible int    `json:"irreversible"`
	Window       string `json:"window"`
}

func (g *GuardError) Error() string {
	what := fmt.Sprintf("this sync would suspend or remove %d of %d members of %s", g.Offboard, g.Members, g.App)
	if g.Held > 0 {
		what = fmt.Sprintf("%d off-boardings of %s are held: with them, more than %d%% of its %d members (or more than %d removals and wipes) would be off-boarded within %s",
			g.Held, g.App, g.Percent, g.Members, g.Irreversible, g.Window)
		return fmt.Sprintf("deletion guard: %s; they wait for an admin. Review them with `roster plan --app %s`, then release them with `roster sync --app %s --allow-deletes` if intended",
			what, g.App, g.App)
	}
	return fmt.Sprintf("deletion guard: %s, more than the guard allows (%d%%, or %d removals and wipes within %s); these would be held for an admin. Review with `roster plan --app %s`; `roster sync --app %s --allow-deletes` releases them",
		what, g.Percent, g.Irreversible, g.Window, g.App, g.App)
}

// ErrGuard matches every *GuardError with errors.Is.
var ErrGuard = errors.New("deletion guard")

// Is makes errors.Is(err, ErrGuard) true for a *GuardError.
func (g *GuardError) Is(target error) bool { return target == ErrGuard }

// Plan previews a sync of the app: its queued work, or with full every user
// it holds or should hold, against the team as listed from the app now (a
// read: no write route is called).
func (e *Engine) Plan(ctx context.Context, a app.Instance, full bool) (Preview, error) {
	var sv *Survey
	if full {
		conn, err := e.connect(ctx, a, e.pacer(a.ID))
		if err != nil {
			return Preview{}, err
		}
		if sv, err = e.survey(ctx, a, conn); err != nil {
			return Preview{}, err
		}
	}
	return e.plan(ctx, a, full, sv)
}

// plan previews the app's users; a survey's findings replace the known state.
func (e *Engine) plan(ctx context.Context, a app.Instance, full bool, sv *Survey) (Preview, error) {
	p := Preview{App: a.Name, Full: full, Changes: []Change{}, Groups: []GroupChange{}, Summary: map[Op]int{}, Survey: sv}
	ids, err := e.st.TargetUsers(ctx, a.ID, full)
	if err != nil {
		return p, err
	}
	ids = withAdopted(ids, sv)
	if ids, err = e.withPendingOffboardings(ctx, a.ID, ids); err != nil {
		return p, err
	}
	items, err := e.itemStates(ctx, a.ID)
	if err != nil {
		return p, err
	}
	now := time.Now()
	for start := 0; start < len(ids); start += 500 {
		batch := make([]store.WorkItem, 0, 500)
		for _, id := range ids[start:min(start+500, len(ids))] {
			batch = append(batch, store.WorkItem{AppID: a.ID, Kind: store.WorkUser, RefID: id})
		}
		jobs, err := e.load(ctx, a, batch)
		if err != nil {
			return p, err
		}
		for _, j := range jobs {
			if k, ok := sv.actualOf(j.out.Item.RefID); ok {
				j.known = k
			}
		}
		e.intents(a, jobs, now)
		for _, j := range jobs {
			state, due := itemState(items[j.out.Item.RefID], j.ob, now)
			for _, act := range e.gateKind(a.Kind, Plan(j.desired, j.known, j.settings)) {
				p.add(j, act, state, due)
			}
			if j.desired.Grace && j.ob != nil {
				p.addScheduled(j, a)
			}
		}
	}
	if p.Members, err = e.st.CountAccounts(ctx, a.ID); err != nil {
		return p, err
	}
	if sv != nil {
		p.Members = sv.Members
	}
	sort.SliceStable(p.Changes, func(i, k int) bool { return p.Changes[i].User < p.Changes[k].User })
	if err := e.planGroups(ctx, a, &p); err != nil {
		return p, err
	}
	since, err := e.windowSoFar(ctx, a)
	if err != nil {
		return p, err
	}
	p.Guard = p.guardOf(a, since)
	return p, nil
}

// withAdopted adds the users whose lost creates a survey found.
func withAdopted(ids []int64, sv *Survey) []int64 {
	if sv == nil {
		return ids
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	for id := range sv.actual {
		if !have[id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	return ids
}

// withPendingOffboardings adds the users whose removal waits for its grace
// period or whose off-boarding the guard holds: a plan shows them too.
func (e *Engine) withPendingOffboardings(ctx context.Context, appID int64, ids []int64) ([]int64, error) {
	obs, err := e.st.ListOffboardings(ctx, appID)
	if err != nil {
		return nil, err
	}
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	added := false
	for _, ob := range obs {
		if (ob.Phase == store.PhaseGrace || ob.Held) && !have[ob.UserID] {
			ids, have[ob.UserID], added = append(ids, ob.UserID), true, true
		}
	}
	if added {
		sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	}
	return ids, nil
}

// acceptedMaybe is the member as it may be by the time a worker acts: an
// invitation is accepted in Dropbox, not in Roster, and the engine re-reads
// the member before off-boarding it, so a plan shows the harsher case.
func acceptedMaybe(k *Known) *Known {
	if k == nil || k.Status != connector.StatusInvited {
		return k
	}
	worst := *k
	worst.Status = connector.StatusActive
	return &worst
}

// windowSoFar counts the off-boardings already made in the guard's window.
func (e *Engine) windowSoFar(ctx context.Context, a app.Instance) ([2]int, error) {
	all, irr, err := e.st.OffboardsSince(ctx, a.ID, time.Now().Add(-a.Settings.Guard.GuardWindow()))
	return [2]int{all, irr}, err
}

// itemStates maps the app's queued work by user.
func (e *Engine) itemStates(ctx context.Context, appID int64) (map[int64]store.WorkItem, error) {
	items, err := e.st.PendingWork(ctx, appID, 1_000_000)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]store.WorkItem, len(items))
	for _, it := range items {
		if it.Kind == store.WorkUser {
			out[it.RefID] = it
		}
	}
	return out, nil
}

// itemState says where a user's change stands, from its work item.
func itemState(it store.WorkItem, ob *store.Offboarding, now time.Time) (string, *time.Time) {
	switch {
	case it.State == "held" || (ob != nil && ob.Held && ob.ConfirmedBy == ""):
		return StateHeld, nil
	case it.LeaseUntil.After(now):
		return StateInFlight, nil
	case it.Attempts > 0 && it.DueAt.After(now):
		due := it.DueAt
		return StateRetrying, &due
	}
	return StateDue, nil
}

// addScheduled shows a removal that waits for its grace period.
func (p *Preview) addScheduled(j *job, a app.Instance) {
	due := j.ob.RemoveDue
	d := j.settings.Deactivation
	d.RemoveAfter = ""
	act := planGone(j.known, app.Settings{Features: a.Settings.Features, Deactivation: d}, false)
	for _, x := range act {
		if x.Op == OpRemove && x.Skipped == "" {
			p.add(j, x, StateScheduled, &due)
		}
	}
}

func (p *Preview) add(j *job, act Action, state string, due *time.Time) {
	c := Change{User: j.name, UserID: j.out.Item.RefID, Op: act.Op, Changes: act.Changes, Skipped: act.Skipped, Detail: map[string]any{},
		State: state, Due: due}
	if _, irr := offboards([]Action{act}, acceptedMaybe(j.known)); irr {
		c.Irreversible = true
	}
	if j.ob != nil {
		c.ConfirmedBy = j.ob.ConfirmedBy
	}
	switch act.Op {
	case OpCreate:
		c.Detail["email"], c.Detail["role"], c.Detail["welcome_email"] = act.Member.Email, act.Member.Role, act.Member.SendWelcomeEmail
	case OpSuspend:
		c.Detail["wipe_data"] = act.Wipe
	case OpRemove:
		c.Detail["wipe_data"] = act.Remove.WipeData
		if act.Remove.TransferDestEmail != "" {
			c.Detail["transfer_to"], c.Detail["transfer_admin"] = act.Remove.TransferDestEmail, act.Remove.TransferAdminEmail
		}
	}
	if len(c.Detail) == 0 {
		c.Detail = nil
	}
	p.Changes = append(p.Changes, c)
	switch {
	case act.Skipped != "":
	case state == StateScheduled:
		p.Scheduled++
	default:
		p.Summary[act.Op]++
		if act.Op == OpSuspend || act.Op == OpRemove {
			p.Offboard++
		}
		if c.Irreversible {
			p.Irreversible++
		}
		if state == StateHeld {
			p.Held++
		}
	}
}

// guardOf says whether the plan's unconfirmed off-boardings, made at once,
// would exceed the deletion guard's limits (and so be held), or are held.
func (p *Preview) guardOf(a app.Instance, window [2]int) *GuardError {
	offboard, irreversible := window[0], window[1]
	for _, c := range p.Changes {
		if c.Skipped != "" || c.State == StateScheduled || c.ConfirmedBy != "" || (c.Op != OpSuspend && c.Op != OpRemove) {
			continue
		}
		offboard++
		if c.Irreversible {
			irreversible++
		}
	}
	g := a.Settings.Guard
	maxAll, maxIrr := g.Limits(p.Members)
	if p.Held == 0 && offboard <= maxAll && irreversible <= maxIrr {
		return nil
	}
	return &GuardError{App: a.Name, Offboard: offboard, Held: p.Held, Members: p.Members, Percent: g.Percent,
		Irreversible: g.Irreversible, Window: g.GuardWindow().String()}
}

// noteGuard reports whether this trip is new, so waiting workers log it once.
func (e *Engine) noteGuard(appID int64, offboard int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.guards[appID] == offboard {
		return false
	}
	e.guards[appID] = offboard
	return true
}
