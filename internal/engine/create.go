package engine

import (
	"context"
	"fmt"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

// createPhase sends every create of the batch in as few calls as the app allows,
// then links the members the app says already exist instead of failing on them:
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
// adopts them as the users' accounts. Those it cannot find are removed
// members, which a lookup may not show: linkRemoved lists them.
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
	var hidden []*job
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
		case m == nil || (m.Status == connector.StatusRemoved && !m.Recoverable):
			hidden = append(hidden, j)
		default:
			adopt(a, j, m, owners, "an existing member was linked, not duplicated")
		}
	}
	e.linkRemoved(ctx, a, conn, hidden)
}

// linkRemoved lists the team with its removed members and adopts, for each
// user, the recoverable removed member that holds its email or external id
// and so refused its add: the action phase then recovers it, files intact.
// One listing covers the batch; it is needed only when Roster lost the
// member's id (removed in the app directly, or the record dropped).
func (e *Engine) linkRemoved(ctx context.Context, a app.Instance, conn connector.Connector, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	found, err := recoverableHolders(ctx, conn, jobs)
	var owners map[string]int64
	if err == nil {
		owners, err = e.memberOwners(ctx, a, found)
	}
	for i, j := range jobs {
		switch {
		case err != nil:
			j.err = err
			j.logf(a, "link", audit.Failure, "list the team's removed members: %v", err)
		case found[i] == nil:
			j.err = connector.Refusef(connector.Permanent, "create", connector.ErrAlreadyMember,
				"the %s app %s refuses a new member with %s, but neither a lookup nor a listing of its members with the removed ones finds a member Roster can link or recover: check that email in the app's admin console, then retry this task", a.Kind, a.Name, j.desired.Email)
			j.logf(a, "create", audit.Failure, "%v", j.err)
		default:
			adopt(a, j, found[i], owners, "a removed member was found by listing the team: it is recovered, not duplicated")
		}
	}
}

// recoverableHolders returns, for each job, the recoverable removed member
// with its email or, failing that, its external id.
func recoverableHolders(ctx context.Context, conn connector.Connector, jobs []*job) ([]*connector.Member, error) {
	byEmail := make(map[string]int, len(jobs))
	byExt := make(map[string]int, len(jobs))
	for i, j := range jobs {
		byEmail[directory.Key(j.desired.Email)] = i
		byExt[j.desired.ExtID] = i
	}
	emailed, exted := make([]*connector.Member, len(jobs)), make([]*connector.Member, len(jobs))
	err := conn.ListMembers(ctx, true, func(ms []connector.Member) error {
		for _, m := range ms {
			if m.Status != connector.StatusRemoved || !m.Recoverable {
				continue
			}
			if i, ok := byEmail[directory.Key(m.Email)]; ok {
				emailed[i] = &m
			} else if i, ok := byExt[m.ExternalID]; ok && m.ExternalID != "" {
				exted[i] = &m
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the team with its removed members: %w", err)
	}
	for i, m := range emailed {
		if m == nil {
			emailed[i] = exted[i]
		}
	}
	return emailed, nil
}

// adopt makes m the job's account unless it is already another user's.
func adopt(a app.Instance, j *job, m *connector.Member, owners map[string]int64, msg string) {
	if owners[m.ID] != 0 && owners[m.ID] != j.out.Item.RefID {
		j.err = connector.Refusef(connector.Permanent, "link", connector.ErrMemberLinked,
			"the app's member %s (%s) is already the account of another directory user (id %d), and one member is never linked to two users: check both users' email addresses, then retry this task", m.Email, m.ID, owners[m.ID])
		j.logf(a, "link", audit.Failure, "%v", j.err)
		return
	}
	owners[m.ID] = j.out.Item.RefID // a second job of this batch finding it is refused above
	j.known = knownFromMember(*m, false)
	j.out.Logs = append(j.out.Logs, logEntry(a, j.name, "link", audit.Success, msg,
		map[string]any{"member_id": m.ID, "status": m.Status}))
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
