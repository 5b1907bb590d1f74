package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// groupBatch is how many group items are claimed at once.
const groupBatch = 50

// pendingRetry is how soon a group whose members wait for accounts is looked
// at again, like a first retry; the user items making the accounts run meanwhile.
func (e *Engine) pendingRetry() time.Duration { return 2 * e.cfg.BaseBackoff }

// groupStore returns the store's group push part, if it has one.
func (e *Engine) groupStore() (store.GroupPush, bool) {
	return e.st, true
}

// groupReconciler works WorkGroup items: a pushed group per group and app.
type groupReconciler struct{ e *Engine }

func (groupReconciler) Kind() string { return store.WorkGroup }

// Lanes: one lane of small batches, only while the app pushes groups;
// otherwise the items wait until the feature is switched on.
func (groupReconciler) Lanes(a app.Instance) (int, int) {
	if !a.Settings.Features.PushGroups {
		return 0, 0
	}
	return 1, groupBatch
}

// Reconcile works a batch of group items, several groups at once.
func (r groupReconciler) Reconcile(ctx context.Context, p *Pass, items []store.WorkItem) ([]store.Outcome, error) {
	e := r.e
	gp, _ := e.groupStore()
	inputs, err := e.loadGroups(ctx, gp, p.App, items, nil)
	if err != nil {
		return nil, err
	}
	outs := make([]store.Outcome, len(items))
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.cfg.Parallel)
	for i := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = e.reconcileGroup(ctx, gp, p.App, p.Conn, items[i], inputs[i], &p.groups).outcome()
		}()
	}
	wg.Wait()
	return outs, nil
}

// groupOut is what one group item's calls did, on its way to its outcome.
type groupOut struct {
	Item    store.WorkItem
	Group   store.PushedGroup // the new RemoteID, RemoteName and Pending
	Forget  bool              // see store.GroupResult
	Reset   bool
	Added   []store.GroupMember
	Removed []string
	Logs    []audit.Entry
	Err     error
	// Pending: members wait for their accounts, which is not a failure;
	// the item waits (see pendingRetry).
	Pending bool
}

func (o groupOut) outcome() store.Outcome {
	return store.Outcome{Item: o.Item, Logs: o.Logs, Err: o.Err, Wait: o.Pending,
		Group: store.GroupResult{Row: o.Group, Forget: o.Forget, Reset: o.Reset, Added: o.Added, Removed: o.Removed}}
}

// loadGroups reads everything the planner needs for a batch with five queries.
func (e *Engine) loadGroups(ctx context.Context, gp store.GroupPush, a app.Instance, items []store.WorkItem, creating map[int64]bool) ([]*groupInput, error) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.RefID
	}
	rows, err := gp.PushedGroups(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	members, err := gp.DirectoryMembers(ctx, ids)
	if err != nil {
		return nil, err
	}
	known, err := gp.KnownGroupMembers(ctx, a.ID, ids)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var users []int64
	note := func(id int64) {
		if id != 0 && !seen[id] {
			seen[id] = true
			users = append(users, id)
		}
	}
	for _, id := range ids {
		for _, m := range members[id] {
			note(m.UserID)
		}
		for _, k := range known[id] {
			note(k.UserID)
		}
	}
	accts, err := e.st.Accounts(ctx, a.ID, users)
	if err != nil {
		return nil, err
	}
	names, err := e.leaverNames(ctx, members, known)
	if err != nil {
		return nil, err
	}
	out := make([]*groupInput, len(items))
	for i, id := range ids {
		row, ok := rows[id]
		if !ok {
			continue // no longer pushed (unlinked meanwhile): nothing to do
		}
		out[i] = &groupInput{row: row, members: members[id], accounts: accts, known: known[id], names: names, creating: creating}
	}
	return out, nil
}

// leaverNames finds the usernames of known members who are not (or no
// longer) in their directory group, for plans and the log.
func (e *Engine) leaverNames(ctx context.Context, members map[int64][]store.DirectoryMember, known map[int64][]store.GroupMember) (map[int64]string, error) {
	in := map[int64]bool{}
	for _, ms := range members {
		for _, m := range ms {
			in[m.UserID] = true
		}
	}
	var ids []int64
	for _, ks := range known {
		for _, k := range ks {
			if k.UserID != 0 && !in[k.UserID] {
				ids = append(ids, k.UserID)
			}
		}
	}
	names := map[int64]string{}
	if len(ids) == 0 {
		return names, nil
	}
	users, err := e.st.UsersByID(ctx, ids)
	for id, u := range users {
		names[id] = u.Username
	}
	return names, err
}

// groupRun is one group item on its way through the calls.
type groupRun struct {
	a   app.Instance
	in  *groupInput
	out groupOut
}

func (r *groupRun) log(op, outcome, msg string, detail map[string]any) {
	r.out.Logs = append(r.out.Logs, audit.Entry{Actor: "engine", Action: ActionGroupPrefix + op, TargetKind: "group",
		Target: r.in.row.Group, App: r.a.Name, Outcome: outcome, Message: msg, Detail: detail})
}

// fail records a failed call; the item is retried (or becomes a task).
func (r *groupRun) fail(op string, err error) {
	r.log(op, audit.Failure, err.Error(), nil)
	r.out.Err = err
}

