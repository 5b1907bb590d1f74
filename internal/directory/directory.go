// Package directory holds Roster's source of truth: users, groups, and the
// assignments that say which app instances they belong in. It knows nothing of
// HTTP or SQL; it defines the rules a change must obey before it is stored.
package directory

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is the lifecycle state of a directory user.
type Status string

// The statuses of MISSION D1.
const (
	StatusStaged        Status = "staged"
	StatusActive        Status = "active"
	StatusSuspended     Status = "suspended"
	StatusDeprovisioned Status = "deprovisioned"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusStaged, StatusActive, StatusSuspended, StatusDeprovisioned:
		return true
	}
	return false
}

// Transition names a lifecycle action on a user.
type Transition string

// The lifecycle actions of MISSION D1.
const (
	Activate   Transition = "activate"
	Suspend    Transition = "suspend"
	Unsuspend  Transition = "unsuspend"
	Deactivate Transition = "deactivate"
	Reactivate Transition = "reactivate"
)

// transitions lists, per action, the statuses it may start from and where it ends.
// Anything not listed is illegal: an admin must never be surprised by, say, a
// suspended user silently becoming active through "activate".
var transitions = map[Transition]struct {
	from []Status
	to   Status
}{
	Activate:   {[]Status{StatusStaged}, StatusActive},
	Suspend:    {[]Status{StatusActive}, StatusSuspended},
	Unsuspend:  {[]Status{StatusSuspended}, StatusActive},
	Deactivate: {[]Status{StatusStaged, StatusActive, StatusSuspended}, StatusDeprovisioned},
	Reactivate: {[]Status{StatusDeprovisioned}, StatusActive},
}

// Transitions lists every lifecycle action.
func Transitions() []Transition {
	return []Transition{Activate, Suspend, Unsuspend, Deactivate, Reactivate}
}

// Apply returns the status that action t leads to from s, or an error wrapping
// ErrInvalidTransition when the move is not allowed.
func (t Transition) Apply(s Status) (Status, error) {
	rule, ok := transitions[t]
	if !ok {
		return s, fmt.Errorf("%w: unknown action %q", ErrInvalid, t)
	}
	for _, f := range rule.from {
		if f == s {
			return rule.to, nil
		}
	}
	return s, fmt.Errorf("%w: cannot %s a user who is %s", ErrInvalidTransition, t, s)
}

// Errors shared by every layer; the API maps them to HTTP codes, the CLI to exit codes.
var (
	ErrInvalid           = errors.New("invalid")
	ErrInvalidTransition = errors.New("invalid status transition")
	ErrNotFound          = errors.New("not found")
	ErrConflict          = errors.New("conflict")
)

// User is a person in the directory.
type User struct {
	ID int64 `json:"id"`
	// ExternalKey is the user's immutable identity for the world outside
	// Roster (a UUID given at creation, kept through renames); ID is the
	// database's row number.
	ExternalKey string `json:"external_key"`
	// Source owns the user: api, or the SCIM or LDAP source that created it.
	Source     string            `json:"source"`
	Username   string            `json:"username"`
	Email      string            `json:"email"`
	FirstName  string            `json:"first_name"`
	LastName   string            `json:"last_name"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Status     Status            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Key normalises a username, email or name for case-insensitive uniqueness.
func Key(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

const (
	maxNameLen  = 100
	maxEmailLen = 254
	maxAttrLen  = 1024
	maxAttrs    = 64
)

// Normalize trims surrounding space from the user's fields, so that " bob" and
// "bob" are never two different people.
func (u *User) Normalize() {
	u.Username = strings.TrimSpace(u.Username)
	u.Email = strings.TrimSpace(u.Email)
	u.FirstName = strings.TrimSpace(u.FirstName)
	u.LastName = strings.TrimSpace(u.LastName)
	if u.Status == "" {
		u.Status = StatusActive
	}
	if u.Source == "" {
		u.Source = SourceAPI
	}
}

// Validate checks every field and returns all problems at once, joined, so an
// admin fixing a CSV row sees everything wrong with it in one go.
func (u *User) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := checkText("username", u.Username, maxNameLen, true); err != nil {
		errs = append(errs, err)
	} else if strings.ContainsFunc(u.Username, unicode.IsSpace) {
		add("username must not contain spaces")
	}
	if err := ValidateEmail(u.Email); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct{ name, v string }{{"first_name", u.FirstName}, {"last_name", u.LastName}} {
		if err := checkText(f.name, f.v, maxNameLen, false); err != nil {
			errs = append(errs, err)
		}
	}
	if !u.Status.Valid() {
		add("status %q is not one of staged, active, suspended, deprovisioned", u.Status)
	}
	errs = append(errs, checkIdentity(u.Source, u.ExternalKey)...)
	if len(u.Attributes) > maxAttrs {
		add("at most %d attributes are allowed, got %d", maxAttrs, len(u.Attributes))
	}
	for k, v := range u.Attributes {
		if !ValidAttributeName(k) {
			add("attribute name %q must start with a letter and hold only letters, digits and _ (at most 64), or be a SCIM URN such as urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department (at most 255)", k)
		}
		if err := checkText("attribute "+k, v, maxAttrLen, false); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

// ValidateEmail accepts a bare address (no display name) of sensible length.
func ValidateEmail(email string) error {
	if email == "" {
		return errors.New("email is required")
	}
	if len(email) > maxEmailLen {
		return fmt.Errorf("email is longer than %d characters", maxEmailLen)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return fmt.Errorf("email %q is not a valid address", email)
	}
	if at := strings.LastIndexByte(email, '@'); !strings.Contains(email[at:], ".") {
		return fmt.Errorf("email %q has no domain", email)
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%s is required", field)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s is not valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		return fmt.Errorf("%s is longer than %d characters", field, max)
	case strings.ContainsFunc(v, unicode.IsControl):
		return fmt.Errorf("%s contains control characters", field)
	}
	return nil
}

// Changes lists the fields that differ between two versions of a user, as
// field -> [old, new], for the system log.
func Changes(old, cur User) map[string]any {
	out := map[string]any{}
	put := func(field, a, b string) {
		if a != b {
			out[field] = []string{a, b}
		}
	}
	put("username", old.Username, cur.Username)
	put("email", old.Email, cur.Email)
	put("first_name", old.FirstName, cur.FirstName)
	put("last_name", old.LastName, cur.LastName)
	put("status", string(old.Status), string(cur.Status))
	for k, v := range cur.Attributes {
		put("attributes."+k, old.Attributes[k], v)
	}
	for k, v := range old.Attributes {
		if _, ok := cur.Attributes[k]; !ok {
			put("attributes."+k, v, "")
		}
	}
	return out
}

// CheckDelete allows deleting only a deprovisioned user, so that an account in an
// app is always deactivated first and no one is deleted by a slip.
func (u User) CheckDelete() error {
	if u.Status != StatusDeprovisioned {
		return fmt.Errorf("%w: deactivate %s before deleting (status is %s)", ErrInvalidTransition, u.Username, u.Status)
	}
	return nil
}
