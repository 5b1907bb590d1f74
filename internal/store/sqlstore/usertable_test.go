package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// The users table sorts, filters, pages and counts in the database: each
// query is checked against the same answer worked out here from the seed.
func TestQueryUsers(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
			must(t, s.CreateApp(ctx, "test", &a))
			// 30 users: u00..u29; last names run backwards so that name order differs from username order.
			var users []directory.User
			for i := range 30 {
				u := directory.User{Username: fmt.Sprintf("u%02d", i), Email: fmt.Sprintf("u%02d@example.com", i),
					FirstName: "F", LastName: fmt.Sprintf("L%02d", 29-i)}
				if i%5 == 0 {
					u.Status = directory.StatusStaged
				}
				must(t, s.CreateUser(ctx, "test", &u))
				users = append(users, u)
			}
			must(t, s.CreateGroup(ctx, "test", &directory.Group{Name: "Admins"}))
			must(t, s.CreateGroup(ctx, "test", &directory.Group{Name: "Sales"}))
			must(t, s.AddGroupMembers(ctx, "test", "Sales", []string{"u01", "u02", "u03", "u04"}))
			must(t, s.AddGroupMembers(ctx, "test", "Admins", []string{"u03", "u04"}))
			must(t, s.Assign(ctx, "test", &directory.Assignment{AppName: "dbx", GroupName: "Sales", Role: "member"}))
			must(t, s.Assign(ctx, "test", &directory.Assignment{AppName: "dbx", GroupName: "Admins", Role: "team_admin"}))
			// u04 is assigned directly as member: the direct role wins over its groups'.
			must(t, s.Assign(ctx, "test", &directory.Assignment{AppName: "dbx", Username: "u04", Role: "member"}))
			states := map[int]string{1: "active", 2: "invited", 3: "suspended", 4: "removed", 6: "active", 7: "invited"}
			var put []store.Account
			for i, st := range states {
				put = append(put, store.Account{AppID: a.ID, UserID: users[i].ID, MemberID: fmt.Sprintf("m%d", i), Email: users[i].Email,
					Status: st, Silent: i == 7, UpdatedAt: time.Now()})
			}
			must(t, s.CorrectAccounts(ctx, a.ID, put, nil, nil))

			names := func(rows []store.UserRow) []string {
				var out []string
				for _, r := range rows {
					out = append(out, r.Username)
				}
				return out
			}
			all := func() []string {
				var out []string
				for _, u := range users {
					out = append(out, u.Username)
				}
				return out
			}()
			rev := slices.Clone(all)
			slices.Reverse(rev)
			for _, tc := range []struct {
				name  string
				q     store.UserQuery
				want  []string
				total int
			}{
				{"first page by username", store.UserQuery{Limit: 5}, all[:5], 30},
				{"third page by username", store.UserQuery{Limit: 5, Offset: 10}, all[10:15], 30},
				{"by name: last names run backwards", store.UserQuery{Sort: store.SortName, Limit: 3}, rev[:3], 30},
				{"by username descending", store.UserQuery{Desc: true, Limit: 2}, rev[:2], 30},
				{"staged", store.UserQuery{Status: directory.StatusStaged, Limit: 50}, []string{"u00", "u05", "u10", "u15", "u20", "u25"}, 6},
				{"group Sales", store.UserQuery{Group: "sales", Limit: 50}, []string{"u01", "u02", "u03", "u04"}, 4},
				{"active in the app", store.UserQuery{AppID: a.ID, AppState: "active"}, []string{"u01", "u06"}, 2},
				{"pending SSO", store.UserQuery{AppID: a.ID, AppState: store.AppStatePendingSSO}, []string{"u07"}, 1},
				{"no account, first 3", store.UserQuery{AppID: a.ID, AppState: store.AppStateNone, Limit: 3}, []string{"u00", "u05", "u08"}, 24},
				{"team admins: by group, not overridden directly", store.UserQuery{AppID: a.ID, Role: "team_admin"}, []string{"u03"}, 1},
				{"members: direct, or only a member group", store.UserQuery{AppID: a.ID, Role: "member"}, []string{"u01", "u02", "u04"}, 3},
				{"by app state", store.UserQuery{AppID: a.ID, Sort: store.SortAppState, Desc: true, Limit: 3}, []string{"u03", "u04", "u07"}, 30},
				{"search", store.UserQuery{Search: "U2", Limit: 50}, all[20:30], 10},
			} {
				rows, total, err := s.QueryUsers(ctx, tc.q)
				if err != nil {
					t.Errorf("%s: %v", tc.name, err)
					continue
				}
				if got := names(rows); !slices.Equal(got, tc.want) || total != tc.total {
					t.Errorf("%s: got %v of %d, want %v of %d", tc.name, got, total, tc.want, tc.total)
				}
			}
			rows, _, err := s.QueryUsers(ctx, store.UserQuery{AppID: a.ID, AppState: store.AppStatePendingSSO})
			must(t, err)
			if rows[0].AppState != "invited" || !rows[0].Silent {
				t.Errorf("pending SSO row = %+v", rows[0])
			}
			for _, bad := range []store.UserQuery{{Sort: "shoe size"}, {AppState: "active"}, {AppID: a.ID, AppState: "asleep"}, {AppID: a.ID, Role: "king"}, {Status: "x"}} {
				if _, _, err := s.QueryUsers(ctx, bad); !errors.Is(err, directory.ErrInvalid) {
					t.Errorf("%+v: err = %v, want invalid", bad, err)
				}
			}

			st, err := s.AccountStates(ctx, a.ID)
			must(t, err)
			if want := (store.AccountStates{Active: 2, Invited: 2, Suspended: 1, Removed: 1, PendingSSO: 1}); st != want {
				t.Errorf("AccountStates = %+v, want %+v", st, want)
			}
			groups, err := s.UserGroups(ctx, []int64{users[3].ID, users[1].ID, users[0].ID})
			must(t, err)
			if !slices.Equal(groups[users[3].ID], []string{"Admins", "Sales"}) || !slices.Equal(groups[users[1].ID], []string{"Sales"}) || len(groups[users[0].ID]) != 0 {
				t.Errorf("UserGroups = %v", groups)
			}
			must(t, s.AppendLog(ctx, audit.Entry{Actor: "engine", Action: "account.create", App: "dbx", Outcome: audit.Failure, TargetKind: "user", Target: "u01"}))
			must(t, s.AppendLog(ctx, audit.Entry{Actor: "engine", Action: "account.create", App: "dbx", Outcome: audit.Failure, TargetKind: "user", Target: "u02"}))
			n, err := s.CountLog(ctx, audit.Filter{App: "dbx", Outcome: audit.Failure, Since: time.Now().Add(-time.Hour)})
			must(t, err)
			if n != 2 {
				t.Errorf("CountLog = %d, want 2", n)
			}
			counts, err := s.CountAppUsers(ctx, a.ID)
			must(t, err)
			if len(counts) != 0 {
				t.Errorf("CountAppUsers before any import = %v", counts)
			}
		})
	}
}
