package importer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// Store is what an import needs from persistence: its own records, and the
// directory users and known accounts it matches against and creates.
type Store interface {
	store.Imports
	GetUser(ctx context.Context, username string) (directory.User, error)
	ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error)
	ExistingUsers(ctx context.Context, usernames, emails []string) (map[string]bool, error)
	CreateUsers(ctx context.Context, by store.Actor, us []directory.User) error
	UpdateUser(ctx context.Context, by store.Actor, username, action string, fn func(*directory.User) error) (directory.User, error)
	ListAccounts(ctx context.Context, appID int64, p store.Page) ([]store.Account, error)
	AppendLog(ctx context.Context, e audit.Entry) error
}

// Connect makes the connector of one app instance (an engine.Connect).
type Connect = func(ctx context.Context, a app.Instance, pacer connector.Pacer) (connector.Connector, error)

// Importer runs imports.
type Importer struct {
	st      Store
	connect Connect
	log     *slog.Logger
}

// New makes an importer.
func New(st Store, connect Connect, log *slog.Logger) *Importer {
	return &Importer{st: st, connect: connect, log: log}
}

// Options adjust one import.
type Options struct {
	Plan          bool        // report only; write nothing
	AllowVanished bool        // pass the import safeguard
	By            store.Actor // who asked, for the system log; default Actor
	// Progress, when set, is told how many members have been listed so
	// far, after each page from the app: a long import can show it.
	Progress func(members int)
}

// Problem is a member the import could not take as asked.
type Problem struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// Result summarises an import.
type Result struct {
	App            string    `json:"app"`
	Plan           bool      `json:"plan"`
	Members        int       `json:"members"`
	Linked         int       `json:"linked"` // already confirmed before this import
	Exact          int       `json:"exact"`
	Partial        int       `json:"partial"`
	Ambiguous      int       `json:"ambiguous"`
	Unmatched      int       `json:"unmatched"`
	Ignored        int       `json:"ignored"`
	Confirmed      int       `json:"confirmed"` // confirmed by this import's rules
	Created        int       `json:"created"`   // new directory users
	ProfileUpdates int       `json:"profile_updates"`
	Vanished       int       `json:"vanished"`
	Safeguard      string    `json:"safeguard,omitempty"` // why a real run would stop
	Problems       []Problem `json:"problems,omitempty"`
	Notes          []Problem `json:"notes,omitempty"` // what the push will change after confirming
}

// SafeguardError stops an import that would mark too many linked members gone.
type SafeguardError struct {
	App      string
	Vanished int
	Linked   int
	Percent  int
}

func (e *SafeguardError) Error() string {
	return fmt.Sprintf("import safeguard: %d of %d linked members of %s are missing from Dropbox, more than %d%%; nothing was changed. Check the Dropbox team, then run the import again with --allow-vanished if it is intended",
		e.Vanished, e.Linked, e.App, e.Percent)
}

// snapshot is what an import compares the team with: the directory users
// indexed by the keys matching uses, and only what the rules read of each.
// The members themselves are not kept: each page of the team listing is
// evaluated as it arrives.
type snapshot struct {
	users    map[int64]dirUser
	profiles map[int64]profile // the app-sourced attributes of linked users
	maxUser  int64             // the highest directory user ID; users created later have higher ones
	index    *Index
	linked   map[string]store.Account // by member ID
	ignored  map[string]bool
}

// dirUser is what an import reads of every directory user. The username
// shares its memory with the index's key.
type dirUser struct {
	username string
	active   bool
}

// profile is what profile updates compare, read only for users linked to a
// member, as only their profiles are imported.
type profile struct{ first, last, email string }

// Page sizes of the store's lists: full users come at most 1,000 at a time;
// users to match, accounts and app users 10,000.
const (
	pageSize    = 1000
	bigPageSize = 10000
)

// snapshot reads the directory and Roster's records of the app; the team is
// listed afterwards, page by page, by Run.
func (im *Importer) snapshot(ctx context.Context, a app.Instance) (*snapshot, error) {
	sn := &snapshot{users: map[int64]dirUser{}, profiles: map[int64]profile{}, index: NewIndex(nil), linked: map[string]store.Account{}, ignored: map[string]bool{}}
	if err := im.loadAccounts(ctx, a.ID, sn); err != nil {
		return nil, err
	}
	if err := im.loadIgnored(ctx, a.ID, sn); err != nil {
		return nil, err
	}
	return sn, im.loadUsers(ctx, sn, a.Settings.Features.ImportProfileUpdates)
}

func (im *Importer) loadUsers(ctx context.Context, sn *snapshot, profiles bool) error {
	linked := map[int64]bool{}
	if profiles {
		for _, ac := range sn.linked {
			linked[ac.UserID] = true
		}
	}
	for after := int64(0); ; {
		page, err := im.st.ListUsersToMatch(ctx, store.Page{After: after, Limit: bigPageSize})
		if err != nil {
			return fmt.Errorf("list directory users: %w", err)
		}
		for i := range page {
			u := &page[i]
			sn.index.Add(*u)
			sn.users[u.ID] = dirUser{username: sn.index.username(u.Username), active: u.Status == directory.StatusActive}
			if linked[u.ID] {
				sn.profiles[u.ID] = profile{u.FirstName, u.LastName, u.Email}
			}
			sn.maxUser = max(sn.maxUser, u.ID)
		}
		if len(page) < bigPageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

func (im *Importer) loadAccounts(ctx context.Context, appID int64, sn *snapshot) error {
	for after := int64(0); ; {
		page, err := im.st.ListAccounts(ctx, appID, store.Page{After: after, Limit: bigPageSize})
		if err != nil {
			return fmt.Errorf("list known accounts: %w", err)
		}
		for _, ac := range page {
			sn.linked[ac.MemberID] = ac
		}
		if len(page) < bigPageSize {
			return nil
		}
		after = page[len(page)-1].UserID
	}
}

func (im *Importer) loadIgnored(ctx context.Context, appID int64, sn *snapshot) error {
	for after := int64(0); ; {
		page, err := im.st.ListAppUsers(ctx, appID, store.AppUserIgnored, store.Page{After: after, Limit: bigPageSize})
		if err != nil {
			return fmt.Errorf("list ignored app users: %w", err)
		}
		for _, au := range page {
			sn.ignored[au.MemberID] = true
		}
		if len(page) < bigPageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}
