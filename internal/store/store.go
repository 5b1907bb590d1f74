// Package store defines how Roster persists its directory, apps, outbox, system
// log and tokens. Implementations live in store/sqlite and store/postgres and are
// held to the same behaviour by store/storetest.
package store

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
)

// Actor says who or what caused a change; it goes into the system log.
type Actor string

// Page asks for one page of a keyset-paginated list.
type Page struct {
	After int64 // return items with an ID greater than this
	Limit int   // at most this many; 0 means the default
}

// UserFilter narrows ListUsers.
type UserFilter struct {
	Page
	Status directory.Status
	Search string // case-insensitive substring of username, email or name
	Group  string // only members of this group
	Source string // only users this source owns
}

// GroupFilter narrows ListGroups.
type GroupFilter struct {
	Page
	Source string // only groups this source owns
}

// AssignmentFilter narrows ListAssignments; empty fields match all.
type AssignmentFilter struct {
	App   string
	User  string
	Group string
}

// WorkItem is an outbox entry: "reconcile Kind RefID in app AppID". Items for the
// same target coalesce: Generation counts the changes folded into one item.
type WorkItem struct {
	AppID      int64
	Kind       string
	RefID      int64
	Reason     string
	Generation int64
	Attempts   int
	DueAt      time.Time
	CreatedAt  time.Time
	// LeaseOwner is the worker holding the item until LeaseUntil; a lease
	// that has passed means the item is free again.
	LeaseOwner string
	LeaseUntil time.Time
	// State is queued, held (the deletion guard holds it for an admin) or
	// task (failed for good); filled in by PendingWork.
	State string
}

// Work item kinds: what a work item reconciles. The queue treats the kind as
// data; the engine has one reconciler per kind.
const (
	WorkUser  = "user"  // a user's account in an app
	WorkGroup = "group" // a pushed group in an app
)

// Claim asks the queue for due work items of one app.
type Claim struct {
	AppID int64
	Kinds []string // the kinds to lease, at least one
	Owner string   // the lease owner: unique per worker
	Lease time.Duration
	Limit int // at most this many items (and at most 2,000)
	// DueBy leases only items due by then (and due now); zero means now. A
	// pass bounded by its start time ends even while items keep failing
	// and coming back.
	DueBy time.Time
}

// Queue is the durable work queue, one for every kind of work: items
// coalesce by (app, kind, ref) and count the changes folded into them in
// their generation; they are leased in claims and settled by outcomes.
type Queue interface {
	// ClaimWork leases to c.Owner, for c.Lease, up to c.Limit due items of
	// the given kinds of one app, oldest due first.
	ClaimWork(ctx context.Context, c Claim) ([]WorkItem, error)
	// FinishWork records outcomes of items claimed by owner in one
	// transaction: each kind's payload and how each item ends. An item whose
	// generation changed while it was processed is released to run again
	// instead of completed; an item whose lease passed to another worker is
	// left to it.
	FinishWork(ctx context.Context, owner string, outs []Outcome) error
}

// Token is an admin API token; only its hash is stored.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
}

