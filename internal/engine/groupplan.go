package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// planGroups lists what syncGroups would do to the app's pushed groups: the
// queued ones, or all with a full plan. It makes no write call; it reads the
// team's groups only when a group must be created or linked, to tell which.
func (e *Engine) planGroups(ctx context.Context, a app.Instance, p *Preview) error {
	gp, ok := e.groupStore()
	if !ok {
		return nil
	}
	ids, err := gp.GroupTargets(ctx, a.ID, p.Full)
	if err != nil || len(ids) == 0 {
		return err
	}
	creating := map[int64]bool{}
	for _, c := range p.Changes {
		if c.Op == OpCreate && c.Skipped == "" {
			creating[c.UserID] = true
		}
	}
	inputs, err := e.loadGroups(ctx, gp, a, groupItems(a.ID, ids), creating)
	if err != nil {
		return err
	}
	pv := &groupPreview{e: e, gp: gp, a: a}
	for _, in := range inputs {
		if in == nil {
			continue
		}
		// A full plan that read the team reads the groups too, as the full sync will.
		if p.Survey != nil && readable(in) {
			if err := pv.read(ctx, in); err != nil {
				return err
			}
		}
		p.Groups = append(p.Groups, pv.changes(ctx, in)...)
	}
	sort.SliceStable(p.Groups, func(i, k int) bool { return p.Groups[i].Group < p.Groups[k].Group })
	return nil
}

// groupPreview turns group plans into plan lines, reading Dropbox lazily.
type groupPreview struct {
	e       *Engine
	gp      store.GroupPush
	a       app.Instance
	conn    connector.GroupPusher
	connErr error
	rg      remoteGroups
}

func (pv *groupPreview) skipped() string {
	if !pv.a.Settings.Features.PushGroups {
		return "push groups is off (roster apps set " + pv.a.Name + " features.push_groups=true)"
	}
	return ""
}

func (pv *groupPreview) changes(ctx context.Context, in *groupInput) []GroupChange {
	row := in.row
	base := GroupChange{Group: row.Group, GroupID: row.GroupID, DropboxID: row.RemoteID, Skipped: pv.skipped()}
	pl := planGroup(*in)
	var out []GroupChange
	add := func(op string, edit func(*GroupChange)) {
		c := base
		c.Op = op
		if edit != nil {
			edit(&c)
		}
		out = append(out, c)
	}
	switch {
	case pl.unlink && pl.delete:
		add(GroupDelete, nil)
		return out
	case pl.unlink:
		if row.RemoteID != "" {
			add(GroupUnlink, func(c *GroupChange) { c.Note = "the Dropbox group is left as it is" })
		}
		return out
	case pl.ensure:
		op, note, blocked := pv.ensureOp(ctx, in)
		add(op, func(c *GroupChange) { c.Note = note; c.Skipped = firstOf(c.Skipped, blocked) })
		if blocked != "" {
			return out
		}
		pl = planGroup(*in)
		base.DropboxID = in.row.RemoteID
	}
	if pl.rename != "" {
		add(GroupRename, func(c *GroupChange) { c.Changes = map[string][2]string{"name": {in.row.RemoteName, pl.rename}} })
	}
	if len(pl.remove) > 0 {
		add(GroupRemove, func(c *GroupChange) { c.Members = refNames(pl.remove) })
	}
	if len(pl.add) > 0 || len(pl.pending) > 0 {
		add(GroupAdd, func(c *GroupChange) { c.Members, c.Pending = refNames(pl.add), pl.pending })
	}
	return out
}

// read replaces a group's known members with what Dropbox holds; a group
// deleted in Dropbox is planned as made again.
func (pv *groupPreview) read(ctx context.Context, in *groupInput) error {
	if !pv.connect(ctx) {
		return fmt.Errorf("read pushed group %s: %w", in.row.Group, pv.connErr)
	}
	_, err := pv.e.readLinked(ctx, pv.gp, pv.conn, pv.a.ID, in, in.row.RemoteID)
	switch {
	case isGroupTag(err):
		in.row.RemoteID, in.row.RemoteName, in.known = "", "", nil
	case err != nil:
		return fmt.Errorf("read the members of pushed group %s: %w", in.row.Group, err)
	}
	return nil
}

// connect makes the plan's connection once; it reports whether there is one.
func (pv *groupPreview) connect(ctx context.Context) bool {
	if pv.conn == nil && pv.connErr == nil {
		var c connector.Connector
		if c, pv.connErr = pv.e.connect(ctx, pv.a, pv.e.pacer(pv.a.ID)); pv.connErr == nil {
			var ok bool
			if pv.conn, ok = connector.Capable[connector.GroupPusher](c); !ok {
				pv.connErr = errors.New("the app's connector cannot push groups")
			}
		}
	}
	return pv.connErr == nil
}

// ensureOp tells create from link the way ensureGroup will, from a read of
// the team's groups. A link reads the group's members too, so that the plan
// lists the same member changes the sync will make.
func (pv *groupPreview) ensureOp(ctx context.Context, in *groupInput) (op, note, blocked string) {
	if !pv.connect(ctx) {
		return GroupCreate, "could not read Dropbox's groups (" + pv.connErr.Error() + "): a group of that name would be linked or reported", ""
	}
	g, ok, err := pv.rg.find(ctx, pv.conn, in.row.Group, in.row.GroupID)
	switch {
	case err != nil:
		return GroupCreate, "could not read Dropbox's groups (" + err.Error() + "): a group of that name would be linked or reported", ""
	case !ok:
		return GroupCreate, "", ""
	}
	if why := linkable(g, in.row); why != "" {
		return GroupCreate, "", "a Dropbox group named " + g.Name + " already exists; " + why
	}
	if _, err := pv.e.readLinked(ctx, pv.gp, pv.conn, pv.a.ID, in, g.ID); err != nil {
		return GroupLink, "could not read the group's members: " + err.Error(), ""
	}
	in.row.RemoteID, in.row.RemoteName = g.ID, g.Name
	return GroupLink, "links the existing Dropbox group " + g.ID, ""
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
