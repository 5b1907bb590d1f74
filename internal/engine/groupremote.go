package engine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/store"
)

// remoteGroups is the team's group list, read at most once per pass and only
// when a create meets a name already in use: creating first costs one call
// per group, listing first would cost a full list per group.
type remoteGroups struct {
	mu     sync.Mutex
	read   bool
	err    error
	byName map[string]connector.Group
	byExt  map[string]connector.Group
}

func (rg *remoteGroups) load(ctx context.Context, conn connector.GroupPusher) error {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if rg.read && rg.err == nil {
		return nil
	}
	rg.read, rg.byName, rg.byExt = true, map[string]connector.Group{}, map[string]connector.Group{}
	rg.err = conn.ListGroups(ctx, func(gs []connector.Group) error {
		for _, g := range gs {
			rg.byName[strings.ToLower(g.Name)] = g
			if g.ExternalID != "" {
				rg.byExt[g.ExternalID] = g
			}
		}
		return nil
	})
	return rg.err
}

// find returns the group Roster made for groupID (a create whose answer was
// lost) or else the group of that name.
func (rg *remoteGroups) find(ctx context.Context, conn connector.GroupPusher, name string, groupID int64) (connector.Group, bool, error) {
	if err := rg.load(ctx, conn); err != nil {
		return connector.Group{}, false, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if g, ok := rg.byExt[GroupExternalID(groupID)]; ok {
		return g, true, nil
	}
	g, ok := rg.byName[strings.ToLower(name)]
	return g, ok, nil
}

// linkable says why an existing Dropbox group may not be linked, or "".
func linkable(g connector.Group, row store.PushedGroup) string {
	switch {
	case g.ExternalID == GroupExternalID(row.GroupID):
		return "" // Roster's own group
	case g.AppManaged:
		return "it is managed by the app itself and cannot be linked"
	case !row.LinkExisting:
		return "push with --link-existing to link it, or rename one of the two groups"
	}
	return ""
}

// ensureGroup creates the Dropbox group, or links the existing one of that
// name when the admin allowed it. A linked group's members are read once, to
// start the known state from what is there. It reports success.
func (e *Engine) ensureGroup(ctx context.Context, gp store.GroupPush, conn connector.GroupPusher, r *groupRun, rg *remoteGroups) bool {
	row := r.in.row
	g, err := conn.CreateGroup(ctx, row.Group, GroupExternalID(row.GroupID))
	if err == nil {
		r.adopt(g)
		r.in.known, r.out.Reset = nil, true // a new group is empty
		r.log(GroupCreate, audit.Success, "", map[string]any{"dropbox_group_id": g.ID})
		return true
	}
	if connector.KindOf(err) != connector.Conflict {
		r.fail(GroupCreate, err)
		return false
	}
	found, ok, lerr := rg.find(ctx, conn, row.Group, row.GroupID)
	switch {
	case lerr != nil:
		r.fail(GroupLink, lerr)
		return false
	case !ok:
		r.fail(GroupCreate, err) // taken, yet not listed: the retry looks again
		return false
	}
	if why := linkable(found, row); why != "" {
		r.fail(GroupCreate, connector.Refusef(connector.Permanent, "create_group", connector.ErrGroupNameTaken,
			"a group named %q already exists in the app (%s); %s", found.Name, found.ID, why))
		return false
	}
	return e.linkGroup(ctx, gp, conn, r, found)
}

// linkGroup takes over an existing group: Roster's members in it are known
// from now on; members Roster holds no account for are kept and left alone.
func (e *Engine) linkGroup(ctx context.Context, gp store.GroupPush, conn connector.GroupPusher, r *groupRun, g connector.Group) bool {
	unknown, err := e.readLinked(ctx, gp, conn, r.a.ID, r.in, g.ID)
	if err != nil {
		r.fail(GroupLink, err)
		return false
	}
	r.adopt(g)
	r.out.Reset, r.out.Added = true, slices.Clone(r.in.known)
	r.log(GroupLink, audit.Success, "", map[string]any{"dropbox_group_id": g.ID, "members": len(r.in.known), "members_unknown_to_roster": unknown})
	return true
}

// readLinked reads a group's members into in.known, with the accounts of
// those Roster knows, so the planner can remove the ones who do not belong.
// It returns how many members Roster holds no account for.
func (e *Engine) readLinked(ctx context.Context, gp store.GroupPush, conn connector.GroupPusher, appID int64, in *groupInput, groupID string) (int, error) {
	var ids []string
	seen := map[string]bool{}
	err := conn.ListGroupMembers(ctx, groupID, func(page []string) error {
		for _, id := range page {
			if !seen[id] { // a member may show on two pages if the group changes meanwhile
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	users, err := gp.UsersByMemberID(ctx, appID, ids)
	if err != nil {
		return 0, err
	}
	known := make([]store.GroupMember, len(ids))
	var userIDs []int64
	unknown := 0
	for i, id := range ids {
		known[i] = store.GroupMember{MemberID: id, UserID: users[id]}
		if users[id] == 0 {
			unknown++
		} else {
			userIDs = append(userIDs, users[id])
		}
	}
	accts, err := e.st.Accounts(ctx, appID, userIDs)
	if err != nil {
		return 0, err
	}
	// The batch shares one accounts map: this group gets its own copy.
	merged := make(map[int64]store.Account, len(in.accounts)+len(accts))
	maps.Copy(merged, in.accounts)
	maps.Copy(merged, accts)
	names, err := e.leaverNames(ctx, map[int64][]store.DirectoryMember{0: in.members}, map[int64][]store.GroupMember{0: known})
	if err != nil {
		return 0, err
	}
	in.known, in.accounts, in.names = known, merged, names
	return unknown, nil
}

func (r *groupRun) adopt(g connector.Group) {
	r.out.Group.RemoteID, r.out.Group.RemoteName = g.ID, g.Name
	r.in.row.RemoteID, r.in.row.RemoteName = g.ID, g.Name
}
