package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// seedMany adds n users, user0000…, with last names running backwards, the
// first ten in group Ten, every third with an active account in dropbox.
func seedMany(t testing.TB, e *env, n int) {
	t.Helper()
	a := e.addApp(t, "dropbox", false)
	us := make([]directory.User, n)
	for i := range us {
		us[i] = directory.User{Username: fmt.Sprintf("user%04d", i), Email: fmt.Sprintf("user%04d@acme.example", i),
			FirstName: "Pat", LastName: fmt.Sprintf("Z%04d", n-i), Status: directory.StatusActive}
	}
	us[3].FirstName, us[3].LastName = "=cmd|' /C calc'!A0", "Zzz"
	if err := e.st.CreateUsers(bg, actor, us); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CreateGroup(bg, actor, &directory.Group{Name: "Ten"}); err != nil {
		t.Fatal(err)
	}
	var ten []string
	for i := range 10 {
		ten = append(ten, fmt.Sprintf("user%04d", i))
	}
	if err := e.st.AddGroupMembers(bg, actor, "Ten", ten); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", GroupName: "Ten", Role: "support_admin"}); err != nil {
		t.Fatal(err)
	}
	var put []store.Account
	rows, _, err := e.st.QueryUsers(bg, store.UserQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range rows {
		if i%3 == 0 {
			put = append(put, store.Account{AppID: a.ID, UserID: u.ID, MemberID: "m" + u.Username, Email: u.Email, Status: "active", UpdatedAt: time.Now()})
		}
	}
	if err := e.st.CorrectAccounts(bg, a.ID, put, nil, nil); err != nil {
		t.Fatal(err)
	}
}

var userLinkRE = regexp.MustCompile(`<td data-label="Username"><a href="/users/(user\d{4})">`)

func shownUsers(body string) []string {
	var out []string
	for _, m := range userLinkRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// The users list pages, sorts and filters 2,000 users in the database,
// with a total and page numbers, and exports them all as CSV.
func TestUsersListForThousands(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		seedMany(t, e, 2000)
		c := e.client(t).signin()
		for _, tc := range []struct {
			name, path  string
			first, last string
			rows        int
			wants       []string
		}{
			{"first page", "/users", "user0000", "user0049", 50, []string{"2000 user(s), showing 1–50", `aria-current="page">1<`, ">40</a>", "page 1 of 40"}},
			{"page 7", "/users?page=7", "user0300", "user0349", 50, []string{"showing 301–350", `aria-current="page">7<`, ">5</a>", ">9</a>", ">40</a>", "…"}},
			{"by name: backwards", "/users?sort=name", "user1999", "user1950", 50, []string{`aria-sort="ascending" data-sort="name"`}},
			{"by username descending, 200 a page", "/users?sort=username&dir=desc&per=200", "user1999", "user1800", 200, []string{`aria-sort="descending"`, "page 1 of 10"}},
			{"group", "/users?group=Ten", "user0000", "user0009", 10, []string{"10 user(s)", "support_admin"}},
			{"role", "/users?app=dropbox&role=support_admin", "user0000", "user0009", 10, []string{"10 user(s)"}},
			{"active in dropbox", "/users?app=dropbox&app_state=active&per=25", "user0000", "user0072", 25, []string{"334 user(s)", "page 1 of 14"}},
			{"no account, last page", "/users?app=dropbox&app_state=none&page=34", "user1984", "user1999", 16, []string{"1666 user(s), showing 1651–1666", `aria-current="page">34<`}},
		} {
			r := c.get(tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d\n%s", tc.name, r.status, r.body)
			}
			got := shownUsers(r.body)
			if len(got) != tc.rows || got[0] != tc.first || got[len(got)-1] != tc.last {
				t.Errorf("%s: %d rows %v … %v, want %d from %s to %s", tc.name, len(got), got[:min(1, len(got))], got[max(0, len(got)-1):], tc.rows, tc.first, tc.last)
			}
			for _, w := range tc.wants {
				if !strings.Contains(r.body, w) {
					t.Errorf("%s: page lacks %q", tc.name, w)
				}
			}
		}
		for _, bad := range []string{"/users?sort=shoe", "/users?page=0", "/users?per=7", "/users?app=dropbox&app_state=asleep", "/users?app=nope"} {
			if r := c.get(bad); r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
				t.Errorf("%s: %d, want a refusal", bad, r.status)
			}
		}

		r := c.get("/users.csv?app=dropbox")
		if r.status != http.StatusOK || !strings.Contains(c.hcHeader("/users.csv?app=dropbox", "Content-Disposition"), "roster-users.csv") {
			t.Fatalf("CSV: %d", r.status)
		}
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2001 || strings.Join(recs[0], ",") != "username,email,first_name,last_name,status,created_at,groups,dropbox state,dropbox role" {
			t.Fatalf("CSV: %d records, header %v", len(recs), recs[0])
		}
		if recs[1][0] != "user0000" || recs[1][6] != "Ten" || recs[1][7] != "active" || recs[1][8] != "support_admin" || recs[2000][0] != "user1999" {
			t.Fatalf("CSV rows: %v … %v", recs[1], recs[2000])
		}
		if recs[4][2] != "'=cmd|' /C calc'!A0" {
			t.Fatalf("a formula reached the CSV as a formula: %q", recs[4][2])
		}
		if r := c.get("/users.csv?app=dropbox&app_state=pending_sso"); strings.Count(r.body, "\n") != 1 {
			t.Fatalf("filtered CSV: %q", r.body)
		}
	})
}