// UpsertCounts says what an upsert of users did.
type UpsertCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Store is everything Roster keeps. Each mutating method is one transaction that
// also writes its system-log entries and, where an app's desired state changes,
// its outbox items: no change without its item, no item without its change.
type Store interface {
	// CreateUser and the bulk creates give each user without one a new
	// external key, and the api source unless another is set.
	CreateUser(ctx context.Context, by Actor, u *directory.User) error
	// CreateUsers inserts all users or none.
	CreateUsers(ctx context.Context, by Actor, us []directory.User) error
	// CreateUsersSeq inserts every user the sequence yields, or none (an
	// error from it undoes all), holding only a statement's worth at a time;
	// it returns how many it inserted.
	CreateUsersSeq(ctx context.Context, by Actor, users iter.Seq2[directory.User, error]) (int, error)
	// ExistingUsers returns which of the given usernames and emails are taken,
	// by their normalised keys.
	ExistingUsers(ctx context.Context, usernames, emails []string) (map[string]bool, error)
	GetUser(ctx context.Context, username string) (directory.User, error)
	GetUserByID(ctx context.Context, id int64) (directory.User, error)
	// GetUserByExternalKey finds a user by its external key, in any case.
	GetUserByExternalKey(ctx context.Context, key string) (directory.User, error)
	ListUsers(ctx context.Context, f UserFilter) ([]directory.User, error)
	// UpdateUser reads the user, lets fn change it, validates and stores it, all
	// in one transaction; action names the change in the log. The external
	// key and the source never change this way.
	UpdateUser(ctx context.Context, by Actor, username, action string, fn func(*directory.User) error) (directory.User, error)
	// UpsertUsers creates each user whose username is new and lets merge
	// change each existing one (given the stored user and the row), all in
	// one transaction or none.
	UpsertUsers(ctx context.Context, by Actor, us []directory.User, merge func(old, row directory.User) (directory.User, error)) (UpsertCounts, error)
	DeleteUser(ctx context.Context, by Actor, username string) error

	CreateGroup(ctx context.Context, by Actor, g *directory.Group) error
	GetGroup(ctx context.Context, name string) (directory.Group, error)
	// GetGroupByExternalKey finds a group by its external key, in any case.
	GetGroupByExternalKey(ctx context.Context, key string) (directory.Group, error)
	ListGroups(ctx context.Context, p Page) ([]directory.Group, error)
	// FilterGroups is ListGroups narrowed by f.
	FilterGroups(ctx context.Context, f GroupFilter) ([]directory.Group, error)
	DeleteGroup(ctx context.Context, by Actor, name string) error
	AddGroupMembers(ctx context.Context, by Actor, group string, usernames []string) error
	RemoveGroupMembers(ctx context.Context, by Actor, group string, usernames []string) error

	CreateApp(ctx context.Context, by Actor, a *app.Instance) error
	GetApp(ctx context.Context, name string) (app.Instance, error)
	ListApps(ctx context.Context) ([]app.Instance, error)
	UpdateApp(ctx context.Context, by Actor, name string, fn func(*app.Instance) error) (app.Instance, error)
	// SetAppCredential stores an already encrypted credential.
	SetAppCredential(ctx context.Context, by Actor, name string, sealed []byte) error
	AppCredential(ctx context.Context, appID int64) ([]byte, error)

	// Assign creates or updates (the role of) an assignment.
	Assign(ctx context.Context, by Actor, a *directory.Assignment) error
	Unassign(ctx context.Context, by Actor, appName string, user, group string) error
	ListAssignments(ctx context.Context, f AssignmentFilter) ([]directory.Assignment, error)

	PendingWork(ctx context.Context, appID int64, limit int) ([]WorkItem, error)

	ListLog(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
	AppendLog(ctx context.Context, e audit.Entry) error

	CreateToken(ctx context.Context, by Actor, name string, hash []byte) (Token, error)
	// TokenByHash finds a token and records its use.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	DeleteToken(ctx context.Context, by Actor, id int64) error

	Ping(ctx context.Context) error
	Close() error
}

// Account is the known state of one user's account in one app.
type Account struct {
	AppID      int64  `json:"app_id"`
	UserID     int64  `json:"user_id"`
	MemberID   string `json:"member_id"`
	Email      string `json:"email"`
	GivenName  string `json:"given_name"`
	Surname    string `json:"surname"`
	ExternalID string `json:"external_id"`
	Role       string `json:"role"`
	Status     string `json:"status"`
	Silent     bool   `json:"silent"`
	// Recoverable: removed, and the app can still bring it back with its files.
	Recoverable bool `json:"recoverable,omitempty"`
	// RemovedAt is when Roster removed the account, or first saw it removed;
	// zero unless Status is removed. The app's recovery window runs from it.
	RemovedAt time.Time `json:"removed_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Outcome is what processing one claimed work item produced, whatever its
// kind: an envelope saying how the item ends (done, retry, task, held,
// waiting) with the log entries, and the payload of the item's kind (User or
// Group) with the known state to record. A batch's outcomes are stored in one
// transaction.
type Outcome struct {
	Item    WorkItem
	Logs    []audit.Entry
	Err     error     // nil: done (or Wait); else retry at RetryAt (with Wait: without an attempt)
	RetryAt time.Time // when to try again
	GiveUp  bool      // make it a task now (a permanent error, or attempts exhausted)
	// Held parks the item for an admin (the deletion guard held a user's
	// off-boarding); no attempt is counted. Only user items are held.
	Held bool
	// Wait keeps the item queued until RetryAt without counting an attempt:
	// it waits for other work (a group's members for their accounts), or
	// its calls were never sent (the worker lost the app's lane), which is
	// not a failure. Err, if set, is recorded as the item's last error.
	Wait  bool
	User  UserResult  // the payload of a WorkUser item
	Group GroupResult // the payload of a WorkGroup item
}

// UserResult is the known state a user item's work leaves. It is recorded
// only while the worker still holds the item's lease.
type UserResult struct {
	Account       *Account // the new known state, if it changed
	ForgetAccount bool     // the account is gone: drop its known state
	// Offboarding is the user's off-boarding record to create, or to update
	// (its phase, due time and hold; the intent and confirmation stay).
	Offboarding     *Offboarding
	DropOffboarding bool // the user is wanted again: the off-boarding is over
	// MemberChanged: the user's account is a new member (re-created after a
	// removal); the pushed groups the user is in are queued to follow.
	MemberChanged bool
}

// Offboarding phases.
const (
	PhaseGrace = "grace" // suspended; removal waits for RemoveDue
	PhaseFinal = "final" // the off-boarding's last step is (or was) made
)

// Offboarding is one user's off-boarding from one app and the intent it was
// started under (MISSION S4, E5).
type Offboarding struct {
	AppID  int64 `json:"app_id"`
	UserID int64 `json:"user_id"`
	// Settings are the deactivation settings in force when the user left.
	Settings  app.Deactivation `json:"settings"`
	StartedAt time.Time        `json:"started_at"`
	Phase     string           `json:"phase"`
	RemoveDue time.Time        `json:"remove_due_at,omitzero"` // set in the grace phase
	// Held: the deletion guard holds it until an admin releases it.
	Held bool `json:"held"`
	// ConfirmedBy names the admin who confirmed it or released it from the
	// guard; "" when nobody did.
	ConfirmedBy string `json:"confirmed_by,omitempty"`
	// Kept: an admin cancelled the removal; the member stays suspended.
	Kept bool `json:"kept"`
}

// OffboardEvent is one off-boarding about to be made, for the deletion guard.
type OffboardEvent struct {
	UserID       int64
	Irreversible bool // a removal or a wipe
	Confirmed    bool // an admin confirmed it: counted, never held
}

// Offboardings is the part of the store that keeps off-boarding intents and
// the deletion guard's window.
type Offboardings interface {
	// Offboardings loads the records of the given users of an app.
	Offboardings(ctx context.Context, appID int64, userIDs []int64) (map[int64]Offboarding, error)
	// ListOffboardings lists an app's records (appID 0: every app's), by user.
	ListOffboardings(ctx context.Context, appID int64) ([]Offboarding, error)
	// ReserveOffboards records off-boardings about to be made when they fit
	// the guard: at most maxAll, and maxIrreversible irreversible ones, made
	// since since. Confirmed ones always fit but count; when the others do
	// not fit, nothing is recorded and it answers false.
	ReserveOffboards(ctx context.Context, appID int64, since time.Time, maxAll, maxIrreversible int, evs []OffboardEvent) (bool, error)
	// ConfirmOffboardings records that an admin confirmed the off-boarding
	// of these users (the settings in force now are the intent of any that
	// has no record yet) and releases those the guard held.
	ConfirmOffboardings(ctx context.Context, by Actor, appID int64, userIDs []int64) error
	// ReleaseHeld releases the off-boardings the guard holds (userIDs nil:
	// all of the app's) as confirmed by the admin, and queues them.
	ReleaseHeld(ctx context.Context, by Actor, appID int64, userIDs []int64) (int, error)
	// KeepOffboarded cancels a pending removal: the member stays suspended.
	KeepOffboarded(ctx context.Context, by Actor, appID, userID int64) error
	// ReapplyOffboardings makes the app's settings in force now the intent
	// of these past leavers (restarting any grace period now) and queues them.
	ReapplyOffboardings(ctx context.Context, by Actor, appID int64, userIDs []int64) error
	// HeldOffboardings counts the app's off-boardings the guard holds.
	HeldOffboardings(ctx context.Context, appID int64) (int, error)
	// OffboardsSince counts the off-boardings made in the app since a time,
	// and the irreversible ones among them: the guard's window so far.
	OffboardsSince(ctx context.Context, appID int64, since time.Time) (all, irreversible int, err error)
	// QueueDueRemovals queues the users whose grace period has ended by now.
	QueueDueRemovals(ctx context.Context, appID int64, now time.Time) (int, error)
}

// Task is a work item that failed too often or permanently and waits for an admin.
type Task struct {
	AppID     int64     `json:"app_id"`
	Kind      string    `json:"kind"`
	RefID     int64     `json:"ref_id"`
	Reason    string    `json:"reason"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	Since     time.Time `json:"since"`
}

// Engine is the part of the store the provisioning engine uses.
type Engine interface {
	Queue
	Accounts(ctx context.Context, appID int64, userIDs []int64) (map[int64]Account, error)
	ListAccounts(ctx context.Context, appID int64, p Page) ([]Account, error)
	// EffectiveRoles returns, for each given user assigned to the app, its role:
	// a direct assignment's role wins, else the most privileged group role.
	EffectiveRoles(ctx context.Context, appID int64, userIDs []int64) (map[int64]directory.Role, error)
	UsersByID(ctx context.Context, ids []int64) (map[int64]directory.User, error)
	ListTasks(ctx context.Context, appID int64) ([]Task, error)
	// RetryTask queues a task again with fresh attempts; DismissTask drops it.
	RetryTask(ctx context.Context, by Actor, appID int64, kind string, refID int64) error
	DismissTask(ctx context.Context, by Actor, appID int64, kind string, refID int64) error
	// EnqueueAll queues every user assigned to the app, for a full sync.
	EnqueueAll(ctx context.Context, appID int64, reason string) (int, error)
	// EnqueueUsers queues the given users of an app.
	EnqueueUsers(ctx context.Context, appID int64, userIDs []int64, reason string) error
	// CorrectAccounts records what a full reconciliation found in the app:
	// accounts as they really are, accounts that no longer exist, and the
	// log entries saying so, in one transaction.
	CorrectAccounts(ctx context.Context, appID int64, put []Account, forget []int64, logs []audit.Entry) error
	Targets
}

// Targets lists user IDs of an app for planning: with full, every user the
// app holds or should hold (assigned users and known accounts); otherwise the
// users with queued work.
type Targets interface {
	TargetUsers(ctx context.Context, appID int64, full bool) ([]int64, error)
	// CountAccounts counts the app's known accounts that are not removed.
	CountAccounts(ctx context.Context, appID int64) (int, error)
}

// Admin is a local account of the admin web UI; only a slow hash of its
// password is stored, and never returned with it.
type Admin struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastLogin *time.Time `json:"last_login_at,omitempty"`
}