// reconcileGroup plans one group and makes the calls, recording in its
// outcome every change that went through, even when a later call fails.
func (e *Engine) reconcileGroup(ctx context.Context, gp store.GroupPush, a app.Instance, conn connector.Connector, it store.WorkItem, in *groupInput, rg *remoteGroups) groupOut {
	if in == nil {
		return groupOut{Item: it, Forget: true}
	}
	r := &groupRun{a: a, in: in, out: groupOut{Item: it, Group: in.row}}
	p := planGroup(*in)
	switch {
	case p.unlink:
		e.unlinkGroup(ctx, conn, r, p.delete)
		return r.out
	case p.ensure:
		if !e.ensureGroup(ctx, gp, conn, r, rg) {
			return r.out
		}
		p = planGroup(*in) // a linked group brings members of its own
	}
	if p.rename != "" && !e.renameGroup(ctx, conn, r, p.rename) {
		return r.out
	}
	r.out.Removed = append(r.out.Removed, p.forget...)
	if e.changeMembers(ctx, conn, r, p.remove, false) {
		e.changeMembers(ctx, conn, r, p.add, true)
	}
	r.out.Group.Pending = len(p.pending)
	r.out.Pending = len(p.pending) > 0 && r.out.Err == nil
	return r.out
}

func (e *Engine) unlinkGroup(ctx context.Context, conn connector.Connector, r *groupRun, del bool) {
	row := r.in.row
	if !del {
		r.out.Forget = true
		if row.RemoteID != "" {
			r.log(GroupUnlink, audit.Success, "Roster no longer manages this Dropbox group; it was left as it is", map[string]any{"dropbox_group_id": row.RemoteID})
		}
		return
	}
	err := conn.DeleteGroup(ctx, row.RemoteID)
	if err != nil && connector.KindOf(err) != connector.NotFound && connector.KindOf(err) != connector.Conflict {
		r.fail(GroupDelete, err)
		return
	}
	r.out.Forget, r.out.Reset, r.out.Group.RemoteID, r.out.Group.RemoteName = true, true, "", ""
	r.log(GroupDelete, audit.Success, "", map[string]any{"dropbox_group_id": row.RemoteID})
}

func (e *Engine) renameGroup(ctx context.Context, conn connector.Connector, r *groupRun, name string) bool {
	old := r.out.Group.RemoteName
	g, err := conn.RenameGroup(ctx, r.out.Group.RemoteID, name)
	if err != nil {
		r.groupGone(err)
		r.fail(GroupRename, err)
		return false
	}
	r.out.Group.RemoteName = g.Name
	r.log(GroupRename, audit.Success, "", map[string]any{"changes": map[string][2]string{"name": {old, g.Name}}, "dropbox_group_id": g.ID})
	return true
}

// groupGone forgets a Dropbox group deleted outside Roster, so the retry
// creates it again instead of failing for ever.
func (r *groupRun) groupGone(err error) {
	if errors.Is(err, connector.ErrGroupGone) {
		r.out.Group.RemoteID, r.out.Group.RemoteName, r.out.Reset = "", "", true
		r.out.Added, r.out.Removed = nil, nil
	}
}

// changeMembers adds or removes members in chunks; each chunk that went
// through is recorded. It reports whether every chunk did.
func (e *Engine) changeMembers(ctx context.Context, conn connector.Connector, r *groupRun, refs []memberRef, add bool) bool {
	op, call := GroupRemove, conn.RemoveGroupMembers
	if add {
		op, call = GroupAdd, conn.AddGroupMembers
	}
	var done []memberRef
	defer func() {
		if len(done) > 0 {
			r.log(op, audit.Success, "", map[string]any{"members": capNames(refNames(done)), "count": len(done), "dropbox_group_id": r.out.Group.RemoteID})
		}
	}()
	for lo := 0; lo < len(refs); lo += groupMemberBatch {
		chunk := refs[lo:min(lo+groupMemberBatch, len(refs))]
		ok, err := e.sendChunk(ctx, call, r, chunk)
		done = append(done, ok...)
		r.record(ok, add)
		if err != nil {
			r.groupGone(err)
			r.fail(op, err)
			return false
		}
	}
	return true
}

// sendChunk sends one chunk. Already in the wanted state counts as done (the
// connector resends only the difference first). A member the app no longer
// knows fails the whole call, so the chunk is then sent one by one to let
// the others through.
func (e *Engine) sendChunk(ctx context.Context, call func(context.Context, string, []string) error, r *groupRun, chunk []memberRef) ([]memberRef, error) {
	ids := make([]string, len(chunk))
	for i, c := range chunk {
		ids[i] = c.MemberID
	}
	err := call(ctx, r.out.Group.RemoteID, ids)
	if err == nil || connector.KindOf(err) == connector.Conflict {
		return chunk, nil
	}
	if connector.KindOf(err) != connector.NotFound || isGroupTag(err) || len(chunk) == 1 {
		return nil, err
	}
	var ok []memberRef
	var errs []error
	for _, c := range chunk {
		err := call(ctx, r.out.Group.RemoteID, []string{c.MemberID})
		switch {
		case err == nil || connector.KindOf(err) == connector.Conflict:
			ok = append(ok, c)
		case connector.KindOf(err) == connector.NotFound && !isGroupTag(err):
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
		default:
			return ok, err
		}
	}
	return ok, errors.Join(errs...)
}

// isGroupTag says the group, not a member, is what the app no longer knows.
func isGroupTag(err error) bool { return errors.Is(err, connector.ErrGroupGone) }

func (r *groupRun) record(refs []memberRef, add bool) {
	for _, c := range refs {
		if add {
			r.out.Added = append(r.out.Added, store.GroupMember{MemberID: c.MemberID, UserID: c.UserID})
		} else {
			r.out.Removed = append(r.out.Removed, c.MemberID)
		}
	}
}

// capNames keeps a log entry small when many members change at once.
func capNames(names []string) any {
	if len(names) <= 100 {
		return names
	}
	return map[string]any{"first": names[:100], "total": len(names)}
}
