// Package sourcesync turns what a directory source says (a whole or an
// incremental read of its users and groups) into directory changes: users
// and groups the source owns are created, updated, deactivated when disabled
// or gone, and reactivated when enabled again. It plans first, so that a
// plan can be shown without changing anything, and holds a plan that would
// deactivate more than the source's guard allows (an empty read from a
// wrong base DN must never off-board a company). Every change goes through
// the store's ordinary methods, so the system log, the outbox and the
// engine's own deletion guard work as for an admin's change.
package sourcesync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// User is a user as the source says.
type User struct {
	Key       string // the source's stable identity: the directory user's external key
	Username  string
	Email     string
	FirstName string
	LastName  string
	Disabled  bool
}

// Group is a group as the source says, with its members' keys.
type Group struct {
	Key     string
	Name    string
	Members []string
}

// Snapshot is one read. Only a Full one lets missing users count as gone.
type Snapshot struct {
	Full   bool
	Users  []User
	Groups []Group
	// CreateNew: an incremental read may create users it has not seen
	// (false when a scope group decides who is in: a user not owned yet
	// was out of scope at the last full read).
	CreateNew bool
}

// Guard bounds the deactivations one sync may make: more than Percent of
// the active users the source owns, and at least Min, holds the sync.
type Guard struct {
	Percent int `json:"percent"`
	Min     int `json:"min"`
}

// DefaultGuard is 10 % of the users the source owns, at least 5.
var DefaultGuard = Guard{Percent: 10, Min: 5}

// Limit is the most deactivations allowed among owned active users.
func (g Guard) Limit(owned int) int {
	if g.Percent <= 0 && g.Min <= 0 {
		g = DefaultGuard
	}
	return max(g.Min, (owned*g.Percent+99)/100)
}

// Options are the source's rules.
type Options struct {
	Source string
	// Adopt takes over a user or group of the same name owned by someone
	// else (logged); without it such a one is a conflict, left alone.
	Adopt bool
	// DeactivateAs is the status a disabled or gone user gets: deprovisioned
	// (the apps' deactivation settings apply) or suspended.
	DeactivateAs directory.Status
	Guard        Guard
	AllowDeletes bool
}

// Store is what a sync needs of the directory.
type Store interface {
	ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error)
	ExistingUsers(ctx context.Context, usernames, emails []string) (map[string]bool, error)
	GetUser(ctx context.Context, username string) (directory.User, error)
	GetUserByExternalKey(ctx context.Context, key string) (directory.User, error)
	CreateUsersSeq(ctx context.Context, by store.Actor, users iter.Seq2[directory.User, error]) (int, error)
	UpdateUser(ctx context.Context, by store.Actor, username, action string, fn func(*directory.User) error) (directory.User, error)
	FilterGroups(ctx context.Context, f store.GroupFilter) ([]directory.Group, error)
	GetGroup(ctx context.Context, name string) (directory.Group, error)
	CreateGroup(ctx context.Context, by store.Actor, g *directory.Group) error
	RenameGroup(ctx context.Context, by store.Actor, name, newName string) (directory.Group, error)
	AddGroupMembers(ctx context.Context, by store.Actor, group string, usernames []string) error
	RemoveGroupMembers(ctx context.Context, by store.Actor, group string, usernames []string) error
	SetUserSource(ctx context.Context, by store.Actor, username, from, to, action string) (directory.User, error)
	SetGroupSource(ctx context.Context, by store.Actor, name, from, to, action string) (directory.Group, error)
}

// Ops of a planned change.
const (
	OpCreate      = "create"
	OpAdopt       = "adopt"
	OpUpdate      = "update"
	OpDeactivate  = "deactivate" // disabled in the source
	OpGone        = "gone"       // no longer in the source or its scope: deactivated
	OpReactivate  = "reactivate"
	OpGroupCreate = "group.create"
	OpGroupAdopt  = "group.adopt"
	OpGroupRename = "group.rename"
	OpMembersAdd  = "members.add"
	OpMembersDrop = "members.remove"
	OpConflict    = "conflict" // not applied: owned by someone else
)

// Change is one planned change.
type Change struct {
	Op      string         `json:"op"`
	User    string         `json:"user,omitempty"`
	Group   string         `json:"group,omitempty"`
	Members []string       `json:"members,omitempty"`
	Fields  map[string]any `json:"fields,omitempty"`
	Why     string         `json:"why,omitempty"`

	create *directory.User
	status directory.Status
	key    string
}