// Session is a signed-in browser of the web UI. Its id lives only in the
// browser's cookie; the store keeps a hash of it, so a copy of the database
// cannot be used to sign in. A session made with an API token ends when the
// token is revoked; one made by an admin ends when the admin is deleted.
type Session struct {
	Actor     Actor     // who the session acts as, for the system log
	AdminID   int64     // the local admin, or 0
	TokenID   int64     // the API token signed in with, or 0
	CreatedAt time.Time // when it was made
	ExpiresAt time.Time // after this it no longer opens
}

// OAuthClient is an app's OAuth 2 client (its "app key") for "Authenticate
// with Dropbox Business". The secret and the refresh token are sealed by the
// caller; the store never sees them in the clear.
type OAuthClient struct {
	AppID         int64
	ClientID      string
	SealedSecret  []byte
	SealedRefresh []byte    // nil until the flow has run with offline access
	TokenExpires  time.Time // when the access token from the flow expires; zero if unknown
}

// Admins is the part of the store the web UI uses for its own accounts,
// sessions and the OAuth flow.
type Admins interface {
	// CreateAdmin stores a new admin with an already hashed password.
	CreateAdmin(ctx context.Context, by Actor, name string, passwordHash []byte) (Admin, error)
	// AdminPassword returns an admin and its password hash, for sign-in.
	AdminPassword(ctx context.Context, name string) (Admin, []byte, error)
	SetAdminPassword(ctx context.Context, by Actor, name string, passwordHash []byte) error
	ListAdmins(ctx context.Context) ([]Admin, error)
	DeleteAdmin(ctx context.Context, by Actor, name string) error

	// CreateSession stores a session under the hash of its id and logs the sign-in.
	CreateSession(ctx context.Context, idHash []byte, s Session) error
	// SessionByHash returns a session that has not expired at now and whose
	// admin or token still exists.
	SessionByHash(ctx context.Context, idHash []byte, now time.Time) (Session, error)
	// DeleteSession ends a session (sign-out); an unknown one is no error.
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteExpiredSessions drops sessions and OAuth states expired at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// SetOAuthClient stores (or replaces) an app's OAuth client; the refresh
	// token of an earlier client is dropped with it.
	SetOAuthClient(ctx context.Context, by Actor, appName, clientID string, sealedSecret []byte) error
	OAuthClient(ctx context.Context, appID int64) (OAuthClient, error)
	// SetOAuthToken stores the outcome of the flow in one transaction: the
	// sealed access token as the app's credential and the sealed refresh token.
	SetOAuthToken(ctx context.Context, by Actor, appName string, sealedAccess, sealedRefresh []byte, expires time.Time) error
	// CreateOAuthState remembers a state parameter (hashed) for one session
	// and app until expires; TakeOAuthState returns its app once and forgets it.
	CreateOAuthState(ctx context.Context, stateHash, sessionHash []byte, appID int64, expires time.Time) error
	TakeOAuthState(ctx context.Context, stateHash, sessionHash []byte, now time.Time) (int64, error)
}

