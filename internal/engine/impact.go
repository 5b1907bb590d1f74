package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// DirChange is an admin action on the directory, described before it is
// made so that its impact on the apps can be shown and confirmed.
type DirChange struct {
	// Users change status to Status ("" with Delete: deleted).
	Users  []string
	Status directory.Status
	Delete bool
	// Unassign removes App's assignment of User or of Group.
	App string
	// Group loses the Members given (Unassign and Delete aside); with
	// DeleteGroup it is deleted with all its members' assignments through it.
	Group       string
	Members     []string
	Unassign    bool
	User        string
	DeleteGroup bool
}

// Offboarding is one account an action would suspend or remove.
type Offboarding struct {
	App          string     `json:"app"`
	AppID        int64      `json:"-"`
	User         string     `json:"user"`
	UserID       int64      `json:"user_id"`
	Action       string     `json:"action"` // suspend or remove
	Wipe         bool       `json:"wipe_data"`
	TransferTo   string     `json:"transfer_to,omitempty"`
	Irreversible bool       `json:"irreversible"`
	RemoveDue    *time.Time `json:"remove_due_at,omitempty"` // a removal after the grace period
}

// Impact is what an action would off-board, and the confirmation it needs.
type Impact struct {
	Offboardings []Offboarding `json:"offboardings"`
	Count        int           `json:"count"`
	Irreversible int           `json:"irreversible"`
	Apps         []string      `json:"apps"`
	// Confirm is the token a request must carry (?confirm=) to go ahead;
	// it changes whenever the impact does.
	Confirm string `json:"confirm,omitempty"`
	// TypeToConfirm is what an admin types to confirm an irreversible
	// impact: the group's name, or the count.
	TypeToConfirm string `json:"type_to_confirm,omitempty"`
}

// Summary says the impact in one sentence.
func (im Impact) Summary() string {
	if im.Count == 0 {
		return "this changes no account in any app"
	}
	s := fmt.Sprintf("this would off-board %d account(s) in %s", im.Count, strings.Join(im.Apps, ", "))
	if im.Irreversible > 0 {
		s += fmt.Sprintf(", %d of them irreversibly (removal, wipe or file transfer)", im.Irreversible)
	}
	return s + "; confirm it to go ahead"
}

// ImpactOf computes what a directory change would off-board in every app,
// from the directory, the accounts Roster knows and each app's settings.
func ImpactOf(ctx context.Context, st Store, c DirChange) (Impact, error) {
	apps, err := st.ListApps(ctx)
	if err != nil {
		return Impact{}, err
	}
	users, err := affectedUsers(ctx, st, c)
	if err != nil {
		return Impact{}, err
	}
	im := Impact{Offboardings: []Offboarding{}, Apps: []string{}}
	for _, a := range apps {
		if err := impactIn(ctx, st, a, c, users, &im); err != nil {
			return im, err
		}
	}
	im.finish(c)
	return im, nil
}

// affectedUsers resolves the users a change can touch.
func affectedUsers(ctx context.Context, st Store, c DirChange) (map[int64]directory.User, error) {
	names := append(append([]string{}, c.Users...), c.Members...)
	if c.User != "" {
		names = append(names, c.User)
	}
	out := map[int64]directory.User{}
	for _, n := range names {
		u, err := st.GetUser(ctx, n)
		if err != nil {
			return nil, err
		}
		out[u.ID] = u
	}
	if c.Group != "" && len(c.Members) == 0 && (c.Unassign || c.DeleteGroup) {
		members, err := groupMembers(ctx, st, c.Group)
		if err != nil {
			return nil, err
		}
		for _, u := range members {
			out[u.ID] = u
		}
	}
	return out, nil
}

func groupMembers(ctx context.Context, st Store, group string) ([]directory.User, error) {
	var out []directory.User
	p := store.Page{Limit: 1000}
	for {
		page, err := st.ListUsers(ctx, store.UserFilter{Page: p, Group: group})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < p.Limit {
			return out, nil
		}
		p.After = page[len(page)-1].ID
	}
}

