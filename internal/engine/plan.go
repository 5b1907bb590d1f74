// Package engine reconciles app accounts with the directory. Work items say
// "reconcile user U in app A"; the planner compares what the directory wants
// with what the app is known to hold and derives the calls. The planner is a
// pure function, so a retry re-plans from fresh state and cannot repeat a stale
// action.
package engine

import (
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

// Want is what the directory asks of one user's account in one app.
type Want int

// The desired account states.
const (
	WantNone      Want = iota // no account: never assigned, or staged
	WantActive                // an active (or invited) member with these attributes
	WantSuspended             // the directory suspended the user: keep files, block sign-in
	WantGone                  // deactivated, unassigned or deleted: off-board per settings
)

// Desired is the account the directory wants, derived from user, assignment and settings.
type Desired struct {
	Want      Want
	Email     string
	GivenName string
	Surname   string
	ExtID     string
	Role      connector.Role
	// Grace: the user left, and the removal waits for its grace period
	// (deactivation.remove_after): suspend now, files kept.
	Grace bool
}

// Known is what Roster last saw or did in the app (the shadow).
type Known struct {
	MemberID  string
	Email     string
	GivenName string
	Surname   string
	ExtID     string
	Role      connector.Role
	Status    connector.MemberStatus
	Silent    bool // created without a welcome email, not yet seen active
	// Recoverable: removed, and Dropbox can still bring it back with its
	// files. Roster records it when it removes a member, a full listing
	// tells it otherwise, and it lapses when the window has passed (knownFrom).
	Recoverable bool
	RemovedAt   time.Time // when Roster removed it, or first saw it removed
}

// ExternalID is the external id Roster gives a member: stable across renames.
func ExternalID(userID int64) string { return fmt.Sprintf("roster:%d", userID) }

// Derive computes the desired account. user is nil when the user was deleted;
// role is nil when the user is not assigned to the app. names is the app
// kind's name rule (nil: names go as they are), so that a legal directory
// name never blocks provisioning nor looks changed for ever.
func Derive(user *directory.User, role *directory.Role, names func(string) string) Desired {
	if user == nil {
		return Desired{Want: WantGone}
	}
	if names == nil {
		names = func(s string) string { return s }
	}
	d := Desired{Email: user.Email, GivenName: names(user.FirstName), Surname: names(user.LastName), ExtID: ExternalID(user.ID)}
	if role != nil {
		d.Role = connector.Role(*role)
	}
	switch {
	case role == nil || user.Status == directory.StatusDeprovisioned:
		d.Want = WantGone
	case user.Status == directory.StatusStaged:
		d.Want = WantNone
	case user.Status == directory.StatusSuspended:
		d.Want = WantSuspended
	default:
		d.Want = WantActive
	}
	return d
}

// Op names an action on the app.
type Op string

// The actions the planner can ask for.
const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpSetRole   Op = "set_role"
	OpSuspend   Op = "suspend"
	OpUnsuspend Op = "unsuspend"
	OpRemove    Op = "remove"
	OpRecover   Op = "recover" // bring back a removed member, files intact
	OpForget    Op = "forget"  // drop the shadow of an account that is gone
)

// Action is one intended call, with what it changes for the plan output.
type Action struct {
	Op      Op
	Member  connector.NewMember     // OpCreate
	Profile connector.ProfileChange // OpUpdate
	Role    connector.Role          // OpSetRole, OpCreate
	Wipe    bool                    // OpSuspend, OpRemove
	Remove  connector.RemoveOptions // OpRemove
	Changes map[string][2]string    // field -> [old, new], for plans and the log
	Skipped string                  // why a wanted change is not made (a feature is off)
}

// Plan derives the actions that bring known to desired under the app's settings.
// known is nil when Roster holds no account for the user in this app.
func Plan(d Desired, known *Known, s app.Settings) []Action {
	switch d.Want {
	case WantActive:
		return planActive(d, known, s)
	case WantSuspended:
		return planSuspended(known, s)
	case WantGone:
		return planGone(known, s, d.Grace)
	}
	return nil // staged: no account is made, and staging an existing one is not off-boarding
}

