package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

type env struct {
	t     *testing.T
	srv   *httptest.Server
	st    *sqlstore.DB
	box   *secret.Box
	token string
	logs  *bytes.Buffer
}

func newEnv(t *testing.T, open func(testing.TB) *sqlstore.DB) *env {
	st := open(t)
	box, err := secret.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(api.New(st, box, logger, api.Options{}).Handler())
	t.Cleanup(srv.Close)
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
		t.Fatal(err)
	}
	return &env{t, srv, st, box, tok, logs}
}

// call sends a request with the env's token and decodes a JSON answer into out.
func (e *env) call(method, path string, body any, wantStatus int, out any) {
	e.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "text/csv"
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, data)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // Unmarshal would merge into old maps
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

type apiErr struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	} `json:"error"`
}

// TestEveryRouteNeedsAToken walks every authenticated route with no token, a
// malformed one and a wrong one: each must answer 401 in the error envelope.
func TestEveryRouteNeedsAToken(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	param := regexp.MustCompile(`\{[a-z]+\}`)
	headers := map[string]string{
		"none":      "",
		"malformed": "Basic YWRtaW46YWRtaW4=",
		"wrong":     "Bearer rst_" + strings.Repeat("A", 43),
		"no prefix": "Bearer " + strings.TrimPrefix(e.token, "rst_"),
	}
	routes := api.Routes()
	if len(routes) < 30 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	for _, r := range routes {
		path := param.ReplaceAllString(r.Pattern, "x")
		for name, h := range headers {
			req, _ := http.NewRequest(r.Method, e.srv.URL+path, strings.NewReader(`{}`))
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body apiErr
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || body.Error.Code != "unauthorized" {
				t.Errorf("%s %s with %s token: %d %+v", r.Method, path, name, resp.StatusCode, body)
			}
		}
	}
	// Unknown API paths are not a way around authentication either.
	resp, err := http.Get(e.srv.URL + "/api/v1/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown path without token: %d", resp.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
	}
}

type user struct {
	ID         int64             `json:"id"`
	Username   string            `json:"username"`
	Email      string            `json:"email"`
	FirstName  string            `json:"first_name"`
	Status     string            `json:"status"`
	Attributes map[string]string `json:"attributes"`
}

type list[T any] struct {
	Items []T  `json:"items"`
	Next  *int `json:"next"`
}

func TestUsersLifecycle(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			var u user
			e.call("POST", "/api/v1/users", map[string]any{"username": "ann", "email": "ann@example.com", "first_name": "Ann",
				"attributes": map[string]string{"title": "CFO"}}, 201, &u)
			if u.ID == 0 || u.Status != "active" || u.Attributes["title"] != "CFO" {
				t.Fatalf("created %+v", u)
			}
			var er apiErr
			e.call("POST", "/api/v1/users", map[string]any{"username": "ANN", "email": "x@example.com"}, 409, &er)
			if er.Error.Code != "conflict" || !strings.Contains(er.Error.Message, "username") {
				t.Fatalf("duplicate: %+v", er)
			}
			e.call("POST", "/api/v1/users", map[string]any{"username": "b", "email": "nope"}, 400, &er)
			e.call("POST", "/api/v1/users", map[string]any{"username": "b", "email": "b@example.com", "mail": "typo"}, 400, &er)
			if !strings.Contains(er.Error.Message, "unknown field") {
				t.Fatalf("unknown field: %+v", er)
			}
			e.call("PATCH", "/api/v1/users/ann", map[string]any{"first_name": "Anne", "attributes": map[string]any{"title": nil, "dept": "Fin"}}, 200, &u)
			if u.FirstName != "Anne" || u.Attributes["dept"] != "Fin" || u.Attributes["title"] != "" {
				t.Fatalf("patched %+v", u)
			}
			e.call("PATCH", "/api/v1/users/ann", map[string]any{"status": "suspended"}, 400, &er)
			e.call("POST", "/api/v1/users/ann/suspend", nil, 200, &u)
			if u.Status != "suspended" {
				t.Fatalf("after suspend: %s", u.Status)
			}
			e.call("POST", "/api/v1/users/ann/suspend", nil, 409, &er)
			if er.Error.Code != "invalid_transition" {
				t.Fatalf("second suspend: %+v", er)
			}
			e.call("DELETE", "/api/v1/users/ann", nil, 409, &er)
			e.call("POST", "/api/v1/users/ann/deactivate", nil, 200, &u)
			e.call("DELETE", "/api/v1/users/ann", nil, 204, nil)
			e.call("GET", "/api/v1/users/ann", nil, 404, &er)
			var log list[struct {
				Action string `json:"action"`
				Actor  string `json:"actor"`
			}]
			e.call("GET", "/api/v1/log?target=ann&limit=10", nil, 200, &log)
			want := []string{"user.delete", "user.deactivate", "user.suspend", "user.update", "user.create"}
			if len(log.Items) != len(want) {
				t.Fatalf("log = %+v", log.Items)
			}
			for i, w := range want {
				if log.Items[i].Action != w || log.Items[i].Actor != "token:admin" {
					t.Fatalf("log[%d] = %+v, want %s by token:admin", i, log.Items[i], w)
				}
			}
		})
	}
}

