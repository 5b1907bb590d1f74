package engine

import (
	"context"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
)

// createPhase sends every create of the batch in as few calls as the app allows,
// then links the members Dropbox says already exist instead of failing on them:
// a create that succeeded before a crash, or a member made by hand, is linked,
// never duplicated.
func (e *Engine) createPhase(ctx context.Context, a app.Instance, conn connector.Connector, jobs []*job) {
	todo := make([]*job, 0, len(jobs))
	ms := make([]connector.NewMember, 0, len(jobs))
	for _, j := range jobs {
		acts := Plan(j.desired, j.known, j.settings)
		if len(acts) == 1 && acts[0].Op == OpCreate && acts[0].Skipped == "" {
			todo = append(todo, j)
			ms = append(ms, acts[0].Member)
		}
	}
	if len(todo) == 0 {
		return
	}
	res, err := conn.AddMembers(ctx, ms)
	if err != nil {
		for _, j := range todo {
			j.created, j.err = true, err
			j.logf(a, "create", audit.Failure, "%v", err)
		}
		return
	}
	var exists []*job
	for i, j := range todo {
		j.created = true
		r := res[i]
		switch {
		case r.Err == nil:
			j.known = knownFromMember(r.Member, !ms[i].SendWelcomeEmail)
			j.out.Logs = append(j.out.Logs, logEntry(a, j.name, "create", audit.Success, "",
				map[string]any{"member_id": r.Member.ID, "email": ms[i].Email, "role": ms[i].Role, "welcome_email": ms[i].SendWelcomeEmail}))
		case connector.KindOf(r.Err) == connector.Conflict:
			exists = append(exists, j)
		default:
			j.err = r.Err
			j.logf(a, "create", audit.Failure, "%v", r.Err)
		}
	}
	e.link(ctx, a, conn, exists)
}

// link looks up members that already exist by email, then by external id, and
// adopts them as the users' accounts.
func (e *Engine) link(ctx context.Context, a app.Instance, conn connector.Connector, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	sel := make([]connector.Selector, 0, 2*len(jobs))
	for _, j := range jobs {
		sel = append(sel, connector.Selector{Email: j.desired.Email}, connector.Selector{ExternalID: j.desired.ExtID})
	}
	found, err := conn.GetMembers(ctx, sel)
	var owners map[string]int64
	if err == nil {
		owners, err = e.memberOwners(ctx, a, found)
	}
	for i, j := range jobs {
		var m *connector.Member
		if err == nil {
			m = found[2*i]
			if m == nil {
				m = found[2*i+1]
			}
		}
		switch {
		case err != nil:
			j.err = err
			j.logf(a, "link", audit.Failure, "look up existing member: %v", err)
		case m == nil || m.Status == connector.StatusRemoved:
			j.err = connector.Errorf(connector.Permanent, "members/add_v2", "user_already_on_team",
				"Dropbox holds a removed member with %s that can still be recovered (up to 7 days after removal): recover it in the Dropbox admin console to keep its files, or wait until it can no longer be recovered; then retry this task", j.desired.Email)
			j.logf(a, "create", audit.Failure, "%v", j.err)
		case owners[m.ID] != 0 && owners[m.ID] != j.out.Item.RefID:
			j.err = connector.Errorf(connector.Permanent, "link", "member_already_linked",
				"the Dropbox member %s (%s) is already the account of another directory user (id %d), and one member is never linked to two users: check both users' email addresses, then retry this task", m.Email, m.ID, owners[m.ID])
			j.logf(a, "link", audit.Failure, "%v", j.err)
		default:
			owners[m.ID] = j.out.Item.RefID // a second job of this batch finding it is refused above
			j.known = knownFromMember(*m, false)
			j.out.Logs = append(j.out.Logs, logEntry(a, j.name, "link", audit.Success, "an existing member was linked, not duplicated",
				map[string]any{"member_id": m.ID, "status": m.Status}))
		}
	}
}

// memberOwners maps the found members to the users whose accounts they
// already are; the map is never nil.
func (e *Engine) memberOwners(ctx context.Context, a app.Instance, found []*connector.Member) (map[string]int64, error) {
	var ids []string
	for _, m := range found {
		if m != nil {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return map[string]int64{}, nil
	}
	owners, err := e.st.UsersByMemberID(ctx, a.ID, ids)
	if err != nil {
		return nil, fmt.Errorf("look up linked members: %w", err)
	}
	return owners, nil
}
