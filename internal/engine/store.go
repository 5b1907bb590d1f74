package engine

import (
	"context"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Store is what the engine needs from persistence, role by role: the queue,
// and what its reconcilers, plans and impact reports read and write. It is
// narrower than the store: no admins, tokens, imports or directory writes
// beyond a profile update.
type Store interface {
	store.Queue
	Directory
	Apps
	Accounts
	Leavers
	store.GroupPush
	SystemLog
}

// Directory is the part of the directory the engine reads (and the profile
// update a full sync may import).
type Directory interface {
	GetUser(ctx context.Context, username string) (directory.User, error)
	ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error)
	UsersByID(ctx context.Context, ids []int64) (map[int64]directory.User, error)
	ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]directory.Assignment, error)
	EffectiveRoles(ctx context.Context, appID int64, userIDs []int64) (map[int64]directory.Role, error)
	UpdateUser(ctx context.Context, by store.Actor, username, action string, fn func(*directory.User) error) (directory.User, error)
}

// Apps reads app instances.
type Apps interface {
	GetApp(ctx context.Context, name string) (app.Instance, error)
	ListApps(ctx context.Context) ([]app.Instance, error)
}

// Accounts is the known state of user accounts and the user work of an app.
type Accounts interface {
	Accounts(ctx context.Context, appID int64, userIDs []int64) (map[int64]store.Account, error)
	ListAccounts(ctx context.Context, appID int64, p store.Page) ([]store.Account, error)
	CorrectAccounts(ctx context.Context, appID int64, put []store.Account, forget []int64, logs []audit.Entry) error
	EnqueueUsers(ctx context.Context, appID int64, userIDs []int64, reason string) error
	PendingWork(ctx context.Context, appID int64, limit int) ([]store.WorkItem, error)
	store.Targets
}

// Leavers is the part of store.Offboardings the engine uses: the
// records, the deletion guard's window, and releasing what it holds.
type Leavers interface {
	Offboardings(ctx context.Context, appID int64, userIDs []int64) (map[int64]store.Offboarding, error)
	ListOffboardings(ctx context.Context, appID int64) ([]store.Offboarding, error)
	ReserveOffboards(ctx context.Context, appID int64, since time.Time, maxAll, maxIrreversible int, evs []store.OffboardEvent) (bool, error)
	OffboardsSince(ctx context.Context, appID int64, since time.Time) (all, irreversible int, err error)
	ReleaseHeld(ctx context.Context, by store.Actor, appID int64, userIDs []int64) (int, error)
	HeldOffboardings(ctx context.Context, appID int64) (int, error)
	QueueDueRemovals(ctx context.Context, appID int64, now time.Time) (int, error)
}

// SystemLog reads and appends the system log.
type SystemLog interface {
	ListLog(ctx context.Context, f audit.Filter) ([]audit.Entry, error)
	AppendLog(ctx context.Context, e audit.Entry) error
}