// FleetWorker is one worker process of a fleet, as its heartbeats show it.
type FleetWorker struct {
	Owner      string    `json:"owner"`
	StartedAt  time.Time `json:"started_at"`
	AliveUntil time.Time `json:"alive_until"`
}

// Lane is the right to call one app instance. One worker holds it at a time,
// so the app's call budget is spent by one pacer however many processes run.
type Lane struct {
	AppID int64     `json:"app_id"`
	Owner string    `json:"owner"` // "" when released
	Until time.Time `json:"until"` // nobody else may take it before
	Since time.Time `json:"since"` // when Owner took it
	Pace  Pace      `json:"pace"`  // the app's call rate, as its holder last saved it
}

// Pace is where an app's call rate stands and why, kept with its lane so
// that the rate an auto budget found is one per app across a fleet: a new
// holder of the lane starts from it, and every process can show it.
type Pace struct {
	Auto    bool      `json:"auto"`             // found by trial (budget.calls_per_second=auto)
	Rate    float64   `json:"calls_per_second"` // the rate in force
	Reason  string    `json:"reason"`           // e.g. "slow start", "backed off after 429"
	Since   time.Time `json:"since"`            // when the reason began
	Last429 time.Time `json:"last_429"`         // the app's last 429; zero if none
	At      time.Time `json:"at"`               // when the holder saved it; zero if never
}

