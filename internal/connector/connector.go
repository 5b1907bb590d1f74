// Package connector defines what the engine needs from an app (a Dropbox team so
// far) and the kinds of error an app can answer with, so the engine can decide
// between retrying, waiting, linking and giving up without knowing the wire format.
package connector

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failed call.
type Kind int

// The error kinds. The zero value is Permanent: an unclassified error is never retried blindly.
const (
	Permanent   Kind = iota // bad request or a state that retrying will not change
	Retryable               // 5xx, network failure, lost answer: re-read state, then retry
	RateLimited             // 429: retry after RetryAfter
	Conflict                // already exists / already in that state
	NotFound                // the member or group does not exist
	Auth                    // token invalid, expired or lacking a scope: an admin must act
)

func (k Kind) String() string {
	return [...]string{"permanent", "retryable", "rate_limited", "conflict", "not_found", "auth"}[k]
}

// The reasons a connector gives for a refusal the engine acts on, whatever
// the app's own wording: errors.Is(err, ErrAlreadyMember) and so on. Each
// connector maps its app's error tags onto them.
var (
	ErrAlreadyMember  = errors.New("a member with that email or external id already exists")
	ErrUnrecoverable  = errors.New("the removed member can no longer be recovered")
	ErrLicenceLimit   = errors.New("the app has no licence left for a new member")
	ErrGroupGone      = errors.New("the group no longer exists in the app")
	ErrGroupNameTaken = errors.New("a group of that name already exists in the app")
	ErrMemberLinked   = errors.New("the member is already another user's account")
	ErrUnsupported    = errors.New("the app kind cannot do that")
)

// Error is a classified failure of one remote call. It never holds the token.
type Error struct {
	Kind       Kind
	Op         string        // the app's operation (for Dropbox its route)
	Tag        string        // the app's own error tag, for people reading the log
	Reason     error         // one of the Err reasons above, or nil
	RetryAfter time.Duration // for RateLimited
	Msg        string        // human-readable detail from the app
	Err        error         // underlying cause, if any
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.String()
	if e.Tag != "" {
		s += " (" + e.Tag + ")"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrAlreadyMember) and its kin true for an *Error
// with that Reason.
func (e *Error) Is(target error) bool { return e.Reason != nil && target == e.Reason }

// KindOf returns the kind of err; errors that are not *Error count as Retryable
// when they come from a cancelled or timed-out context of the app, else Permanent.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Retryable
	}
	return Permanent
}

// RetryAfterOf returns how long the app asked us to wait, if it did.
func RetryAfterOf(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Kind == RateLimited {
		return e.RetryAfter, true
	}
	return 0, false
}

// TagOf returns the app's own error tag of err, or "": for the connector
// itself and for people; the engine decides on Kind and Reason.
func TagOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Tag
	}
	return ""
}

// Errorf builds an *Error.
func Errorf(kind Kind, op, tag, format string, a ...any) *Error {
	return &Error{Kind: kind, Op: op, Tag: tag, Msg: fmt.Sprintf(format, a...)}
}

// Refusef builds an *Error of the engine's own making, for a reason above.
func Refusef(kind Kind, op string, reason error, format string, a ...any) *Error {
	return &Error{Kind: kind, Op: op, Reason: reason, Msg: fmt.Sprintf(format, a...)}
}

// MemberStatus is a member's state in the app.
type MemberStatus string

// Member statuses as Dropbox reports them.
const (
	StatusInvited   MemberStatus = "invited"
	StatusActive    MemberStatus = "active"
	StatusSuspended MemberStatus = "suspended"
	StatusRemoved   MemberStatus = "removed"
)

// Role is a member's role in the app: one of its kind's Spec.Roles, opaque
// to everyone but the kind's connector. A connector of a kind with roles
// always reports one (Spec.Roles[0] for a plain member).
type Role string

// Member is an account in the app.
type Member struct {
	ID          string // Dropbox team_member_id, the stable key
	AccountID   string
	Email       string
	GivenName   string
	Surname     string
	ExternalID  string
	Status      MemberStatus
	Recoverable bool // removed but still recoverable
	Role        Role
	Groups      []string // group IDs
}

// NewMember is an account to create.
type NewMember struct {
	Email            string
	GivenName        string
	Surname          string
	ExternalID       string
	Role             Role
	SendWelcomeEmail bool
}

// AddResult is the outcome for one NewMember, in input order. Err is an *Error;
// Kind Conflict with Reason ErrAlreadyMember means a member with that email
// or external id exists.
type AddResult struct {
	Email  string
	Member Member
	Err    error
}

// ProfileChange holds the fields to change; nil means unchanged. An empty
// ExternalID clears it.
type ProfileChange struct {
	Email      *string
	GivenName  *string
	Surname    *string
	ExternalID *string
}

// Selector names one member by exactly one of its keys.
type Selector struct {
	ID         string
	Email      string
	ExternalID string
}

