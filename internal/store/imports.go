package store

import (
	"context"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// App user states of an import.
const (
	AppUserUnmatched = "unmatched"
	AppUserMatched   = "matched"
	AppUserConfirmed = "confirmed"
	AppUserIgnored   = "ignored"
	// AppUserReview is no state of its own: it lists the app users that
	// need an admin's review, those matched or unmatched.
	AppUserReview = "review"
)

// AppUser is a member an import found in the app, with its match.
type AppUser struct {
	ID         int64     `json:"id"`
	AppID      int64     `json:"app_id"`
	MemberID   string    `json:"member_id"`
	Email      string    `json:"email"`
	GivenName  string    `json:"given_name"`
	Surname    string    `json:"surname"`
	ExternalID string    `json:"external_id,omitempty"`
	Status     string    `json:"status"`
	Role       string    `json:"role"`
	State      string    `json:"state"`
	Match      string    `json:"match"`
	UserID     int64     `json:"user_id,omitempty"` // the matched or linked directory user
	Reason     string    `json:"reason,omitempty"`
	SeenAt     time.Time `json:"seen_at"`
}

// appUserBlock is the number of app users in each block of an AppUserList.
const appUserBlock = 1024

// AppUserList holds the app users of a large team compactly, in blocks of a
// fixed size, so that it grows without copying what it holds and needs no
// huge allocation. Status, role, state and match, which take few values,
// are kept once each. The zero value is an empty list.
type AppUserList struct {
	blocks [][]appUserRow
	n      int
	words  []string
	word   map[string]uint32
}

// appUserRow is an AppUser in an AppUserList, without its ID and SeenAt.
type appUserRow struct {
	memberID, email, givenName, surname, externalID, reason string
	appID, userID                                           int64
	status, role, state, match                              uint32
}

// AppUsersOf makes a list of a slice's app users.
func AppUsersOf(users []AppUser) *AppUserList {
	l := &AppUserList{}
	for _, au := range users {
		l.Append(au)
	}
	return l
}

func (l *AppUserList) code(w string) uint32 {
	c, ok := l.word[w]
	if !ok {
		if l.word == nil {
			l.word = map[string]uint32{}
		}
		c = uint32(len(l.words))
		l.words, l.word[w] = append(l.words, w), c
	}
	return c
}

// Append adds an app user at the end; its ID and SeenAt are not kept.
func (l *AppUserList) Append(au AppUser) {
	if l.n%appUserBlock == 0 {
		l.blocks = append(l.blocks, make([]appUserRow, 0, appUserBlock))
	}
	b := &l.blocks[len(l.blocks)-1]
	*b = append(*b, appUserRow{memberID: au.MemberID, email: au.Email, givenName: au.GivenName, surname: au.Surname,
		externalID: au.ExternalID, reason: au.Reason, appID: au.AppID, userID: au.UserID,
		status: l.code(au.Status), role: l.code(au.Role), state: l.code(au.State), match: l.code(au.Match)})
	l.n++
}

// Len is the number of app users.
func (l *AppUserList) Len() int { return l.n }

// At returns the i-th app user.
func (l *AppUserList) At(i int) AppUser {
	r := &l.blocks[i/appUserBlock][i%appUserBlock]
	return AppUser{AppID: r.appID, MemberID: r.memberID, Email: r.email, GivenName: r.givenName, Surname: r.surname,
		ExternalID: r.externalID, Status: l.words[r.status], Role: l.words[r.role], State: l.words[r.state],
		Match: l.words[r.match], UserID: r.userID, Reason: r.reason}
}

// SetUserID sets the directory user of the i-th app user.
func (l *AppUserList) SetUserID(i int, id int64) {
	l.blocks[i/appUserBlock][i%appUserBlock].userID = id
}

// Imports is the part of the store imports use.
type Imports interface {
	// SaveImport replaces the app's app users with those of this import, in
	// one transaction, keeping admins' ignore decisions.
	SaveImport(ctx context.Context, by Actor, appID int64, users []AppUser) error
	// SaveAndConfirmImport is SaveImport followed by ConfirmAppUsers of
	// users.At(i) for each i in confirm, in one transaction: the confirmed
	// members are written once, already confirmed. On any error, a conflict
	// included, nothing is written.
	SaveAndConfirmImport(ctx context.Context, by Actor, appID int64, users *AppUserList, confirm []int) error
	ListAppUsers(ctx context.Context, appID int64, state string, p Page) ([]AppUser, error)
	// ListUsersToMatch pages through the directory users by ID with only
	// what matching reads set: ID, username, email, names and status.
	ListUsersToMatch(ctx context.Context, p Page) ([]directory.User, error)
	// GetAppUser finds an app user by its ID, its member ID or its email.
	GetAppUser(ctx context.Context, appID int64, ref string) (AppUser, error)
	// ConfirmAppUsers links members of one app to directory users
	// (AppUser.UserID): the known account, a direct assignment with the
	// member's role unless one exists (queued for the engine), the confirmed
	// state and a log entry each, all or none in one transaction and without
	// any call to the app. A member linked to another user, or a user linked
	// to another member still in the app, is a conflict.
	ConfirmAppUsers(ctx context.Context, by Actor, links []AppUser) error
	// MarkVanished records that linked members are gone from the app and
	// queues their users, so the engine re-plans them.
	MarkVanished(ctx context.Context, by Actor, appID int64, userIDs []int64) error
	// IgnoreAppUser keeps an unconfirmed app user (by ID, member ID or
	// email) out of automatic confirmation on every later import.
	IgnoreAppUser(ctx context.Context, by Actor, appID int64, ref string) error
}