// QueueStat summarises one app's work items for monitoring.
type QueueStat struct {
	AppID   int64     `json:"app_id"`
	Queued  int       `json:"queued"`   // waiting or in progress
	Due     int       `json:"due"`      // queued and due now
	Leased  int       `json:"leased"`   // held by a worker now
	Tasks   int       `json:"tasks"`    // waiting for an admin
	Oldest  time.Time `json:"oldest"`   // creation of the oldest queued item; zero if none
	Retries int       `json:"retrying"` // queued items that failed at least once
}

// Fleet is the part of the store that lets several worker processes share
// one database: heartbeats, one lane per app instance, and handing work back.
type Fleet interface {
	// Heartbeat records that owner is alive for ttl (joining the fleet if
	// new) and returns the workers alive now, owner among them.
	Heartbeat(ctx context.Context, owner string, ttl time.Duration) ([]FleetWorker, error)
	// LeaveFleet forgets owner and frees its lanes at once.
	LeaveFleet(ctx context.Context, owner string) error
	// AcquireLane gives owner the app's lane for ttl when it is owner's
	// already (a renewal) or nobody's until now; it reports whether owner holds it.
	AcquireLane(ctx context.Context, appID int64, owner string, ttl time.Duration) (bool, error)
	// ReleaseLane gives up owner's lane; nobody may take it for cooldown, so
	// the next holder's calls never share a second with the last holder's.
	ReleaseLane(ctx context.Context, appID int64, owner string, cooldown time.Duration) error
	Lanes(ctx context.Context) ([]Lane, error)
	// SetPace saves the app's pace with its lane while owner holds it.
	SetPace(ctx context.Context, appID int64, owner string, p Pace) error
	// ReleaseWork hands back the items of an app (0: every app) leased to
	// owner, so that any worker can claim them at once.
	ReleaseWork(ctx context.Context, appID int64, owner string) (int, error)
	// ReclaimWork frees the app's items leased to anyone but owner: the new
	// holder of a lane takes back what a dead holder left behind.
	ReclaimWork(ctx context.Context, appID int64, owner string) (int, error)
	QueueStats(ctx context.Context) ([]QueueStat, error)
}

