package sourcesync

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// ErrHeld says the guard holds the plan: nothing was applied.
var ErrHeld = errors.New("held by the source's guard")

// Apply makes the plan's changes through the store, in order: adoptions,
// new users (one bulk insert), updates, status changes, groups and their
// members. A held plan applies nothing. An error stops it; what was applied
// stays (each change is its own logged transaction) and the next sync
// carries on from there.
func (p *Plan) Apply(ctx context.Context, st Store, by store.Actor) (int, error) {
	if p.Held != "" {
		return 0, fmt.Errorf("%w: %s", ErrHeld, p.Held)
	}
	n := 0
	for _, c := range p.Changes {
		if c.Op == OpAdopt {
			if _, err := st.SetUserSource(ctx, by, c.User, c.key, p.Source, "user.adopt"); err != nil {
				return n, fmt.Errorf("adopt %s: %w", c.User, err)
			}
			n++
		}
	}
	created, err := p.createUsers(ctx, st, by)
	n += created
	if err != nil {
		return n, err
	}
	for _, c := range p.Changes {
		if err := p.applyOne(ctx, st, by, c); err != nil {
			return n, err
		}
		switch c.Op {
		case OpUpdate, OpDeactivate, OpGone, OpReactivate, OpGroupCreate, OpGroupAdopt, OpGroupRename, OpMembersAdd, OpMembersDrop:
			n++
		}
	}
	return n, nil
}

func (p *Plan) createUsers(ctx context.Context, st Store, by store.Actor) (int, error) {
	seq := func(yield func(directory.User, error) bool) {
		for _, c := range p.Changes {
			if c.Op == OpCreate && !yield(*c.create, nil) {
				return
			}
		}
	}
	if p.Counts[OpCreate] == 0 {
		return 0, nil
	}
	n, err := st.CreateUsersSeq(ctx, by, iter.Seq2[directory.User, error](seq))
	if err != nil {
		return 0, fmt.Errorf("create users: %w", err)
	}
	return n, nil
}

func (p *Plan) applyOne(ctx context.Context, st Store, by store.Actor, c Change) error {
	switch c.Op {
	case OpUpdate:
		want := c.create
		_, err := st.UpdateUser(ctx, by, c.User, "user.update", func(u *directory.User) error {
			u.Username, u.Email, u.FirstName, u.LastName = want.Username, want.Email, want.FirstName, want.LastName
			return nil
		})
		return wrap("update "+c.User, err)
	case OpDeactivate, OpGone:
		t := directory.Deactivate
		if c.status == directory.StatusSuspended {
			t = directory.Suspend
		}
		return wrap(string(t)+" "+c.User, transition(ctx, st, by, c.User, t))
	case OpReactivate:
		t := directory.Reactivate
		if c.status == directory.StatusSuspended {
			t = directory.Unsuspend
		}
		return wrap(string(t)+" "+c.User, transition(ctx, st, by, c.User, t))
	case OpGroupCreate:
		return wrap("create group "+c.Group, st.CreateGroup(ctx, by, &directory.Group{Name: c.Group, ExternalKey: c.key, Source: p.Source}))
	case OpGroupRename:
		_, err := st.RenameGroup(ctx, by, c.Group, c.key)
		return wrap("rename group "+c.Group, err)
	case OpGroupAdopt:
		_, err := st.SetGroupSource(ctx, by, c.Group, c.key, p.Source, "group.adopt")
		return wrap("adopt group "+c.Group, err)
	case OpMembersAdd, OpMembersDrop:
		for i := 0; i < len(c.Members); i += 1000 {
			chunk := c.Members[i:min(i+1000, len(c.Members))]
			var err error
			if c.Op == OpMembersAdd {
				err = st.AddGroupMembers(ctx, by, c.Group, chunk)
			} else {
				err = st.RemoveGroupMembers(ctx, by, c.Group, chunk)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", c.Op, c.Group, err)
			}
		}
	}
	return nil
}

// transition moves a user through the lifecycle as an admin's action
// would; a user already there is left alone.
func transition(ctx context.Context, st Store, by store.Actor, username string, t directory.Transition) error {
	_, err := st.UpdateUser(ctx, by, username, "user."+string(t), func(u *directory.User) error {
		next, err := t.Apply(u.Status)
		u.Status = next
		return err
	})
	return err
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