// impactIn adds what the change would off-board in one app.
func impactIn(ctx context.Context, st Store, a app.Instance, c DirChange, users map[int64]directory.User, im *Impact) error {
	if c.Unassign && !strings.EqualFold(c.App, a.Name) {
		return nil
	}
	ids := make([]int64, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	accts, err := st.Accounts(ctx, a.ID, ids)
	if err != nil || len(accts) == 0 {
		return err
	}
	before, err := st.EffectiveRoles(ctx, a.ID, ids)
	if err != nil {
		return err
	}
	after, err := rolesAfter(ctx, st, a, c, users, before)
	if err != nil {
		return err
	}
	obs, err := st.Offboardings(ctx, a.ID, ids)
	if err != nil {
		return err
	}
	for _, id := range sortedIDs(accts) {
		acct, u := accts[id], users[id]
		if acct.Status == string(connector.StatusRemoved) {
			continue
		}
		was := Derive(&u, roleOf(before, id), nil)
		if was.Want == WantGone {
			continue // already leaving: not this change's doing
		}
		now := Derive(userAfter(u, c), roleOf(after, id), nil)
		if ob, ok := obs[id]; ok && ob.Kept {
			continue
		}
		addImpact(im, a, u, knownFrom(acct), now)
	}
	return nil
}

// rolesAfter is the users' roles in the app once the change is made; only
// whether a user stays assigned matters for off-boarding.
func rolesAfter(ctx context.Context, st Store, a app.Instance, c DirChange, users map[int64]directory.User, before map[int64]directory.Role) (map[int64]directory.Role, error) {
	if !c.Unassign && c.Group == "" {
		return before, nil
	}
	as, err := st.ListAssignments(ctx, store.AssignmentFilter{App: a.Name})
	if err != nil {
		return nil, err
	}
	dropped := map[int64]bool{} // members leaving c.Group
	for _, n := range c.Members {
		for id, u := range users {
			if strings.EqualFold(u.Username, n) {
				dropped[id] = true
			}
		}
	}
	out := map[int64]directory.Role{}
	for _, as := range as {
		switch {
		case as.UserID != 0:
			if _, ok := users[as.UserID]; ok && !(c.Unassign && c.User != "" && strings.EqualFold(as.Username, c.User)) {
				out[as.UserID] = as.Role
			}
		case c.Unassign && c.User == "" && strings.EqualFold(as.GroupName, c.Group), c.DeleteGroup && strings.EqualFold(as.GroupName, c.Group):
			continue // the assignment goes
		default:
			members, err := groupMembers(ctx, st, as.GroupName)
			if err != nil {
				return nil, err
			}
			leaving := strings.EqualFold(as.GroupName, c.Group)
			for _, m := range members {
				if _, ok := users[m.ID]; ok && !(leaving && dropped[m.ID]) {
					if _, set := out[m.ID]; !set {
						out[m.ID] = as.Role
					}
				}
			}
		}
	}
	return out, nil
}

func userAfter(u directory.User, c DirChange) *directory.User {
	for _, n := range c.Users {
		if strings.EqualFold(n, u.Username) {
			if c.Delete {
				return nil
			}
			u.Status = c.Status
		}
	}
	return &u
}

func roleOf(m map[int64]directory.Role, id int64) *directory.Role {
	if r, ok := m[id]; ok {
		return &r
	}
	return nil
}

// addImpact plans the account under the app's settings as a new leaver's.
func addImpact(im *Impact, a app.Instance, u directory.User, k *Known, d Desired) {
	if d.Want == WantGone && a.Settings.Deactivation.Type == app.DeactivateRemove && a.Settings.Deactivation.Grace() > 0 {
		d.Grace = true
	}
	k = acceptedMaybe(k)
	acts := Plan(d, k, a.Settings)
	if d.Grace && k.Status == connector.StatusSuspended && a.Settings.Features.PushDeactivation {
		acts = []Action{{Op: OpSuspend}} // already suspended: the removal after the grace is what is new
	}
	for _, act := range acts {
		if act.Skipped != "" || (act.Op != OpSuspend && act.Op != OpRemove) {
			continue
		}
		o := Offboarding{App: a.Name, AppID: a.ID, User: u.Username, UserID: u.ID, Action: string(act.Op), Wipe: act.Wipe}
		if act.Op == OpRemove {
			o.TransferTo = act.Remove.TransferDestEmail
		}
		_, o.Irreversible = offboards([]Action{act}, k)
		if d.Grace && act.Op == OpSuspend {
			// Suspended now; removed (and wiped, transferred) after the grace.
			due := time.Now().Add(a.Settings.Deactivation.Grace()).UTC().Truncate(time.Minute)
			o.RemoveDue, o.Irreversible = &due, true
			o.Wipe = a.Settings.Deactivation.WipeData
			if a.Settings.Deactivation.FileManagement == app.FilesTransfer {
				o.TransferTo = a.Settings.Deactivation.TransferDest
			}
		}
		im.Offboardings = append(im.Offboardings, o)
	}
}

// finish counts the impact and derives its confirmation.
func (im *Impact) finish(c DirChange) {
	apps := map[string]bool{}
	h := sha256.New()
	for _, o := range im.Offboardings {
		im.Count++
		if o.Irreversible {
			im.Irreversible++
		}
		if !apps[o.App] {
			apps[o.App] = true
			im.Apps = append(im.Apps, o.App)
		}
		fmt.Fprintf(h, "%s|%d|%s|%t|%s|%t\n", o.App, o.UserID, o.Action, o.Wipe, o.TransferTo, o.RemoveDue != nil)
	}
	sort.Strings(im.Apps)
	if im.Count == 0 {
		return
	}
	im.Confirm = hex.EncodeToString(h.Sum(nil)[:6])
	if im.Irreversible > 0 {
		im.TypeToConfirm = fmt.Sprint(im.Count)
		if c.Group != "" && len(c.Members) == 0 {
			im.TypeToConfirm = c.Group
		}
	}
}

// ByApp groups the off-boarded users by app, for recording the confirmation.
func (im Impact) ByApp() map[int64][]int64 {
	out := map[int64][]int64{}
	for _, o := range im.Offboardings {
		out[o.AppID] = append(out[o.AppID], o.UserID)
	}
	return out
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	return ids
}

// PastLeavers is what applying the app's settings in force now to leavers
// off-boarded (or being off-boarded) under other settings would do.
func PastLeavers(ctx context.Context, st Store, a app.Instance) (Impact, error) {
	im := Impact{Offboardings: []Offboarding{}, Apps: []string{}}
	obs, err := st.ListOffboardings(ctx, a.ID)
	if err != nil {
		return im, err
	}
	var ids []int64
	for _, ob := range obs {
		if ob.Settings != a.Settings.Deactivation || ob.Kept {
			ids = append(ids, ob.UserID)
		}
	}
	accts, err := st.Accounts(ctx, a.ID, ids)
	if err != nil {
		return im, err
	}
	users, err := st.UsersByID(ctx, ids)
	if err != nil {
		return im, err
	}
	for _, id := range sortedIDs(accts) {
		acct := accts[id]
		u, ok := users[id]
		if !ok {
			u = directory.User{ID: id, Username: acct.Email}
		}
		k := knownFrom(acct)
		if k.Status == connector.StatusRemoved {
			continue
		}
		addImpact(&im, a, u, k, Desired{Want: WantGone})
	}
	im.finish(DirChange{})
	return im, nil
}