// GroupPushRule chooses directory groups to push to an app (MISSION F7): one
// group by name, or every group whose name matches a glob pattern, including
// groups created or renamed later.
type GroupPushRule struct {
	ID    int64  `json:"id"`
	AppID int64  `json:"app_id"`
	Group string `json:"group,omitempty"` // a name rule: the group's current name
	// GroupID binds a name rule to its group, so a renamed group stays pushed.
	GroupID int64  `json:"group_id,omitempty"`
	Pattern string `json:"pattern,omitempty"` // a pattern rule: * any run, ? one character, case-insensitive
	// LinkExisting links a Dropbox group of the same name instead of
	// reporting the clash.
	LinkExisting bool      `json:"link_existing"`
	CreatedAt    time.Time `json:"created_at"`
}

// Validate checks that the rule names exactly one group or one pattern.
func (r *GroupPushRule) Validate() error {
	r.Group, r.Pattern = strings.TrimSpace(r.Group), strings.TrimSpace(r.Pattern)
	if (r.Group == "") == (r.Pattern == "") {
		return fmt.Errorf("%w: name either one group or one pattern", directory.ErrInvalid)
	}
	if len(r.Group) > 255 || len(r.Pattern) > 255 {
		return fmt.Errorf("%w: a group name or pattern has at most 255 characters", directory.ErrInvalid)
	}
	return nil
}

// Key identifies the rule within its app: its group, or its pattern whatever
// the case. A name rule's GroupID must be resolved first.
func (r GroupPushRule) Key() string {
	if r.Pattern == "" {
		return fmt.Sprintf("group:%d", r.GroupID)
	}
	return "pattern:" + strings.ToLower(r.Pattern)
}

// Matches reports whether the rule covers a directory group.
func (r GroupPushRule) Matches(groupID int64, name string) bool {
	if r.Pattern == "" {
		return r.GroupID == groupID
	}
	return globMatch([]rune(strings.ToLower(r.Pattern)), []rune(strings.ToLower(strings.TrimSpace(name))))
}