func planActive(d Desired, known *Known, s app.Settings) []Action {
	f := s.Features
	if known != nil && known.Status == connector.StatusRemoved && known.Recoverable {
		// Removed in Dropbox, or by an earlier off-boarding, less than its
		// recovery window ago: recovering keeps the files a new account
		// would lose, and Dropbox refuses a new account for that email anyway.
		if !f.ReactivateUsers {
			return []Action{{Op: OpRecover, Skipped: "reactivate users is off"}}
		}
		return []Action{{Op: OpRecover}}
	}
	if known == nil || known.Status == connector.StatusRemoved {
		if !f.PushNewUsers || (known != nil && !f.ReactivateUsers) {
			return []Action{{Op: OpCreate, Skipped: "push new users (or reactivate users) is off"}}
		}
		return []Action{{Op: OpCreate, Role: d.Role, Member: connector.NewMember{
			Email: d.Email, GivenName: d.GivenName, Surname: d.Surname, ExternalID: d.ExtID,
			Role: d.Role, SendWelcomeEmail: !s.Silent,
		}}}
	}
	var acts []Action
	if known.Status == connector.StatusSuspended {
		if f.ReactivateUsers {
			acts = append(acts, Action{Op: OpUnsuspend})
		} else {
			acts = append(acts, Action{Op: OpUnsuspend, Skipped: "reactivate users is off"})
		}
	}
	if f.PushProfileUpdates {
		if a, ok := profileUpdate(d, known, s.Import); ok {
			acts = append(acts, a)
		}
		if d.Role != known.Role {
			acts = append(acts, Action{Op: OpSetRole, Role: d.Role, Changes: map[string][2]string{"role": {string(known.Role), string(d.Role)}}})
		}
	}
	return acts
}

// profileUpdate compares the mapped attributes and sends only what differs.
// Attributes whose source is the app are imported, never pushed, so the two
// directions never fight (MISSION F6).
func profileUpdate(d Desired, k *Known, imp app.Import) (Action, bool) {
	a := Action{Op: OpUpdate, Changes: map[string][2]string{}}
	sourced := map[string]string{"email": "email", "given_name": "first_name", "surname": "last_name"}
	set := func(field, old, cur string, dst **string) {
		if old != cur && !imp.FromApp(sourced[field]) {
			v := cur
			*dst = &v
			a.Changes[field] = [2]string{old, cur}
		}
	}
	if directory.Key(k.Email) != directory.Key(d.Email) {
		set("email", k.Email, d.Email, &a.Profile.Email)
	}
	set("given_name", k.GivenName, d.GivenName, &a.Profile.GivenName)
	set("surname", k.Surname, d.Surname, &a.Profile.Surname)
	set("external_id", k.ExtID, d.ExtID, &a.Profile.ExternalID)
	return a, len(a.Changes) > 0
}

// planSuspended suspends without wiping: a directory suspension is temporary,
// and wiping devices or removing files on it would surprise everyone.
func planSuspended(known *Known, s app.Settings) []Action {
	if known == nil || known.Status != connector.StatusActive {
		return nil // nothing to suspend; an invited member cannot be suspended
	}
	if !s.Features.PushDeactivation {
		return []Action{{Op: OpSuspend, Skipped: "push user deactivation is off"}}
	}
	return []Action{{Op: OpSuspend, Wipe: false}}
}

func planGone(known *Known, s app.Settings, grace bool) []Action {
	if known == nil {
		return nil
	}
	if known.Status == connector.StatusRemoved {
		if known.Recoverable {
			return nil // kept while Dropbox can recover it: a reactivation recovers it by its id
		}
		return []Action{{Op: OpForget}}
	}
	d := s.Deactivation
	if !s.Features.PushDeactivation {
		return []Action{{Op: OpRemove, Skipped: "push user deactivation is off"}}
	}
	if grace && known.Status != connector.StatusInvited {
		if known.Status == connector.StatusSuspended {
			return nil
		}
		return []Action{{Op: OpSuspend}} // no wipe yet: the user may come back
	}
	// An invited member has no files or devices: removing is the only way to
	// withdraw the invitation, whatever the deactivation type.
	if d.Type == app.DeactivateSuspend && known.Status != connector.StatusInvited {
		if known.Status == connector.StatusSuspended {
			return nil
		}
		return []Action{{Op: OpSuspend, Wipe: d.WipeData}}
	}
	opt := connector.RemoveOptions{WipeData: d.WipeData}
	if d.FileManagement == app.FilesTransfer && known.Status != connector.StatusInvited {
		opt.TransferDestEmail, opt.TransferAdminEmail = d.TransferDest, d.TransferAdmin
	}
	return []Action{{Op: OpRemove, Wipe: d.WipeData, Remove: opt}}
}
