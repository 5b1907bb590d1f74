package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// newImportEnv is an API whose connector reaches an emulated team, with an
// app "dbx" on it that has a token.
func newImportEnv(t *testing.T, open func(testing.TB) *sqlstore.DB) (*env, *emu.Server) {
	srvEmu, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
	st := open(t)
	box, err := secret.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	logs := &bytes.Buffer{}
	srv := httptest.NewServer(api.New(st, box, slog.New(slog.NewJSONHandler(io.Discard, nil)), api.Options{Connect: connect}).Handler())
	t.Cleanup(srv.Close)
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
		t.Fatal(err)
	}
	e := &env{t, srv, st, box, tok, logs}
	e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx", "base_url": base, "token": "tok",
		"settings": map[string]any{"import": map[string]any{"auto_confirm_exact": true}}}, http.StatusCreated, nil)
	return e, srvEmu
}

type appUserList struct {
	Items []struct {
		store.AppUser
		User string `json:"user"`
	} `json:"items"`
	Next *int `json:"next"`
}

func TestImportRoutes(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e, srvEmu := newImportEnv(t, b.Open)
			for _, u := range []map[string]any{
				{"username": "ann", "email": "ann@corp.example", "first_name": "Ann", "last_name": "Lee"},
				{"username": "bob", "email": "bob@corp.example", "first_name": "Bob", "last_name": "Stone"},
			} {
				e.call("POST", "/api/v1/users", u, http.StatusCreated, nil)
			}
			if _, err := srvEmu.Team("acme").Seed([]emu.SeedMember{
				{Email: "ann@corp.example", GivenName: "Ann", Surname: "Lee", Status: "active"},
				{Email: "robert@home.example", GivenName: "Bob", Surname: "Stone"},
				{Email: "nia@corp.example", GivenName: "Nia", Surname: "New"},
				{Email: "mono@corp.example", GivenName: "Mono"},
			}); err != nil {
				t.Fatal(err)
			}
			var plan importer.Result
			e.call("POST", "/api/v1/apps/dbx/import?plan=true", nil, http.StatusOK, &plan)
			if !plan.Plan || plan.Confirmed != 1 || plan.Members != 5 {
				t.Fatalf("plan: %+v", plan)
			}
			var l appUserList
			e.call("GET", "/api/v1/apps/dbx/import/users", nil, http.StatusOK, &l)
			if len(l.Items) != 0 {
				t.Fatalf("a plan stored app users: %+v", l.Items)
			}
			var res importer.Result
			e.call("POST", "/api/v1/apps/dbx/import", nil, http.StatusOK, &res)
			if res.Confirmed != 1 || res.Partial != 1 || res.Unmatched != 3 {
				t.Fatalf("import: %+v", res)
			}
			states := []struct {
				state string
				want  []string
			}{
				{"confirmed", []string{"ann@corp.example"}},
				{"matched", []string{"robert@home.example"}},
				{"unmatched", []string{"it@corp.example", "nia@corp.example", "mono@corp.example"}},
				{"ignored", nil},
			}
			for _, c := range states {
				e.call("GET", "/api/v1/apps/dbx/import/users?state="+c.state, nil, http.StatusOK, &l)
				if got := emails(l); strings.Join(got, ",") != strings.Join(c.want, ",") {
					t.Errorf("state %s: %v, want %v", c.state, got, c.want)
				}
			}
			e.call("GET", "/api/v1/apps/dbx/import/users?state=matched", nil, http.StatusOK, &l)
			if l.Items[0].User != "bob" || l.Items[0].Match != "partial" {
				t.Fatalf("matched view: %+v", l.Items[0])
			}
			e.call("GET", "/api/v1/apps/dbx/import/users?limit=2", nil, http.StatusOK, &l)
			if len(l.Items) != 2 || l.Next == nil {
				t.Fatalf("paging: %+v", l)
			}

			var one struct {
				store.AppUser
				User string `json:"user"`
			}
			e.call("GET", "/api/v1/apps/dbx/import/users/"+url.PathEscape("mono@corp.example"), nil, http.StatusOK, &one)
			if !strings.Contains(one.Reason, "no last name") {
				t.Fatalf("mono: %+v", one)
			}
			var rv importer.Reviewed
			e.call("POST", "/api/v1/apps/dbx/import/confirm", map[string]any{"app_users": []string{"robert@home.example", "nia@corp.example"}}, http.StatusOK, &rv)
			if rv.Linked != 1 || rv.Created != 1 {
				t.Fatalf("confirm: %+v", rv)
			}
			e.call("POST", "/api/v1/apps/dbx/import/ignore", map[string]any{"app_users": []string{"mono@corp.example"}}, http.StatusOK, nil)
			e.call("POST", "/api/v1/users", map[string]any{"username": "itadmin", "email": "itadmin@corp.example"}, http.StatusCreated, nil)
			e.call("POST", "/api/v1/apps/dbx/import/link", map[string]any{"app_user": "it@corp.example", "user": "itadmin"}, http.StatusOK, &one)
			if one.State != "confirmed" || one.User != "itadmin" || one.Match != "manual" {
				t.Fatalf("link: %+v", one)
			}
			if w := len(srvEmu.Team("acme").Snapshot().Welcome); w != 0 || srvEmu.Calls()["team/members/add_v2"] != 0 {
				t.Fatalf("review reached Dropbox: %d welcome emails, %v", w, srvEmu.Calls())
			}
			as, _ := e.st.ListAssignments(context.Background(), store.AssignmentFilter{App: "dbx", User: "nia@corp.example"})
			if len(as) != 1 || as[0].Role != "member" {
				t.Fatalf("new user not assigned: %+v", as)
			}
		})
	}
}