// Plan is what a sync would change.
type Plan struct {
	Source  string         `json:"source"`
	Full    bool           `json:"full"`
	Changes []Change       `json:"changes"`
	Counts  map[string]int `json:"counts"`
	// Owned is how many active users the source owned before the sync;
	// Deactivations how many it would deactivate; Limit the guard's bound.
	// An incremental read with Min deactivations or fewer leaves Owned and
	// Limit 0: they are not counted when they cannot hold it.
	Owned         int `json:"owned_active"`
	Deactivations int `json:"deactivations"`
	Limit         int `json:"guard_limit"`
	// Held says why the guard holds the plan; nothing of it is applied
	// until a sync with --allow-deletes.
	Held string `json:"held,omitempty"`
}

func (p *Plan) add(c Change) {
	p.Changes = append(p.Changes, c)
	p.Counts[c.Op]++
}

// Compute plans the sync of snap. It reads the directory and changes nothing.
func Compute(ctx context.Context, st Store, snap Snapshot, opt Options) (*Plan, error) {
	if opt.DeactivateAs == "" {
		opt.DeactivateAs = directory.StatusDeprovisioned
	}
	p := &Plan{Source: opt.Source, Full: snap.Full, Counts: map[string]int{}}
	c := &computer{st: st, opt: opt, p: p, byKey: map[string]directory.User{}, byName: map[string]directory.User{}, names: map[string]string{}}
	var owned []directory.User
	var err error
	if snap.Full {
		if owned, err = ownedUsers(ctx, st, opt.Source); err != nil {
			return nil, err
		}
	} else if owned, err = c.lookup(ctx, snap.Users); err != nil {
		return nil, err
	}
	for _, u := range owned {
		c.byKey[u.ExternalKey] = u
		c.byName[directory.Key(u.Username)] = u
	}
	if err := c.users(ctx, snap); err != nil {
		return nil, err
	}
	if snap.Full {
		c.gone(owned, snap)
		if err := c.groups(ctx, snap); err != nil {
			return nil, err
		}
	}
	// An incremental read counts what the source owns only when the count
	// matters: the guard never holds Min deactivations or fewer.
	if snap.Full || p.Deactivations > opt.Guard.Min {
		if !snap.Full {
			if owned, err = ownedUsers(ctx, st, opt.Source); err != nil {
				return nil, err
			}
		}
		for _, u := range owned {
			if !inactive(u.Status) {
				p.Owned++
			}
		}
		p.Limit = opt.Guard.Limit(p.Owned)
	}
	if p.Limit > 0 && p.Deactivations > p.Limit && !opt.AllowDeletes {
		p.Held = fmt.Sprintf("the read would deactivate %d of the %d active users source %s owns, more than its guard allows (%d: %d%%, at least %d); "+
			"nothing was applied. Check the source's base DN and filters, then run roster sources sync %s --allow-deletes if the deactivations are meant",
			p.Deactivations, p.Owned, opt.Source, p.Limit, opt.Guard.Percent, opt.Guard.Min, opt.Source)
	}
	return p, nil
}

