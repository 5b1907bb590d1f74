// Package importer brings what already lives in an app into Roster (MISSION
// F5, F6, F11): it downloads every member, matches each to a directory user by
// the app's rules, confirms matches (by rule or by an admin), creates directory
// users for confirmed new ones, and imports profile changes for attributes
// whose source is the app.
package importer

import (
	"strings"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

// Match kinds.
const (
	MatchExact     = "exact"     // username or email equal
	MatchPartial   = "partial"   // first and last name equal
	MatchNone      = "none"      // no directory user fits
	MatchAmbiguous = "ambiguous" // several directory users fit equally
)

// Index finds directory users by the keys the matching rules use. It holds
// only the keys and IDs, not the users.
type Index struct {
	byUsername map[string]int64
	byEmail    map[string]int64
	byName     map[string]int64   // the one user of a name, or sharedName
	shared     map[string][]int64 // every user of a name several users share
}

// sharedName in byName sends the lookup to shared.
const sharedName = -1

// NewIndex indexes users; keys are case-insensitive.
func NewIndex(users []directory.User) *Index {
	ix := &Index{byUsername: make(map[string]int64, len(users)), byEmail: make(map[string]int64, len(users)),
		byName: make(map[string]int64, len(users)), shared: map[string][]int64{}}
	for _, u := range users {
		ix.Add(u)
	}
	return ix
}

// Add indexes one more user, for example one an import just created.
func (ix *Index) Add(u directory.User) {
	ix.byUsername[directory.Key(u.Username)] = u.ID
	ix.byEmail[directory.Key(u.Email)] = u.ID
	k := nameKey(u.FirstName, u.LastName)
	if k == "" {
		return
	}
	switch id, ok := ix.byName[k]; {
	case !ok:
		ix.byName[k] = u.ID
	case id == sharedName:
		ix.shared[k] = append(ix.shared[k], u.ID)
	default:
		ix.byName[k], ix.shared[k] = sharedName, []int64{id, u.ID}
	}
}

// username returns the user's username, sharing the memory of its key when
// they are equal (usernames are stored lowercase).
func (ix *Index) username(name string) string {
	if k := directory.Key(name); k == name {
		return k
	}
	return name
}

// named returns the users of a first and last name.
func (ix *Index) named(first, last string) []int64 {
	k := nameKey(first, last)
	switch id, ok := ix.byName[k]; {
	case !ok:
		return nil
	case id == sharedName:
		return ix.shared[k]
	default:
		return []int64{id}
	}
}

// Taken reports whether a username or email is already a directory user's
// username or email, so a new user made from it would be refused.
func (ix *Index) Taken(key string) bool {
	k := directory.Key(key)
	_, u := ix.byUsername[k]
	_, e := ix.byEmail[k]
	return u || e
}

func nameKey(first, last string) string {
	first, last = directory.Key(first), directory.Key(last)
	if first == "" || last == "" {
		return ""
	}
	return first + "\x00" + last
}

// Rules are an app's matching rules (MISSION S5).
type Rules struct {
	// ExactOn is "username", "email" or "username_or_email" (the default).
	ExactOn string
	// Partial allows a match on first and last name when no exact one exists.
	Partial bool
}

// Match finds the directory user for an app member. Dropbox has no username
// of its own, so the member's email is compared with the directory username
// and/or email, as the rule says.
func (ix *Index) Match(m connector.Member, r Rules) (kind string, userIDs []int64) {
	key := directory.Key(m.Email)
	var exact []int64
	add := func(id int64, ok bool) {
		if ok && (len(exact) == 0 || exact[0] != id) {
			exact = append(exact, id)
		}
	}
	if r.ExactOn != "email" {
		id, ok := ix.byUsername[key]
		add(id, ok)
	}
	if r.ExactOn != "username" {
		id, ok := ix.byEmail[key]
		add(id, ok)
	}
	switch {
	case len(exact) == 1:
		return MatchExact, exact
	case len(exact) > 1: // the username of one user is the email of another
		return MatchAmbiguous, exact
	}
	if r.Partial {
		if ids := ix.named(m.GivenName, m.Surname); len(ids) == 1 {
			return MatchPartial, ids
		} else if len(ids) > 1 {
			return MatchAmbiguous, ids
		}
	}
	return MatchNone, nil
}

// NewUserFrom turns an unmatched member into a directory user, or says why it
// cannot become one: the seed's rule is that first and last name are required.
func NewUserFrom(m connector.Member) (directory.User, string) {
	var missing []string
	if strings.TrimSpace(m.GivenName) == "" {
		missing = append(missing, "first name")
	}
	if strings.TrimSpace(m.Surname) == "" {
		missing = append(missing, "last name")
	}
	if len(missing) > 0 {
		return directory.User{}, "cannot become a new directory user: the Dropbox profile has no " + strings.Join(missing, " and no ")
	}
	u := directory.User{Username: m.Email, Email: m.Email, FirstName: m.GivenName, LastName: m.Surname, Status: directory.StatusStaged}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return directory.User{}, "cannot become a new directory user: " + err.Error()
	}
	return u, ""
}
