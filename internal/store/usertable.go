package store

import (
	"context"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
)

// AccountStates counts an app's known accounts by their state, for an
// overview such as the web UI's dashboard.
type AccountStates struct {
	Active    int `json:"active"`
	Invited   int `json:"invited"`
	Suspended int `json:"suspended"`
	Removed   int `json:"removed"`
	// PendingSSO counts the invited members provisioned silently: they
	// wait to sign in through single sign-on. They are among Invited.
	PendingSSO int `json:"pending_sso"`
}

// Columns a user table can be sorted by.
const (
	SortUsername = "username"
	SortName     = "name" // last name, then first name
	SortEmail    = "email"
	SortStatus   = "status"
	SortCreated  = "created"
	SortAppState = "app_state" // the account's state in UserQuery.AppID
)

// UserSorts lists the columns a user table can be sorted by.
var UserSorts = []string{SortUsername, SortName, SortEmail, SortStatus, SortCreated, SortAppState}

// AppStateNone and AppStatePendingSSO are the UserQuery.AppState values
// beyond the account states: no known account, and invited silently.
const (
	AppStateNone       = "none"
	AppStatePendingSSO = "pending_sso"
)

// UserQuery asks for one page of a sorted, filtered user table. Sorting,
// filtering, paging and the total are done by the database.
type UserQuery struct {
	Search string           // case-insensitive substring of username, email or name
	Status directory.Status // directory status
	Group  string           // members of this group
	// AppID is the app whose account state (UserRow.AppState) is shown; the
	// filters AppState and Role need it.
	AppID    int64
	AppState string // account state in the app: active, invited, suspended, removed, none or pending_sso
	// Role is the effective role in the app: a direct assignment's role, or
	// the most privileged role of the user's groups assigned to it.
	Role   string
	Sort   string // one of UserSorts; default username
	Desc   bool
	Offset int
	Limit  int // default 50, at most 1000
}

// UserRow is a user in a user table, with its account in the query's app.
type UserRow struct {
	directory.User
	AppState string // "" when no account is known
	Silent   bool   // provisioned silently
}

// UserTable is the part of the store that serves tables and counts to an
// admin's screen without loading whole lists into memory.
type UserTable interface {
	// QueryUsers returns a page of users and how many match in all.
	QueryUsers(ctx context.Context, q UserQuery) ([]UserRow, int, error)
	// UserGroups names the groups of each given user, by name.
	UserGroups(ctx context.Context, userIDs []int64) (map[int64][]string, error)
	AccountStates(ctx context.Context, appID int64) (AccountStates, error)
	// CountAppUsers counts an app's app users (from imports) by state.
	CountAppUsers(ctx context.Context, appID int64) (map[string]int, error)
	// ContestedUsers counts, for each directory user whom more than one of
	// the app's app users is matched or linked to, how many are: such
	// matches conflict and cannot all be right.
	ContestedUsers(ctx context.Context, appID int64) (map[int64]int, error)
	// CountLog counts the log entries matching f (its Limit and Before ignored).
	CountLog(ctx context.Context, f audit.Filter) (int, error)
}