// lookup finds the users of an incremental read the source owns, by
// external key or username, without listing all it owns.
func (c *computer) lookup(ctx context.Context, users []User) ([]directory.User, error) {
	var out []directory.User
	for _, su := range users {
		u, err := c.st.GetUserByExternalKey(ctx, su.Key)
		if errors.Is(err, directory.ErrNotFound) {
			u, err = c.st.GetUser(ctx, su.Username)
		}
		switch {
		case errors.Is(err, directory.ErrNotFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("look up %s: %w", su.Username, err)
		case u.Source == c.opt.Source:
			out = append(out, u)
		}
	}
	return out, nil
}

func inactive(s directory.Status) bool {
	return s == directory.StatusDeprovisioned || s == directory.StatusSuspended
}

func ownedUsers(ctx context.Context, st Store, source string) ([]directory.User, error) {
	var out []directory.User
	for after := int64(0); ; {
		page, err := st.ListUsers(ctx, store.UserFilter{Source: source, Page: store.Page{After: after, Limit: 1000}})
		if err != nil {
			return nil, fmt.Errorf("list users of source %s: %w", source, err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

type computer struct {
	st     Store
	opt    Options
	p      *Plan
	byKey  map[string]directory.User // owned, by external key
	byName map[string]directory.User // owned, by username key
	names  map[string]string         // source key -> directory username, for memberships
	// renamed maps the username key of an owned user this plan renames to
	// its new name: memberships are planned after the rename is applied.
	renamed map[string]string
	seen    map[int64]bool
}

// users plans creates, adoptions, updates and status changes.
func (c *computer) users(ctx context.Context, snap Snapshot) error {
	c.seen = map[int64]bool{}
	var fresh []User
	for _, su := range snap.Users {
		cur, ok := c.byKey[su.Key]
		if !ok {
			cur, ok = c.byName[directory.Key(su.Username)]
		}
		if !ok {
			fresh = append(fresh, su)
			continue
		}
		c.seen[cur.ID] = true
		c.names[su.Key] = su.Username
		c.update(cur, su)
	}
	if len(fresh) == 0 || !snap.Full && !snap.CreateNew {
		return nil
	}
	return c.create(ctx, fresh)
}

func (c *computer) update(cur directory.User, su User) {
	next := cur
	next.Username, next.Email, next.FirstName, next.LastName = su.Username, su.Email, su.FirstName, su.LastName
	if ch := directory.Changes(cur, next); len(ch) > 0 {
		c.p.add(Change{Op: OpUpdate, User: cur.Username, Fields: ch, create: &next})
		if directory.Key(cur.Username) != directory.Key(next.Username) {
			if c.renamed == nil {
				c.renamed = map[string]string{}
			}
			c.renamed[directory.Key(cur.Username)] = next.Username
		}
	}
	switch {
	case su.Disabled && !inactive(cur.Status):
		c.p.Deactivations++
		c.p.add(Change{Op: OpDeactivate, User: su.Username, status: c.opt.DeactivateAs, Why: "disabled in the source"})
	case !su.Disabled && inactive(cur.Status):
		c.p.add(Change{Op: OpReactivate, User: su.Username, status: cur.Status, Why: "enabled in the source"})
	}
}

// create plans new users; a name taken by a user the source does not own
// is adopted with Adopt and a conflict without.
func (c *computer) create(ctx context.Context, fresh []User) error {
	names, emails := make([]string, len(fresh)), make([]string, len(fresh))
	for i, u := range fresh {
		names[i], emails[i] = u.Username, u.Email
	}
	taken, err := existing(ctx, c.st, names, emails)
	if err != nil {
		return err
	}
	for _, su := range fresh {
		if !taken[directory.Key(su.Username)] && !taken[directory.Key(su.Email)] {
			status := directory.StatusActive
			if su.Disabled {
				status = c.opt.DeactivateAs
			}
			u := &directory.User{ExternalKey: su.Key, Source: c.opt.Source, Username: su.Username, Email: su.Email,
				FirstName: su.FirstName, LastName: su.LastName, Status: status}
			c.names[su.Key] = su.Username
			c.p.add(Change{Op: OpCreate, User: su.Username, create: u})
			continue
		}
		other, err := c.st.GetUser(ctx, su.Username)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return fmt.Errorf("look up user %s: %w", su.Username, err)
		}
		if err != nil || !c.opt.Adopt {
			why := fmt.Sprintf("username %s or email %s is taken by a user source %s does not own; set adopt to take it over", su.Username, su.Email, c.opt.Source)
			if err == nil {
				why = fmt.Sprintf("user %s belongs to source %s; set adopt to take it over", other.Username, other.Source)
			}
			c.p.add(Change{Op: OpConflict, User: su.Username, Why: why})
			continue
		}
		c.p.add(Change{Op: OpAdopt, User: other.Username, Why: "owned by " + other.Source, key: other.Source})
		c.names[su.Key] = su.Username
		c.update(other, su)
	}
	return nil
}

func existing(ctx context.Context, st Store, names, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	for i := 0; i < len(names); i += 1000 {
		j := min(i+1000, len(names))
		m, err := st.ExistingUsers(ctx, names[i:j], emails[i:j])
		if err != nil {
			return nil, fmt.Errorf("check names: %w", err)
		}
		for k, v := range m {
			out[k] = out[k] || v
		}
	}
	return out, nil
}

// gone plans the deactivation of owned users a full read no longer lists.
func (c *computer) gone(owned []directory.User, snap Snapshot) {
	for _, u := range owned {
		if c.seen[u.ID] || inactive(u.Status) {
			continue
		}
		c.p.Deactivations++
		c.p.add(Change{Op: OpGone, User: u.Username, status: c.opt.DeactivateAs, Why: "no longer in the source or its scope"})
	}
}

// groups plans group creates, adoptions and membership changes.
func (c *computer) groups(ctx context.Context, snap Snapshot) error {
	owned, err := ownedGroups(ctx, c.st, c.opt.Source)
	if err != nil {
		return err
	}
	byKey, byName := map[string]directory.Group{}, map[string]directory.Group{}
	for _, g := range owned {
		byKey[g.ExternalKey], byName[directory.Key(g.Name)] = g, g
	}
	kept := map[int64]bool{}
	for _, sg := range snap.Groups {
		want := map[string]string{}
		for _, k := range sg.Members {
			if n, ok := c.names[k]; ok {
				want[directory.Key(n)] = n
			}
		}
		g, ok := byKey[sg.Key]
		if !ok {
			g, ok = byName[directory.Key(sg.Name)]
		}
		var have []directory.User
		switch {
		case ok:
			kept[g.ID] = true
			if have, err = members(ctx, c.st, g.Name); err != nil {
				return err
			}
			if g.Name != sg.Name {
				c.p.add(Change{Op: OpGroupRename, Group: g.Name, Fields: map[string]any{"name": []string{g.Name, sg.Name}}, key: sg.Name})
				g.Name = sg.Name
			}
		default:
			other, err := c.st.GetGroup(ctx, sg.Name)
			if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return fmt.Errorf("look up group %s: %w", sg.Name, err)
			}
			switch {
			case err == nil && !c.opt.Adopt:
				c.p.add(Change{Op: OpConflict, Group: sg.Name, Why: fmt.Sprintf("group %s belongs to source %s; set adopt to take it over", other.Name, other.Source)})
				continue
			case err == nil:
				c.p.add(Change{Op: OpGroupAdopt, Group: other.Name, Why: "owned by " + other.Source, key: other.Source})
				if have, err = members(ctx, c.st, other.Name); err != nil {
					return err
				}
				g = other
			default:
				c.p.add(Change{Op: OpGroupCreate, Group: sg.Name, key: sg.Key})
				g = directory.Group{Name: sg.Name}
			}
		}
		c.memberChanges(g.Name, have, want)
	}
	for _, g := range owned {
		if kept[g.ID] {
			continue
		}
		have, err := members(ctx, c.st, g.Name)
		if err != nil {
			return err
		}
		c.memberChanges(g.Name, have, nil)
	}
	return nil
}

func (c *computer) memberChanges(group string, have []directory.User, want map[string]string) {
	var add, drop []string
	has := map[string]bool{}
	for _, u := range have {
		name := u.Username
		if n, ok := c.renamed[directory.Key(name)]; ok {
			name = n
		}
		k := directory.Key(name)
		has[k] = true
		if _, ok := want[k]; !ok {
			drop = append(drop, name)
		}
	}
	for k, name := range want {
		if !has[k] {
			add = append(add, name)
		}
	}
	slices.Sort(add)
	if len(add) > 0 {
		c.p.add(Change{Op: OpMembersAdd, Group: group, Members: add})
	}
	if len(drop) > 0 {
		c.p.add(Change{Op: OpMembersDrop, Group: group, Members: drop})
	}
}

func ownedGroups(ctx context.Context, st Store, source string) ([]directory.Group, error) {
	var out []directory.Group
	for after := int64(0); ; {
		page, err := st.FilterGroups(ctx, store.GroupFilter{Source: source, Page: store.Page{After: after, Limit: 1000}})
		if err != nil {
			return nil, fmt.Errorf("list groups of source %s: %w", source, err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

func members(ctx context.Context, st Store, group string) ([]directory.User, error) {
	var out []directory.User
	for after := int64(0); ; {
		page, err := st.ListUsers(ctx, store.UserFilter{Group: group, Page: store.Page{After: after, Limit: 1000}})
		if err != nil {
			return nil, fmt.Errorf("list members of %s: %w", group, err)
		}
		out = append(out, page...)
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// Summary is one line for logs and the CLI.
func (p *Plan) Summary() string {
	if len(p.Counts) == 0 {
		return "no changes"
	}
	ops := make([]string, 0, len(p.Counts))
	for op, n := range p.Counts {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	slices.SortFunc(ops, func(a, b string) int { return cmp.Compare(a, b) })
	return strings.Join(ops, ", ")
}
