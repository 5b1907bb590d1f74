package engine

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
)

// actionPhase re-plans every job from its state after the create phase and
// makes the remaining calls, several jobs at once.
func (e *Engine) actionPhase(ctx context.Context, a app.Instance, conn connector.Connector, jobs []*job) {
	parallel(e.cfg.Parallel, jobs, func(j *job) {
		if j.err != nil {
			return
		}
		acts := gate(conn, Plan(j.desired, j.known, j.settings))
		for i := 0; i < len(acts); i++ {
			act := acts[i]
			if act.Skipped != "" {
				j.logf(a, string(act.Op), audit.Skipped, "not sent: %s", act.Skipped)
				continue
			}
			if act.Op == OpCreate {
				if !j.created { // planned only now: the next round's create phase takes it
					j.err = errPartial
				}
				return
			}
			if err := e.apply(ctx, a, conn, j, act); err != nil {
				j.err = err
				return
			}
			if act.Op == OpRecover && j.known != nil && j.known.Status != connector.StatusRemoved {
				acts = append(acts, gate(conn, Plan(j.desired, j.known, j.settings))...) // what the member came back as
			}
		}
	})
}

// apply makes one call and updates the job's known state to match.
func (e *Engine) apply(ctx context.Context, a app.Instance, conn connector.Connector, j *job, act Action) error {
	if act.Op == OpForget {
		j.forget = true
		return nil
	}
	k := j.known
	var err error
	detail := map[string]any{}
	for f, c := range act.Changes {
		detail[f] = []string{c[0], c[1]}
	}
	switch act.Op {
	case OpUpdate:
		_, err = conn.SetProfile(ctx, k.MemberID, act.Profile)
		if err == nil {
			applyProfile(k, act.Profile)
		}
	case OpSetRole:
		err = withCap(conn, act.Op, func(c connector.RoleSetter) error { return c.SetRole(ctx, k.MemberID, act.Role) })
		if err == nil {
			k.Role = act.Role
		}
	case OpSuspend:
		detail["wipe_data"] = act.Wipe
		err = withCap(conn, act.Op, func(c connector.Suspender) error { return c.Suspend(ctx, k.MemberID, act.Wipe) })
		if err == nil {
			k.Status = connector.StatusSuspended
		}
	case OpUnsuspend:
		err = withCap(conn, act.Op, func(c connector.Suspender) error { return c.Unsuspend(ctx, k.MemberID) })
		if err == nil {
			k.Status = connector.StatusActive
		}
	case OpRecover:
		err = withCap(conn, act.Op, func(c connector.Recoverer) error { return c.Recover(ctx, k.MemberID) })
		if err == nil {
			err = e.reread(ctx, conn, j) // it returns to the status it had
		} else if errors.Is(err, connector.ErrUnrecoverable) || connector.KindOf(err) == connector.NotFound {
			// Its window has passed (or its files went): the re-plan makes a
			// new account. Other refusals, a full licence count say, are tasks.
			k.Recoverable = false
			j.out.Logs = append(j.out.Logs, logEntry(a, j.name, string(act.Op), audit.Failure, err.Error(), detail))
			return errPartial
		}
	case OpRemove:
		detail["wipe_data"] = act.Remove.WipeData
		if act.Remove.TransferDestEmail != "" {
			detail["transfer_to"], detail["transfer_admin"] = act.Remove.TransferDestEmail, act.Remove.TransferAdminEmail
		}
		if err = conn.Remove(ctx, k.MemberID, act.Remove); err == nil {
			// Dropbox can recover it for 7 days unless its files were transferred.
			k.Status, k.Silent, k.RemovedAt = connector.StatusRemoved, false, time.Now()
			k.Recoverable = act.Remove.TransferDestEmail == ""
		}
	}
	if err != nil {
		j.out.Logs = append(j.out.Logs, logEntry(a, j.name, string(act.Op), audit.Failure, err.Error(), detail))
		return e.recover(ctx, conn, j, err)
	}
	j.out.Logs = append(j.out.Logs, logEntry(a, j.name, string(act.Op), audit.Success, "", detail))
	return nil
}

func applyProfile(k *Known, p connector.ProfileChange) {
	for _, f := range []struct {
		dst *string
		src *string
	}{{&k.Email, p.Email}, {&k.GivenName, p.GivenName}, {&k.Surname, p.Surname}, {&k.ExtID, p.ExternalID}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
}

// reread replaces the job's known state with the member as the app holds it now.
func (e *Engine) reread(ctx context.Context, conn connector.Connector, j *job) error {
	found, err := conn.GetMembers(ctx, []connector.Selector{{ID: j.known.MemberID}})
	switch {
	case err != nil:
		return err
	case found[0] == nil:
		j.forget = true
	default:
		j.known = keepRemoval(j.known, knownFromMember(*found[0], j.known.Silent))
	}
	return nil
}

// recover refreshes known state after a call found Dropbox not as expected, so
// the retry re-plans from the truth. A member that is gone is forgotten; if
// the directory wants it gone too, that is success.
func (e *Engine) recover(ctx context.Context, conn connector.Connector, j *job, err error) error {
	switch connector.KindOf(err) {
	case connector.NotFound:
		j.forget = true
		if j.desired.Want == WantGone {
			return nil
		}
		return err
	case connector.Conflict:
		if gerr := e.reread(ctx, conn, j); gerr != nil {
			return errors.Join(err, gerr)
		}
	}
	return err
}
