package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
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
}

// Preview is a plan: what a sync would do, computed without any write call.
type Preview struct {
	App      string        `json:"app"`
	Full     bool          `json:"full"`
	Changes  []Change      `json:"changes"`
	Groups   []GroupChange `json:"groups"`
	Summary  map[Op]int    `json:"summary"`
	Offboard int           `json:"offboard"` // suspensions and removals
	Members  int           `json:"members"`  // accounts the app holds now
	Guard    *GuardError   `json:"guard,omitempty"`
	// Survey is what listing the team found, in a full plan.
	Survey *Survey `json:"reconcile,omitempty"`
}

// GuardError stops a sync that would off-board too many members (MISSION E5).
type GuardError struct {
	App      string `json:"app"`
	Offboard int    `json:"offboard"`
	Members  int    `json:"members"`
	Percent  int    `json:"percent"`
}

func (g *GuardError) Error() string {
	return fmt.Sprintf("deletion guard: this sync would suspend or remove %d of %d members of %s, more than %d%%; nothing was changed. Review it with `roster plan --app %s`, then run `roster sync --app %s --allow-deletes` if it is intended",
		g.Offboard, g.Members, g.App, g.Percent, g.App, g.App)
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
	for start := 0; start < len(ids); start += 500 {
		items := make([]store.WorkItem, 0, 500)
		for _, id := range ids[start:min(start+500, len(ids))] {
			items = append(items, store.WorkItem{AppID: a.ID, Kind: store.WorkUser, RefID: id})
		}
		jobs, err := e.load(ctx, a, items)
		if err != nil {
			return p, err
		}
		for _, j := range jobs {
			if k, ok := sv.actualOf(j.out.Item.RefID); ok {
				j.known = k
			}
			for _, act := range Plan(j.desired, j.known, a.Settings) {
				p.add(j, act)
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
	p.Guard = guard(a, p.Offboard, p.Members)
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

func (p *Preview) add(j *job, act Action) {
	c := Change{User: j.name, UserID: j.out.Item.RefID, Op: act.Op, Changes: act.Changes, Skipped: act.Skipped, Detail: map[string]any{}}
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
	if act.Skipped == "" {
		p.Summary[act.Op]++
		if act.Op == OpSuspend || act.Op == OpRemove {
			p.Offboard++
		}
	}
}

// guard trips when at least Min members would be off-boarded and they are more
// than Percent of the members the app holds.
func guard(a app.Instance, offboard, members int) *GuardError {
	g := a.Settings.Guard
	if offboard < max(g.Min, 1) || offboard*100 <= members*g.Percent {
		return nil
	}
	return &GuardError{App: a.Name, Offboard: offboard, Members: members, Percent: g.Percent}
}

// checkGuard previews the queued work and refuses it when the guard trips,
// recording why in the system log.
func (e *Engine) checkGuard(ctx context.Context, a app.Instance) error {
	ids, err := e.st.TargetUsers(ctx, a.ID, false)
	if err != nil || len(ids) < max(a.Settings.Guard.Min, 1) {
		return err // too few items to trip it: skip the preview
	}
	p, err := e.Plan(ctx, a, false)
	if err != nil || p.Guard == nil {
		return err
	}
	if e.noteGuard(a.ID, p.Offboard) {
		_ = e.st.AppendLog(ctx, audit.Entry{Actor: "engine", Action: "sync.guard", TargetKind: "app", Target: a.Name, App: a.Name,
			Outcome: audit.Failure, Message: p.Guard.Error(), Detail: map[string]any{"offboard": p.Offboard, "members": p.Members}})
	}
	return p.Guard
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
