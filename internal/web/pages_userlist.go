package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// The users list serves thousands of users: the database sorts, filters,
// pages and counts (store.QueryUsers); the page shows one page of them with
// page numbers, and the CSV export streams every match a page at a time.

const (
	pageSize    = 50
	csvPageSize = 1000
)

var pageSizes = []int{25, 50, 100, 200}

var allStatuses = []directory.Status{directory.StatusStaged, directory.StatusActive, directory.StatusSuspended, directory.StatusDeprovisioned}

var appStates = []string{"active", "invited", store.AppStatePendingSSO, "suspended", "removed", store.AppStateNone}

// userListQuery is the users list's query as the address carries it.
type userListQuery struct {
	Search, Status, Group, App, AppState, Role, Sort string
	Desc                                             bool
	Page, Per                                        int
}

func (q userListQuery) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Search)
	set("status", q.Status)
	set("group", q.Group)
	v.Set("app", q.App) // kept even when empty: "no app" differs from "the default app"
	set("app_state", q.AppState)
	set("role", q.Role)
	set("sort", q.Sort)
	if q.Desc {
		v.Set("dir", "desc")
	}
	if q.Per != pageSize {
		v.Set("per", strconv.Itoa(q.Per))
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// with is the address of the list with one change.
func (q userListQuery) with(fn func(*userListQuery)) string {
	fn(&q)
	return "/users?" + q.values().Encode()
}

type userRowView struct {
	store.UserRow
	Role   string
	Groups []string
}

type sortLink struct {
	Key, Label, URL string
	Current         string // "ascending", "descending" or "" (aria-sort)
	Needs           bool   // needs an app chosen
}

type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool // an ellipsis between page numbers
}

type usersView struct {
	Q         userListQuery
	Rows      []userRowView
	Total     int
	From, To  int
	Pages     int
	Links     []pageLink
	Prev      string
	Next      string
	Sorts     []sortLink
	Statuses  []directory.Status
	Apps      []app.Instance
	AppStates []string
	Roles     []string
	Groups    []directory.Group
	PageSizes []int
	CSV       string
	HasApp    bool
}

// readUserQuery reads the list's query and resolves it for the store. An
// absent app means the first app, so a one-team Roster shows its columns.
func (s *Server) readUserQuery(r *http.Request, apps []app.Instance) (userListQuery, store.UserQuery, app.Instance, error) {
	v := r.URL.Query()
	q := userListQuery{Search: strings.TrimSpace(v.Get("q")), Status: v.Get("status"), Group: strings.TrimSpace(v.Get("group")),
		App: v.Get("app"), AppState: v.Get("app_state"), Role: v.Get("role"), Sort: v.Get("sort"), Desc: v.Get("dir") == "desc", Page: 1, Per: pageSize}
	if !v.Has("app") && len(apps) > 0 {
		q.App = apps[0].Name
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return q, store.UserQuery{}, app.Instance{}, fmt.Errorf("%w: page %q is not a page number (1 or more)", directory.ErrInvalid, p)
		}
		q.Page = n
	}
	if p := v.Get("per"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || !slices.Contains(pageSizes, n) {
			return q, store.UserQuery{}, app.Instance{}, fmt.Errorf("%w: per %q is not one of 25, 50, 100, 200", directory.ErrInvalid, p)
		}
		q.Per = n
	}
	sq := store.UserQuery{Search: q.Search, Status: directory.Status(q.Status), Group: q.Group, AppState: q.AppState, Role: q.Role,
		Sort: q.Sort, Desc: q.Desc, Limit: q.Per, Offset: (q.Page - 1) * q.Per}
	var a app.Instance
	if q.App != "" {
		found := false
		for _, x := range apps {
			if directory.Key(x.Name) == directory.Key(q.App) {
				a, found = x, true
			}
		}
		if !found {
			return q, sq, a, fmt.Errorf("%w: app %q", directory.ErrNotFound, q.App)
		}
		sq.AppID = a.ID
	}
	return q, sq, a, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	q, sq, a, err := s.readUserQuery(r, apps)
	if err != nil {
		return err
	}
	rows, total, err := s.st.QueryUsers(r.Context(), sq)
	if err != nil {
		return err
	}
	v := usersView{Q: q, Total: total, Statuses: allStatuses, Apps: apps, AppStates: appStates, PageSizes: pageSizes, HasApp: sq.AppID != 0}
	if v.Rows, err = s.userRows(r.Context(), a, rows); err != nil {
		return err
	}
	if v.HasApp {
		v.Roles = kindRoles(s.opt.Kinds, a.Kind)
	}
	if v.Groups, err = s.st.ListGroups(r.Context(), store.Page{Limit: 1000}); err != nil {
		return err
	}
	v.paging(q)
	v.sorting(q)
	csvQ := q.values()
	csvQ.Del("page")
	csvQ.Del("per")
	v.CSV = "/users.csv?" + csvQ.Encode()
	s.render(w, r, http.StatusOK, "users", page{Title: "Users", Nav: "users", Data: v})
	return nil
}