func TestCSVImportAndPaging(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	var er apiErr
	e.call("POST", "/api/v1/users/import", "username,email\nok,ok@example.com\nbad,bad\n", 400, &er)
	if er.Error.Code != "invalid" || len(er.Error.Details) != 1 || !strings.Contains(string(er.Error.Details[0]), `"line":3`) {
		t.Fatalf("bad csv: %+v", er)
	}
	var csv strings.Builder
	csv.WriteString("username,email\n")
	for i := range 250 {
		fmt.Fprintf(&csv, "u%03d,u%03d@example.com\n", i, i)
	}
	var created map[string]int
	e.call("POST", "/api/v1/users/import", csv.String(), 201, &created)
	if created["created"] != 250 {
		t.Fatalf("created %v", created)
	}
	seen := 0
	path := "/api/v1/users?limit=100"
	for {
		var page list[user]
		e.call("GET", path, nil, 200, &page)
		seen += len(page.Items)
		if page.Next == nil {
			break
		}
		path = fmt.Sprintf("/api/v1/users?limit=100&after=%d", *page.Next)
	}
	if seen != 250 {
		t.Fatalf("paged %d users", seen)
	}
	e.call("GET", "/api/v1/users?limit=0", nil, 400, &er)
	e.call("GET", "/api/v1/users?status=gone", nil, 400, &er)
}

func TestAppsTokenNeverShown(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	const dropboxToken = "sl.SECRET-team-token-123"
	var a struct {
		ID       int64 `json:"id"`
		HasToken bool  `json:"has_token"`
		Settings struct {
			Provisioning bool `json:"provisioning"`
			Deactivation struct {
				Type     string `json:"type"`
				WipeData bool   `json:"wipe_data"`
			} `json:"deactivation"`
		} `json:"settings"`
	}
	e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx", "base_url": "http://127.0.0.1:9/", "token": dropboxToken}, 201, &a)
	if !a.HasToken || a.Settings.Deactivation.Type != "remove" || !a.Settings.Deactivation.WipeData {
		t.Fatalf("app defaults = %+v", a)
	}
	var er apiErr
	e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"silent_provisoning": true}}, 400, &er)
	e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"silent_provisioning": true}}, 400, &er)
	if !strings.Contains(er.Error.Message, "only while provisioning is enabled") {
		t.Fatalf("silent without provisioning: %+v", er)
	}
	e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"provisioning": true, "deactivation": map[string]any{"type": "suspend"}}}, 200, &a)
	if !a.Settings.Provisioning || a.Settings.Deactivation.Type != "suspend" || !a.Settings.Deactivation.WipeData {
		t.Fatalf("merged settings = %+v", a)
	}
	e.call("PUT", "/api/v1/apps/dbx/token", map[string]any{"token": "has space"}, 400, &er)
	sealed, err := e.st.AppCredential(context.Background(), a.ID)
	if err != nil || bytes.Contains(sealed, []byte("SECRET")) {
		t.Fatalf("stored credential is not encrypted: %v", err)
	}
	plain, err := e.box.Open(sealed, credential.AppSecretContext(a.ID))
	if err != nil || string(plain) != dropboxToken {
		t.Fatalf("credential does not open to the token: %v", err)
	}
	var raw json.RawMessage
	for _, p := range []string{"/api/v1/apps", "/api/v1/apps/dbx", "/api/v1/log?limit=100"} {
		e.call("GET", p, nil, 200, &raw)
		if bytes.Contains(raw, []byte("SECRET")) {
			t.Fatalf("%s shows the token: %s", p, raw)
		}
	}
	if strings.Contains(e.logs.String(), "SECRET") || strings.Contains(e.logs.String(), e.token) {
		t.Fatal("a token reached the server log")
	}
}

func TestGroupsAssignmentsQueueWork(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx"}, 201, nil)
	for _, n := range []string{"al", "bea"} {
		e.call("POST", "/api/v1/users", map[string]any{"username": n, "email": n + "@example.com"}, 201, nil)
	}
	e.call("POST", "/api/v1/groups", map[string]any{"name": "Finance"}, 201, nil)
	var g struct {
		Members int `json:"members"`
	}
	e.call("POST", "/api/v1/groups/finance/members", map[string]any{"users": []string{"al", "bea"}}, 200, &g)
	if g.Members != 2 {
		t.Fatalf("members = %d", g.Members)
	}
	var er apiErr
	e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "group": "Finance", "role": "root"}, 400, &er)
	e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "group": "Finance", "role": "support_admin"}, 200, nil)
	var work list[struct {
		RefID  int64  `json:"ref_id"`
		Reason string `json:"reason"`
	}]
	e.call("GET", "/api/v1/apps/dbx/work", nil, 200, &work)
	if len(work.Items) != 2 || work.Items[0].Reason != "assign" {
		t.Fatalf("work = %+v", work)
	}
	e.call("POST", "/api/v1/groups/finance/members/remove", map[string]any{"users": []string{"bea"}}, 200, &g)
	var members list[user]
	e.call("GET", "/api/v1/groups/Finance/members", nil, 200, &members)
	if len(members.Items) != 1 || members.Items[0].Username != "al" {
		t.Fatalf("members = %+v", members)
	}
	e.call("DELETE", "/api/v1/assignments?app=dbx&group=Finance", nil, 204, nil)
	e.call("DELETE", "/api/v1/assignments?app=dbx&group=Finance", nil, 404, &er)
}

func TestTokens(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	var created struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	e.call("POST", "/api/v1/tokens", map[string]any{"name": "ci"}, 201, &created)
	if !strings.HasPrefix(created.Token, credential.TokenPrefix) {
		t.Fatalf("token = %q", created.Token)
	}
	var toks json.RawMessage
	e.call("GET", "/api/v1/tokens", nil, 200, &toks)
	if bytes.Contains(toks, []byte(created.Token)) {
		t.Fatal("token list shows a secret")
	}
	other := *e
	other.token = created.Token
	other.call("GET", "/api/v1/users", nil, 200, nil)
	e.call("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.ID), nil, 204, nil)
	other.call("GET", "/api/v1/users", nil, 401, nil)
}