func emails(l appUserList) []string {
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Email)
	}
	return out
}

// TestImportRouteErrors: bad input is refused with a clear error in the
// envelope and changes nothing.
func TestImportRouteErrors(t *testing.T) {
	e, srvEmu := newImportEnv(t, storetest.OpenSQLite)
	if _, err := srvEmu.Team("acme").Seed([]emu.SeedMember{{Email: "mono@corp.example", GivenName: "Mono"}}); err != nil {
		t.Fatal(err)
	}
	e.call("POST", "/api/v1/apps/dbx/import", nil, http.StatusOK, nil)
	cases := []struct {
		method, path string
		body         any
		status       int
		code, msg    string
	}{
		{"GET", "/api/v1/apps/dbx/import/users?state=lost", nil, 400, "invalid", "not one of unmatched"},
		{"GET", "/api/v1/apps/dbx/import/users?limit=0", nil, 400, "bad_request", "limit"},
		{"GET", "/api/v1/apps/nope/import/users", nil, 404, "not_found", "nope"},
		{"GET", "/api/v1/apps/dbx/import/users/ghost@corp.example", nil, 404, "not_found", "ghost"},
		{"POST", "/api/v1/apps/dbx/import/confirm", map[string]any{"app_users": []string{}}, 400, "bad_request", "1 to"},
		{"POST", "/api/v1/apps/dbx/import/confirm", map[string]any{"members": []string{"x"}}, 400, "bad_request", "unknown field"},
		{"POST", "/api/v1/apps/dbx/import/confirm", map[string]any{"app_users": []string{"mono@corp.example"}}, 400, "invalid", "no last name"},
		{"POST", "/api/v1/apps/dbx/import/confirm", map[string]any{"app_users": []string{"mono@corp.example", "ghost"}}, 404, "not_found", "ghost"},
		{"POST", "/api/v1/apps/dbx/import/link", map[string]any{"app_user": "mono@corp.example"}, 400, "bad_request", "required"},
		{"POST", "/api/v1/apps/dbx/import/link", map[string]any{"app_user": "mono@corp.example", "user": "nobody"}, 404, "not_found", "nobody"},
	}
	for _, c := range cases {
		var body apiErr
		e.call(c.method, c.path, c.body, c.status, &body)
		if body.Error.Code != c.code || !strings.Contains(body.Error.Message, c.msg) {
			t.Errorf("%s %s: %+v, want %s containing %q", c.method, c.path, body.Error, c.code, c.msg)
		}
	}
	var l appUserList
	e.call("GET", "/api/v1/apps/dbx/import/users?state=unmatched", nil, http.StatusOK, &l)
	if len(l.Items) != 2 {
		t.Fatalf("refused requests changed app users: %+v", l.Items)
	}
}

// TestImportSafeguardRoute: a tripped safeguard answers 409 with the figures
// and passes with allow_vanished.
func TestImportSafeguardRoute(t *testing.T) {
	e, srvEmu := newImportEnv(t, storetest.OpenSQLite)
	var seeds []emu.SeedMember
	for _, n := range []string{"a", "b", "c", "d"} {
		e.call("POST", "/api/v1/users", map[string]any{"username": n, "email": n + "@corp.example"}, http.StatusCreated, nil)
		seeds = append(seeds, emu.SeedMember{Email: n + "@corp.example", GivenName: n, Surname: n, Status: "active"})
	}
	ids, err := srvEmu.Team("acme").Seed(seeds)
	if err != nil {
		t.Fatal(err)
	}
	e.call("POST", "/api/v1/apps/dbx/import", nil, http.StatusOK, nil)
	conn := dropbox.New(dropbox.Options{BaseURL: strings.TrimSuffix(e.appBase(), "/"), Token: "tok"})
	if err := conn.Remove(context.Background(), ids[0], connector.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	var body apiErr
	e.call("POST", "/api/v1/apps/dbx/import", nil, http.StatusConflict, &body)
	if body.Error.Code != "import_safeguard" || !strings.Contains(body.Error.Message, "1 of 4") {
		t.Fatalf("safeguard: %+v", body.Error)
	}
	var res importer.Result
	e.call("POST", "/api/v1/apps/dbx/import?allow_vanished=true", nil, http.StatusOK, &res)
	if res.Vanished != 1 {
		t.Fatalf("allowed: %+v", res)
	}
}

func (e *env) appBase() string {
	var a app.Instance
	e.call("GET", "/api/v1/apps/dbx", nil, http.StatusOK, &a)
	return a.BaseURL
}
