package engine

import (
	"context"
	"fmt"
	"maps"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// Members added to or removed from a pushed group in Dropbox directly are
// seen only by reading the group: a full reconciliation reads every pushed
// group, makes what it read the known state and queues the groups whose
// members differ from the directory's, so the sync that follows puts them
// back like any other difference. Reading costs one call per 1,000 members.

// verifyGroups reads the members of the app's pushed groups from Dropbox.
func (e *Engine) verifyGroups(ctx context.Context, a app.Instance, conn connector.Connector) error {
	gp, ok := e.groupStore()
	pusher, can := connector.Capable[connector.GroupPusher](conn)
	if !ok || !can || !a.Settings.Features.PushGroups {
		return nil
	}
	ids, err := gp.GroupTargets(ctx, a.ID, true)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += groupBatch {
		inputs, err := e.loadGroups(ctx, gp, a, groupItems(a.ID, ids[start:min(start+groupBatch, len(ids))]), nil)
		if err != nil {
			return err
		}
		for _, in := range inputs {
			if !readable(in) {
				continue
			}
			c, err := e.checkGroup(ctx, gp, pusher, a, in)
			if err != nil {
				return fmt.Errorf("read the members of pushed group %s: %w", in.row.Group, err)
			}
			if err := gp.RecordGroupCheck(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// readable says whether a pushed group has a Dropbox group to read.
func readable(in *groupInput) bool {
	return in != nil && !in.row.Unlink && in.row.InDirectory && in.row.RemoteID != ""
}

func groupItems(appID int64, ids []int64) []store.WorkItem {
	items := make([]store.WorkItem, len(ids))
	for i, id := range ids {
		items[i] = store.WorkItem{AppID: appID, Kind: store.WorkGroup, RefID: id}
	}
	return items
}

// checkGroup reads one group's members into in and compares them with what
// Roster knew (for the log) and with the directory (to queue the group).
func (e *Engine) checkGroup(ctx context.Context, gp store.GroupPush, conn connector.GroupPusher, a app.Instance, in *groupInput) (store.GroupCheck, error) {
	row := in.row
	c := store.GroupCheck{AppID: a.ID, GroupID: row.GroupID, RemoteID: row.RemoteID}
	before := in.known
	drift := func(msg string, detail map[string]any) {
		detail["dropbox_group_id"] = row.RemoteID
		c.Logs = append(c.Logs, audit.Entry{Actor: "engine", Action: "reconcile.group_drift", TargetKind: "group", Target: row.Group,
			App: a.Name, Outcome: audit.Success, Message: msg, Detail: detail})
	}
	if _, err := e.readLinked(ctx, gp, conn, a.ID, in, row.RemoteID); err != nil {
		if !isGroupTag(err) {
			return c, err
		}
		c.Gone = true
		drift("the Dropbox group was deleted outside Roster: the sync makes it again", map[string]any{})
		return c, nil
	}
	c.Members = in.known
	p := planGroup(*in)
	c.Queue = p.rename != "" || len(p.add)+len(p.remove)+len(p.forget)+len(p.pending) > 0
	if added, removed := memberDiff(before, in.known); len(added)+len(removed) > 0 {
		name := memberNamer(in)
		drift("the Dropbox group's members differ from what Roster knew", map[string]any{
			"added_in_dropbox": capNames(mapNames(added, name)), "removed_in_dropbox": capNames(mapNames(removed, name)),
			"queued": c.Queue})
	}
	return c, nil
}

// memberDiff lists the members in now but not in was, and the other way round.
func memberDiff(was, now []store.GroupMember) (added, removed []store.GroupMember) {
	in := func(ms []store.GroupMember) map[string]bool {
		out := make(map[string]bool, len(ms))
		for _, m := range ms {
			out[m.MemberID] = true
		}
		return out
	}
	had, has := in(was), in(now)
	for _, m := range now {
		if !had[m.MemberID] {
			added = append(added, m)
		}
	}
	for _, m := range was {
		if !has[m.MemberID] {
			removed = append(removed, m)
		}
	}
	return added, removed
}

// memberNamer names members for the log: by username when Roster knows the
// user, else by member id.
func memberNamer(in *groupInput) func(store.GroupMember) string {
	names := maps.Clone(in.names)
	if names == nil {
		names = map[int64]string{}
	}
	for _, m := range in.members {
		names[m.UserID] = m.Username
	}
	return func(m store.GroupMember) string {
		if n := names[m.UserID]; m.UserID != 0 && n != "" {
			return n
		}
		if acct, ok := in.accounts[m.UserID]; m.UserID != 0 && ok && acct.Email != "" {
			return acct.Email
		}
		return m.MemberID
	}
}

func mapNames(ms []store.GroupMember, name func(store.GroupMember) string) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = name(m)
	}
	return out
}
