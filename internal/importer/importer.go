package importer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
)

// Store is what an import needs from persistence.
type Store interface {
	engine.Store
	store.Imports
}

// Importer runs imports.
type Importer struct {
	st      Store
	connect engine.Connect
	log     *slog.Logger
}

// New makes an importer.
func New(st Store, connect engine.Connect, log *slog.Logger) *Importer {
	return &Importer{st: st, connect: connect, log: log}
}

// Options adjust one import.
type Options struct {
	Plan          bool // report only; write nothing
	AllowVanished bool // pass the import safeguard
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
	Problems       []Problem `json:"problems,omitempty"`
}

// SafeguardError stops an import that would mark too many linked members gone.
type SafeguardError struct {
	App      string
	Vanished int
	Linked   int
	Percent  int
}

func (e *SafeguardError) Error() string {
	return fmt.Sprintf("import safeguard: %d of %d linked members of %s are missing from Dropbox, more than %d%%; nothing was changed. Check the Dropbox team, then run the import with --allow-vanished if it is intended",
		e.Vanished, e.Linked, e.App, e.Percent)
}

// snapshot is everything an import compares.
type snapshot struct {
	members []connector.Member
	users   map[int64]directory.User
	index   *Index
	linked  map[string]store.Account // by member ID
	ignored map[string]bool
}

func (im *Importer) snapshot(ctx context.Context, a app.Instance) (*snapshot, error) {
	conn, err := im.connect(ctx, a, engine.NewPacer(0))
	if err != nil {
		return nil, err
	}
	sn := &snapshot{users: map[int64]directory.User{}, linked: map[string]store.Account{}, ignored: map[string]bool{}}
	if err := conn.ListMembers(ctx, false, func(ms []connector.Member) error {
		sn.members = append(sn.members, ms...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list Dropbox members: %w", err)
	}
	var all []directory.User
	for after := int64(0); ; {
		page, err := im.st.ListUsers(ctx, store.UserFilter{Page: store.Page{After: after, Limit: 1000}})
		if err != nil {
			return nil, err
		}
		for _, u := range page {
			sn.users[u.ID] = u
		}
		all = append(all, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	sn.index = NewIndex(all)
	for after := int64(0); ; {
		page, err := im.st.ListAccounts(ctx, a.ID, store.Page{After: after, Limit: 10000})
		if err != nil {
			return nil, err
		}
		for _, ac := range page {
			sn.linked[ac.MemberID] = ac
		}
		if len(page) < 10000 {
			break
		}
		after = page[len(page)-1].UserID
	}
	for after := int64(0); ; {
		page, err := im.st.ListAppUsers(ctx, a.ID, store.AppUserIgnored, store.Page{After: after, Limit: 10000})
		if err != nil {
			return nil, err
		}
		for _, au := range page {
			sn.ignored[au.MemberID] = true
		}
		if len(page) < 10000 {
			break
		}
		after = page[len(page)-1].ID
	}
	return sn, nil
}