// globMatch matches * (any run, '/' included, unlike path.Match) and ?,
// backtracking only to the last * seen, so it runs in O(len(p)·len(s)).
func globMatch(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi, si = pi+1, si+1
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// PushedGroup is a directory group pushed to an app, with what Roster knows of
// its Dropbox group.
type PushedGroup struct {
	AppID   int64  `json:"app_id"`
	GroupID int64  `json:"group_id"`
	Group   string `json:"group"` // the directory name (the last one, if the group was deleted)
	// InDirectory is false once the directory group is deleted.
	InDirectory  bool   `json:"in_directory"`
	RemoteID     string `json:"dropbox_group_id,omitempty"` // "" until created or linked
	RemoteName   string `json:"dropbox_group_name,omitempty"`
	LinkExisting bool   `json:"link_existing"`
	// Unlink says no rule covers the group any more; DeleteInApp says the
	// admin asked to delete the Dropbox group rather than leave it.
	Unlink      bool `json:"unlink"`
	DeleteInApp bool `json:"delete_in_app"`
	// Members counts the known members of the Dropbox group, leaving out
	// ids that are no longer their user's account (ListPushedGroups only).
	Members int `json:"members"`
	Pending int `json:"pending"` // directory members still waiting for an account
	// State is in_step, queued (work waiting), retrying (last attempt
	// failed), task (failed for good, waiting for an admin) or drifted (no
	// work waits, yet the known members differ from the directory's).
	State     string     `json:"state"`
	LastError string     `json:"last_error,omitempty"`
	SyncedAt  *time.Time `json:"synced_at,omitempty"`
	// VerifiedAt is when Roster last read the group's members from Dropbox
	// (on create or link, and at each full reconciliation): changes made in
	// Dropbox directly are seen from the next read on.
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	// Drift says how the known members differ from the directory's wanted
	// members by their current accounts; nil when they agree (ListPushedGroups only).
	Drift *GroupDrift `json:"drift,omitempty"`
}

// GroupDrift counts the differences between a pushed group's known members
// and the directory group, judged by the members' current accounts.
type GroupDrift struct {
	Missing    int `json:"missing"`    // wanted members not known in the group, or without an account
	Unexpected int `json:"unexpected"` // known members with an account whom the directory does not want there
	Stale      int `json:"stale"`      // known ids their user no longer holds (account gone or made again)
}

// GroupCheck is what reading a pushed group's members from Dropbox found.
type GroupCheck struct {
	AppID    int64
	GroupID  int64
	RemoteID string        // the Dropbox group read; a group linked to another one meanwhile is left as it is
	Gone     bool          // the Dropbox group no longer exists: forget it so the item makes it again
	Members  []GroupMember // its members as read
	Queue    bool          // queue the group's item: the members differ from the directory's
	Logs     []audit.Entry
}

// GroupMember is a known member of a pushed group's Dropbox group. UserID is 0
// for a member Roster holds no account for (found when linking): such members
// are reported and left alone.
type GroupMember struct {
	MemberID string `json:"member_id"`
	UserID   int64  `json:"user_id"`
}

// DirectoryMember is a directory group member as group push needs it.
type DirectoryMember struct {
	UserID   int64            `json:"user_id"`
	Username string           `json:"user"`
	Status   directory.Status `json:"status"`
}

// GroupResult is the known state a group item's work leaves. It is recorded
// whatever became of the lease: the calls were made.
type GroupResult struct {
	// Row carries the new RemoteID, RemoteName and Pending of the pushed group.
	Row PushedGroup
	// Forget drops the pushed group and its known members (it was unlinked),
	// unless a rule pushed it again meanwhile.
	Forget  bool
	Reset   bool          // Added replaces every known member (the group was re-read or recreated)
	Added   []GroupMember // members now in the Dropbox group
	Removed []string      // member ids no longer in it
}

// GroupPush is the part of the store group push uses (MISSION F7). Rule
// changes, directory group renames and membership changes of pushed groups
// queue a WorkGroup item in the same transaction.
type GroupPush interface {
	// PushGroups stores (or updates) a rule and pushes every group it
	// matches: each gets its pushed-group record, an assignment to the app
	// with role member if it had none (its members need accounts), and a
	// queued item. It returns the names of the matched groups.
	PushGroups(ctx context.Context, by Actor, appName string, r *GroupPushRule) ([]string, error)
	// UnpushGroups drops a rule; groups no other rule covers are queued for
	// unlinking, their Dropbox group deleted if deleteInApp. Assignments are
	// left alone. It returns the names of the groups being unlinked.
	UnpushGroups(ctx context.Context, by Actor, appName string, r GroupPushRule, deleteInApp bool) ([]string, error)
	ListGroupPushRules(ctx context.Context, appID int64) ([]GroupPushRule, error)
	// ListPushedGroups lists an app's pushed groups (those being unlinked too)
	// by name, each compared with its directory group (Members, Drift, State).
	ListPushedGroups(ctx context.Context, appID int64) ([]PushedGroup, error)
	// RecordGroupCheck replaces a pushed group's known members with what was
	// read from Dropbox, dates the read and queues the group if asked, with
	// the log entries, in one transaction.
	RecordGroupCheck(ctx context.Context, c GroupCheck) error
	// PushedGroups loads the given pushed groups of an app, without Members
	// and Drift; missing ones are absent.
	PushedGroups(ctx context.Context, appID int64, groupIDs []int64) (map[int64]PushedGroup, error)
	// GroupTargets lists group IDs for a plan: with full every pushed group,
	// otherwise those with queued work.
	GroupTargets(ctx context.Context, appID int64, full bool) ([]int64, error)
	DirectoryMembers(ctx context.Context, groupIDs []int64) (map[int64][]DirectoryMember, error)
	KnownGroupMembers(ctx context.Context, appID int64, groupIDs []int64) (map[int64][]GroupMember, error)
	// UsersByMemberID maps Dropbox member ids to the users holding those accounts.
	UsersByMemberID(ctx context.Context, appID int64, memberIDs []string) (map[string]int64, error)
	// RenameGroup renames a directory group; pushed groups follow, and
	// pattern rules are applied to the new name.
	RenameGroup(ctx context.Context, by Actor, name, newName string) (directory.Group, error)
}
