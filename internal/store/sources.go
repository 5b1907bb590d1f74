package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// Source kinds: what feeds users and groups into the directory (MISSION D5, D6).
const (
	SourceSCIM = "scim" // an IdP or HR system pushing over SCIM 2.0
	SourceLDAP = "ldap" // an LDAP directory Roster reads
)

// What a source's active=false (SCIM) or disabled account (LDAP) does to
// its user in the directory.
const (
	DeactivateAsDeactivate = "deactivate" // deprovisioned: the apps' deactivation settings apply
	DeactivateAsSuspend    = "suspend"    // suspended: kept, to come back later
)

// SourceSettings are the rules every kind of source shares.
type SourceSettings struct {
	// Adopt lets the source take over a user or group of the same name that
	// another source (or an admin) owns, instead of refusing it; each
	// takeover is in the system log.
	Adopt bool `json:"adopt"`
	// DeactivateAs is what deactivating a user does: deactivate (the
	// default) or suspend.
	DeactivateAs string `json:"deactivate_as,omitempty"`
}

// Validate fills in defaults and checks the values.
func (s *SourceSettings) Validate() error {
	switch s.DeactivateAs {
	case "":
		s.DeactivateAs = DeactivateAsDeactivate
	case DeactivateAsDeactivate, DeactivateAsSuspend:
	default:
		return fmt.Errorf("%w: deactivate_as %q is not one of deactivate, suspend", directory.ErrInvalid, s.DeactivateAs)
	}
	return nil
}

