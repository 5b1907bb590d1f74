package engine

import (
	"fmt"
	"maps"
	"sort"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Group push (MISSION F7). A pushed group's work item is reconciled like a
// user's: a pure planner compares the directory group with what Roster knows
// of its Dropbox group (id, name, members) and derives the calls. Members go
// out as differences against that known state, never as whole lists.
// Members without an account are left for the user items, which the push
// rule's assignment queued, and the group comes back for them soon.

// The operations on a pushed group, as plans and the system log name them
// (the log prefixes ActionGroupPrefix, "app_group.").
const (
	GroupCreate = "create"
	GroupLink   = "link"
	GroupRename = "rename"
	GroupAdd    = "add_members"
	GroupRemove = "remove_members"
	GroupUnlink = "unlink" // leave the Dropbox group as it is
	GroupDelete = "delete"
)

// GroupChange is one intended change to a pushed group, as a plan shows it.
type GroupChange struct {
	Group     string               `json:"group"`
	GroupID   int64                `json:"group_id"`
	Op        string               `json:"op"`
	DropboxID string               `json:"dropbox_group_id,omitempty"`
	Changes   map[string][2]string `json:"changes,omitempty"` // rename: "name": [old, new]
	Members   []string             `json:"members,omitempty"` // users added or removed
	Pending   []string             `json:"pending,omitempty"` // members still waiting for an account
	Skipped   string               `json:"skipped,omitempty"` // why the change will not be made
	Note      string               `json:"note,omitempty"`
}

// groupMemberBatch bounds one members/add or members/remove call. Dropbox
// documents no cap (reference §3); the engine chunks itself so that known
// state records each chunk that went through.
const groupMemberBatch = 100

// groupInput is what the planner needs about one pushed group.
type groupInput struct {
	row      store.PushedGroup
	members  []store.DirectoryMember
	accounts map[int64]store.Account // of members and of known members
	known    []store.GroupMember
	names    map[int64]string // usernames of known members who left the directory group
	creating map[int64]bool   // plan only: users whose account this sync creates first
}

// memberRef is a member to add or remove; MemberID is "" for an account a
// plan expects the same sync to create.
type memberRef struct {
	UserID   int64
	MemberID string
	Name     string
}

// groupPlan is what one pushed group needs.
type groupPlan struct {
	unlink  bool   // no rule covers it any more, or it left the directory
	delete  bool   // and its Dropbox group is deleted
	ensure  bool   // no Dropbox group known yet: create or link one
	rename  string // the name the Dropbox group must take
	add     []memberRef
	remove  []memberRef
	forget  []string // known member ids whose account is gone: Dropbox already dropped them
	pending []string // usernames of members without an account yet
}

// wantedInGroup says which directory members belong in the Dropbox group:
// a suspension is temporary, so a suspended member keeps its groups.
func wantedInGroup(s directory.Status) bool {
	return s == directory.StatusActive || s == directory.StatusSuspended
}

func liveAccount(a store.Account, ok bool) bool {
	return ok && a.MemberID != "" && a.Status != string(connector.StatusRemoved)
}

// planGroup derives what brings one pushed group in step.
func planGroup(in groupInput) groupPlan {
	row := in.row
	if row.Unlink || !row.InDirectory {
		return groupPlan{unlink: true, delete: row.DeleteInApp && row.RemoteID != ""}
	}
	p := groupPlan{ensure: row.RemoteID == ""}
	if !p.ensure && row.RemoteName != row.Group {
		p.rename = row.Group
	}
	want := map[string]memberRef{}
	for _, m := range in.members {
		if !wantedInGroup(m.Status) {
			continue
		}
		acct, ok := in.accounts[m.UserID]
		switch {
		case liveAccount(acct, ok):
			want[acct.MemberID] = memberRef{m.UserID, acct.MemberID, m.Username}
		case in.creating[m.UserID]:
			want[fmt.Sprintf("new:%d", m.UserID)] = memberRef{UserID: m.UserID, Name: m.Username}
		default:
			p.pending = append(p.pending, m.Username)
		}
	}
	p.remove, p.forget = unwanted(in, want)
	in2 := map[string]bool{}
	for _, k := range in.known {
		in2[k.MemberID] = true
	}
	for id, ref := range want {
		if !in2[id] {
			p.add = append(p.add, ref)
		}
	}
	sortRefs(p.add)
	sort.Strings(p.pending)
	return p
}

// unwanted splits known members who should leave into those to remove with
// a call and those whose account is gone (Dropbox dropped them with it).
// Members Roster holds no account for are left alone.
func unwanted(in groupInput, want map[string]memberRef) (remove []memberRef, forget []string) {
	names := maps.Clone(in.names)
	if names == nil {
		names = map[int64]string{}
	}
	for _, m := range in.members {
		names[m.UserID] = m.Username
	}
	for _, k := range in.known {
		if _, ok := want[k.MemberID]; ok || k.UserID == 0 {
			continue
		}
		acct, ok := in.accounts[k.UserID]
		if liveAccount(acct, ok) && acct.MemberID == k.MemberID {
			name := names[k.UserID]
			if name == "" {
				name = acct.Email
			}
			remove = append(remove, memberRef{k.UserID, k.MemberID, name})
		} else {
			forget = append(forget, k.MemberID)
		}
	}
	sortRefs(remove)
	return remove, forget
}

func sortRefs(rs []memberRef) {
	sort.Slice(rs, func(i, k int) bool { return rs[i].Name < rs[k].Name })
}

func refNames(rs []memberRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// GroupExternalID is the external id Roster gives a Dropbox group it creates,
// so that a create whose answer was lost is recognised as Roster's own.
func GroupExternalID(groupID int64) string { return fmt.Sprintf("roster:group:%d", groupID) }