// userRows adds each user's role in the app and groups.
func (s *Server) userRows(ctx context.Context, a app.Instance, rows []store.UserRow) ([]userRowView, error) {
	ids := make([]int64, len(rows))
	for i, u := range rows {
		ids[i] = u.ID
	}
	roles := map[int64]directory.Role{}
	if a.ID != 0 && len(ids) > 0 {
		var err error
		if roles, err = s.st.EffectiveRoles(ctx, a.ID, ids); err != nil {
			return nil, err
		}
	}
	groups, err := s.st.UserGroups(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]userRowView, len(rows))
	for i, u := range rows {
		out[i] = userRowView{UserRow: u, Role: string(roles[u.ID]), Groups: groups[u.ID]}
	}
	return out, nil
}

// paging works out the range shown and the page numbers: the first, the
// last, and two either side of the current one.
func (v *usersView) paging(q userListQuery) {
	v.Pages = max(1, (v.Total+q.Per-1)/q.Per)
	if len(v.Rows) > 0 {
		v.From = (q.Page-1)*q.Per + 1
		v.To = v.From + len(v.Rows) - 1
	}
	at := func(n int) string { return q.with(func(x *userListQuery) { x.Page = n }) }
	if q.Page > 1 {
		v.Prev = at(min(q.Page-1, v.Pages))
	}
	if q.Page < v.Pages {
		v.Next = at(q.Page + 1)
	}
	last := 0
	for n := 1; n <= v.Pages; n++ {
		if n != 1 && n != v.Pages && (n < q.Page-2 || n > q.Page+2) {
			continue
		}
		if last != 0 && n > last+1 {
			v.Links = append(v.Links, pageLink{Gap: true})
		}
		v.Links = append(v.Links, pageLink{N: n, URL: at(n), Current: n == q.Page})
		last = n
	}
}

// sorting makes the column headers' links: a click sorts by the column,
// a second click reverses it; the page goes back to the first.
func (v *usersView) sorting(q userListQuery) {
	cur := q.Sort
	if cur == "" {
		cur = store.SortUsername
	}
	for _, c := range []struct {
		key, label string
		needs      bool
	}{{store.SortUsername, "Username", false}, {store.SortName, "Name", false}, {store.SortEmail, "Email", false},
		{store.SortStatus, "Status", false}, {store.SortAppState, "In the app", true}, {store.SortCreated, "Created", false}} {
		l := sortLink{Key: c.key, Label: c.label, Needs: c.needs}
		desc := false
		if c.key == cur {
			l.Current = "ascending"
			if q.Desc {
				l.Current = "descending"
			}
			desc = !q.Desc
		}
		l.URL = q.with(func(x *userListQuery) { x.Sort, x.Desc, x.Page = c.key, desc, 1 })
		v.Sorts = append(v.Sorts, l)
	}
}

// usersCSV streams every user the list's filters match, in its order, a
// page at a time from the database, so thousands of users need no more
// memory than one page.
func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.st.ListApps(r.Context())
	if err != nil {
		return err
	}
	_, sq, a, err := s.readUserQuery(r, apps)
	if err != nil {
		return err
	}
	sq.Limit, sq.Offset = csvPageSize, 0
	rows, _, err := s.st.QueryUsers(r.Context(), sq) // the first page, before any byte is sent: errors still get a page
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="roster-users.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	head := []string{"username", "email", "first_name", "last_name", "status", "created_at", "groups"}
	if a.ID != 0 {
		head = append(head, a.Name+" state", a.Name+" role")
	}
	if err := cw.Write(head); err != nil {
		return nil // the client went away
	}
	for len(rows) > 0 {
		views, err := s.userRows(r.Context(), a, rows)
		if err != nil {
			s.log.Error("users csv", "err", err)
			return nil // headers are sent: the file ends short
		}
		for _, u := range views {
			rec := []string{u.Username, u.Email, u.FirstName, u.LastName, string(u.Status), u.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), strings.Join(u.Groups, "; ")}
			if a.ID != 0 {
				state := u.AppState
				if state == "invited" && u.Silent {
					state = store.AppStatePendingSSO
				}
				rec = append(rec, state, u.Role)
			}
			if err := cw.Write(safeCSV(rec)); err != nil {
				return nil
			}
		}
		cw.Flush()
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if len(rows) < csvPageSize {
			break
		}
		sq.Offset += csvPageSize
		if rows, _, err = s.st.QueryUsers(r.Context(), sq); err != nil {
			s.log.Error("users csv", "err", err)
			return nil
		}
	}
	cw.Flush()
	return nil
}

// safeCSV keeps a spreadsheet from running a cell as a formula.
func safeCSV(rec []string) []string {
	for i, f := range rec {
		if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
			rec[i] = "'" + f
		}
	}
	return rec
}