// Source is a directory source as stored. Its secret and its token's hash
// are never part of it.
type Source struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Config is the kind's own non-secret settings, as JSON.
	Config   json.RawMessage `json:"config"`
	Settings SourceSettings  `json:"settings"`
	// HasSecret says a sealed secret is stored (an LDAP bind password);
	// HasToken that a bearer token is (SCIM).
	HasSecret bool      `json:"has_secret"`
	HasToken  bool      `json:"has_token"`
	CreatedAt time.Time `json:"created_at"`
	// LastRequest is when the source last called Roster (SCIM), recorded
	// at most every few seconds; LastRun when Roster last read it (LDAP).
	LastRequest *time.Time `json:"last_request_at,omitempty"`
	LastRun     *time.Time `json:"last_run_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	Errors      int64      `json:"errors"`
	// Users and Groups count what the source owns.
	Users  int `json:"users"`
	Groups int `json:"groups"`
}

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// ValidSourceName checks a source's name: it is stored in every user and
// group the source owns, so it is short, lower case and never "api".
func ValidSourceName(name string) error {
	switch {
	case name == directory.SourceAPI:
		return fmt.Errorf("%w: source name %q is reserved for users and groups admins create", directory.ErrInvalid, name)
	case !sourceName.MatchString(name):
		return fmt.Errorf("%w: source name %q must start with a lower-case letter and hold only a-z, 0-9, - and _ (at most 63)", directory.ErrInvalid, name)
	}
	return nil
}

// Activity is what a source did, for the Sources page: a request or a
// run, and the error it ended with, if any.
type Activity struct {
	At  time.Time
	Run bool   // a run (LDAP) rather than a request (SCIM)
	Err string // "" when it succeeded; the error's message otherwise (no secrets)
}

// Sources is the part of the store that keeps directory sources, and the
// ownership changes (adoption, detachment) only sources make.
type Sources interface {
	// CreateSource stores a new source with its sealed secret and its
	// token's hash (either may be nil).
	CreateSource(ctx context.Context, by Actor, src *Source, sealedSecret, tokenHash []byte) error
	GetSource(ctx context.Context, name string) (Source, error)
	ListSources(ctx context.Context) ([]Source, error)
	// SourceByTokenHash finds the source a bearer token belongs to.
	SourceByTokenHash(ctx context.Context, hash []byte) (Source, error)
	// UpdateSource lets fn change the config and settings; the name, kind
	// and identity never change.
	UpdateSource(ctx context.Context, by Actor, name string, fn func(*Source) error) (Source, error)
	// SetSourceToken replaces the hash of the source's bearer token: the old
	// token stops working at once.
	SetSourceToken(ctx context.Context, by Actor, name string, tokenHash []byte) error
	// SetSourceSecret replaces the sealed secret (nil drops it).
	SetSourceSecret(ctx context.Context, by Actor, name string, sealed []byte) error
	// SourceSecret returns the sealed secret of a source, nil if none.
	SourceSecret(ctx context.Context, id int64) ([]byte, error)
	// RecordSourceActivity notes a request, a run or an error; requests are
	// recorded at most every few seconds, errors always. It is not logged.
	RecordSourceActivity(ctx context.Context, id int64, a Activity) error
	// DeleteSource removes a source; what it owned passes to api (the users
	// and groups stay). It returns how many users and groups it detached.
	DeleteSource(ctx context.Context, by Actor, name string) (users, groups int, err error)
	// SetUserSource hands a user from one source to another (adoption by a
	// source, or detachment to api), logged as action; the user must
	// belong to from.
	SetUserSource(ctx context.Context, by Actor, username, from, to, action string) (directory.User, error)
	// SetGroupSource is SetUserSource for a group.
	SetGroupSource(ctx context.Context, by Actor, name, from, to, action string) (directory.Group, error)
}

// NormalizeSourceName trims a source's name; names are lower case already.
func NormalizeSourceName(name string) string { return strings.TrimSpace(name) }

// GroupWrite is a source's whole change to one group, stored in one
// transaction: all of it or nothing. Users are named by their external keys
// (a SCIM member's value).
type GroupWrite struct {
	Source string
	Key    string  // the group's external key; "" creates a group named Name
	Name   *string // the new name
	// ExternalID is the source's own identifier of the group.
	ExternalID *string
	Members    *[]string // replace the members with these users
	Add        []string  // users to add
	Remove     []string  // users to remove
	// Adopt lets a create take over a group of the same name that another
	// source (or an admin) owns, logged as group.adopt.
	Adopt bool
}

// SourceGroup is a group with the source's own identifier of it.
type SourceGroup struct {
	directory.Group
	ExternalID string `json:"source_external_id,omitempty"`
}

// MemberRef is a group member as a source names it.
type MemberRef struct {
	Key      string // the user's external key
	Username string
}

// SourceDirectory is the part of the store a source writes the directory
// through. Every write is one transaction with its system-log entries and
// the app work it causes, and touches only what the source owns: another
// source's user or group is not found.
type SourceDirectory interface {
	// AdoptUser takes a user over from whoever owns it for source to, and
	// applies fn, logged as user.adopt.
	AdoptUser(ctx context.Context, by Actor, username, to string, fn func(*directory.User) error) (directory.User, error)
	// UpdateSourceUser applies fn to the user with this external key that
	// source owns, logged as action; with detach the user passes to api.
	UpdateSourceUser(ctx context.Context, by Actor, source, key, action string, fn func(*directory.User) error, detach bool) (directory.User, error)
	// UsersByAttribute finds the users source owns whose attribute key is value.
	UsersByAttribute(ctx context.Context, source, key, value string) ([]directory.User, error)
	WriteSourceGroup(ctx context.Context, by Actor, w GroupWrite) (SourceGroup, error)
	// DeleteSourceGroup deletes a group source owns (its users stay).
	DeleteSourceGroup(ctx context.Context, by Actor, source, key string) error
	GetSourceGroup(ctx context.Context, source, key string) (SourceGroup, error)
	// ListSourceGroups lists the groups source owns, in id order after after.
	ListSourceGroups(ctx context.Context, source string, after int64, limit int) ([]SourceGroup, error)
	// SourceGroupByName finds a group by name if source owns it.
	SourceGroupByName(ctx context.Context, source, name string) (SourceGroup, error)
	// GroupMemberRefs lists a group's members.
	GroupMemberRefs(ctx context.Context, groupID int64) ([]MemberRef, error)
}

// SourceMark is where a source's last applied read ended (LDAP).
type SourceMark struct {
	HighWater  string    // the greatest change mark seen; "" before the first read
	FullSyncAt time.Time // when a full read last applied; zero: never
}

// SourceMarks keeps the marks of sources Roster reads.
type SourceMarks interface {
	SourceMark(ctx context.Context, id int64) (SourceMark, error)
	// SetSourceMark records the mark; a zero FullSyncAt keeps the last one.
	SetSourceMark(ctx context.Context, id int64, m SourceMark) error
}
