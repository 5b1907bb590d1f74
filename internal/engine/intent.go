package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// fresh re-reads the app, so that work is never done under settings older
// than the latest saved ones.
func (e *Engine) fresh(ctx context.Context, a app.Instance) (app.Instance, error) {
	cur, err := e.st.GetApp(ctx, a.Name)
	if err == nil && cur.ID == a.ID {
		return cur, provisioning(cur)
	}
	apps, lerr := e.st.ListApps(ctx) // renamed since the lane was taken
	if lerr != nil {
		return a, fmt.Errorf("read the settings of app %s: %w", a.Name, errors.Join(err, lerr))
	}
	for _, cur := range apps {
		if cur.ID == a.ID {
			return cur, provisioning(cur)
		}
	}
	return a, fmt.Errorf("app %s no longer exists", a.Name)
}

// intents settles, for each leaver, the deactivation settings its
// off-boarding is made under. A leaver's first pass records the settings in
// force; later passes use the gentler of that record and today's settings
// (app.Gentler), so a setting saved later never makes an earlier leaver's
// off-boarding harsher, and a stale one never overrides a gentler choice.
// A user who is wanted again ends the off-boarding.
func (e *Engine) intents(a app.Instance, jobs []*job, now time.Time) {
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		if j.desired.Want != WantGone {
			if j.ob != nil && j.desired.Want == WantActive {
				j.out.User.DropOffboarding, j.ob = true, nil // nothing of it holds the user any more
			}
			continue
		}
		ob := j.ob
		if j.known == nil || j.known.Status == connector.StatusRemoved {
			if ob != nil && ob.Phase == store.PhaseGrace { // removed meanwhile: no removal waits
				ob.Phase, ob.RemoveDue = store.PhaseFinal, time.Time{}
				j.out.User.Offboarding = ob
			}
			continue // nothing (more) to off-board
		}
		if ob == nil {
			ob = &store.Offboarding{AppID: a.ID, UserID: j.out.Item.RefID, Settings: a.Settings.Deactivation, StartedAt: now}
		}
		d := app.Gentler(ob.Settings, a.Settings.Deactivation)
		if ob.Kept {
			d = app.Gentler(app.Deactivation{Type: app.DeactivateSuspend}, d)
		}
		ob.Phase, ob.RemoveDue = store.PhaseFinal, time.Time{}
		// An invitation has no files to keep: it is withdrawn at once.
		invited := j.known != nil && j.known.Status == connector.StatusInvited
		if due := ob.StartedAt.Add(d.Grace()); d.Type == app.DeactivateRemove && now.Before(due) && !invited {
			ob.Phase, ob.RemoveDue = store.PhaseGrace, due
			j.desired.Grace = true
		}
		j.settings.Deactivation = d
		j.ob, j.out.User.Offboarding = ob, ob
	}
}

// errHeld keeps a held job out of the call phases; finish records the hold.
var errHeld = errors.New("held by the deletion guard")

// guard applies the deletion guard over its sliding window (MISSION E5):
// the off-boardings this batch would make are counted with those made in
// the window by every pass, worker and process. When the unconfirmed ones
// would take the count over a limit, all of them are held for an admin;
// off-boardings an admin confirmed always go ahead.
func (e *Engine) guard(ctx context.Context, a app.Instance, jobs []*job) {
	var cand []*job
	var evs []store.OffboardEvent
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		confirmed := j.ob != nil && j.ob.ConfirmedBy != ""
		if j.ob != nil && j.ob.Held && !confirmed {
			j.held, j.err = true, errHeld
			continue
		}
		if off, irr := offboards(Plan(j.desired, j.known, j.settings), j.known); off {
			cand = append(cand, j)
			evs = append(evs, store.OffboardEvent{UserID: j.out.Item.RefID, Irreversible: irr, Confirmed: confirmed})
		}
	}
	if len(cand) == 0 {
		return
	}
	fail := func(err error) {
		for _, j := range cand {
			j.err = fmt.Errorf("deletion guard: %w", err)
		}
	}
	members, err := e.st.CountAccounts(ctx, a.ID)
	if err != nil {
		fail(err)
		return
	}
	g := a.Settings.Guard
	maxAll, maxIrr := g.Limits(members)
	since := time.Now().Add(-g.GuardWindow())
	ok, err := e.st.ReserveOffboards(ctx, a.ID, since, maxAll, maxIrr, evs)
	if err != nil || ok {
		if err != nil {
			fail(err)
		}
		return
	}
	var confirmed []store.OffboardEvent
	for i, j := range cand {
		if evs[i].Confirmed {
			confirmed = append(confirmed, evs[i])
			continue
		}
		j.held, j.err = true, errHeld
		if j.ob == nil { // a directory suspension: keep the hold on record too
			j.ob = &store.Offboarding{AppID: a.ID, UserID: j.out.Item.RefID, Settings: j.settings.Deactivation, StartedAt: time.Now(), Phase: store.PhaseFinal}
		}
		j.ob.Held, j.out.User.Offboarding = true, j.ob
		j.logf(a, "held", audit.Skipped, "held by the deletion guard: more than %d off-boardings (or %d removals and wipes) within %s; release it with roster sync --app %s --allow-deletes", maxAll, maxIrr, g.GuardWindow(), a.Name)
	}
	if _, err := e.st.ReserveOffboards(ctx, a.ID, since, maxAll, maxIrr, confirmed); err != nil {
		for _, j := range cand {
			if !j.held {
				j.err = fmt.Errorf("deletion guard: %w", err)
			}
		}
	}
}

// offboards says whether the actions suspend or remove the member, and
// whether that cannot be undone: a removal of a member who had signed in,
// or a wipe of devices.
func offboards(acts []Action, k *Known) (off, irreversible bool) {
	for _, act := range acts {
		if act.Skipped != "" {
			continue
		}
		switch act.Op {
		case OpSuspend:
			off = true
			irreversible = irreversible || act.Wipe
		case OpRemove:
			// An invitation withdrawn loses nothing: no files, no devices.
			off = true
			irreversible = irreversible || act.Remove.TransferDestEmail != "" || (k != nil && k.Status != connector.StatusInvited)
		}
	}
	return off, irreversible
}

// heldError reports the off-boardings the guard holds, and logs it once per count.
func (e *Engine) heldError(ctx context.Context, a app.Instance, held int) error {
	members, err := e.st.CountAccounts(ctx, a.ID)
	if err != nil {
		return err
	}
	g := &GuardError{App: a.Name, Offboard: held, Held: held, Members: members, Percent: a.Settings.Guard.Percent,
		Irreversible: a.Settings.Guard.Irreversible, Window: a.Settings.Guard.GuardWindow().String()}
	if e.noteGuard(a.ID, held) {
		_ = e.st.AppendLog(ctx, audit.Entry{Actor: "engine", Action: "sync.guard", TargetKind: "app", Target: a.Name, App: a.Name,
			Outcome: audit.Failure, Message: g.Error(), Detail: map[string]any{"held": held, "members": members}})
	}
	return g
}