// RemoveOptions are the off-boarding choices of a removal (MISSION S4).
type RemoveOptions struct {
	WipeData           bool
	TransferDestEmail  string // both or neither
	TransferAdminEmail string
}

// Group is a group in the app.
type Group struct {
	ID             string
	Name           string
	ExternalID     string
	MemberCount    int
	ManagementType string // the app's own word for who manages it
	// AppManaged: the app manages the group itself, so Roster never links it.
	AppManaged bool
}

// TeamInfo describes the connected team.
type TeamInfo struct {
	Name             string
	TeamID           string
	LicensedUsers    int
	ProvisionedUsers int
	UsedLicenses     int
}

// Connector is one app instance's remote side: what every app kind can do.
// What only some kinds can do is an optional interface (RoleSetter,
// Suspender, …) that the engine finds with Capable. Every method is safe for
// concurrent use. Calls rejected with 429 may be retried inside the connector
// (the request was not executed); other failures are returned classified, and
// the engine re-reads state before trying again.
type Connector interface {
	TeamInfo(ctx context.Context) (TeamInfo, error)
	AuthenticatedAdmin(ctx context.Context) (Member, error)

	// AddMembers adds any number of members, in batches the app accepts.
	AddMembers(ctx context.Context, ms []NewMember) ([]AddResult, error)
	// GetMembers looks members up; a result is nil where nothing matched.
	GetMembers(ctx context.Context, sel []Selector) ([]*Member, error)
	// ListMembers calls page for each page of the team's members.
	ListMembers(ctx context.Context, includeRemoved bool, page func([]Member) error) error
	SetProfile(ctx context.Context, id string, ch ProfileChange) (Member, error)
	Remove(ctx context.Context, id string, opt RemoveOptions) error
}

// RoleSetter is a connector of a kind with CapRoles.
type RoleSetter interface {
	SetRole(ctx context.Context, id string, role Role) error
}

// Suspender is a connector of a kind with CapSuspend. Suspend's wipeData is
// honoured only by a kind with CapWipe.
type Suspender interface {
	Suspend(ctx context.Context, id string, wipeData bool) error
	Unsuspend(ctx context.Context, id string) error
}

// Recoverer is a connector of a kind with CapRecover.
type Recoverer interface {
	Recover(ctx context.Context, id string) error
}

// WelcomeSender is a connector of a kind with CapWelcomeEmail.
type WelcomeSender interface {
	SendWelcomeEmail(ctx context.Context, id string) error
}

// GroupPusher is a connector of a kind with CapGroupPush.
type GroupPusher interface {
	CreateGroup(ctx context.Context, name, externalID string) (Group, error)
	ListGroups(ctx context.Context, page func([]Group) error) error
	RenameGroup(ctx context.Context, id, name string) (Group, error)
	DeleteGroup(ctx context.Context, id string) error
	AddGroupMembers(ctx context.Context, groupID string, memberIDs []string) error
	RemoveGroupMembers(ctx context.Context, groupID string, memberIDs []string) error
	ListGroupMembers(ctx context.Context, groupID string, page func(memberIDs []string) error) error
}

// TransferChecker is a connector of a kind with CapTransfer that can tell,
// before anyone leaves, whether the app would accept a removal's transfer
// accounts. It answers the problems it found, for people, or an error when
// the accounts could not be looked up.
type TransferChecker interface {
	CheckTransfer(ctx context.Context, destEmail, adminEmail string) (problems []string, err error)
}

// Unwrapper is a connector that wraps another (Instrument's), so Capable
// can tell whether the connector underneath really has a capability.
type Unwrapper interface {
	Unwrap() Connector
}

// Capable returns c as capability interface T (Suspender, GroupPusher, …)
// when c and every connector it wraps implement T: a wrapper that forwards
// every method does not lend its inner connector capabilities it lacks.
func Capable[T any](c Connector) (T, bool) {
	t, ok := c.(T)
	for inner := c; ok; {
		u, wraps := inner.(Unwrapper)
		if !wraps {
			break
		}
		inner = u.Unwrap()
		_, ok = inner.(T)
	}
	if !ok {
		var zero T
		return zero, false
	}
	return t, true
}

// Pacer spaces an app instance's calls. Wait blocks until a call may go; Pause
// tells it the app asked for a pause (Retry-After), so every caller sharing the
// pacer holds back, not just the one that was refused.
type Pacer interface {
	Wait(ctx context.Context) error
	Pause(d time.Duration)
}

// AnswerObserver is what a Pacer may also be: told, after each call it let
// go was answered, how long the answer took and its HTTP status, so that it
// can find the app's rate by trial. (Its 429s also come through Pause.)
type AnswerObserver interface {
	Answered(took time.Duration, status int)
}

// Answered tells p about an answer, if p wants to know.
func Answered(p Pacer, took time.Duration, status int) {
	if o, ok := p.(AnswerObserver); ok {
		o.Answered(took, status)
	}
}
