package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A NUL character in any JSON string is refused with 400 naming where it is,
// and nothing is stored: PostgreSQL cannot store it in text (it answered 500)
// and SQLite stored it.
func TestNULInJSONIsRefused(t *testing.T) {
	cases := []struct {
		name, method, path, body, where string
	}{
		{"group name", "POST", "/api/v1/groups", `{"name":"Sa\u0000les"}`, `"name"`},
		{"group description", "POST", "/api/v1/groups", `{"name":"Sales","description":"a\u0000"}`, `"description"`},
		{"token name", "POST", "/api/v1/tokens", `{"name":"ci\u0000"}`, `"name"`},
		{"member list", "POST", "/api/v1/groups/Sales/members", `{"users":["ann","b\u0000o"]}`, `"users"[1]`},
		{"object key", "POST", "/api/v1/users", `{"username":"ann","email":"ann@corp.example","attributes":{"de\u0000pt":"x"}}`, `"attributes"`},
		{"user first name", "POST", "/api/v1/users", `{"username":"ann","email":"ann@corp.example","first_name":"A\u0000nn"}`, `"first_name"`},
		{"app name", "POST", "/api/v1/apps", `{"name":"d\u0000bx","kind":"dropbox"}`, `"name"`},
		{"assignment role", "POST", "/api/v1/assignments", `{"app":"dbx","group":"Sales","role":"mem\u0000ber"}`, `"role"`},
		{"path", "GET", "/api/v1/users/a%00nn", ``, `URL path`},
		{"query", "DELETE", "/api/v1/assignments?app=d%00bx&group=Sales", ``, `query parameter "app"`},
		{"app settings", "POST", "/api/v1/apps", `{"name":"dbx","kind":"dropbox","settings":{"deactivation":{"type":"sus\u0000pend"}}}`, `"settings"."deactivation"."type"`},
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			ctx := context.Background()
			if err := e.st.CreateGroup(ctx, "test", &directory.Group{Name: "Sales"}); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					status, got := e.send(t, c.method, c.path, c.body)
					if status != http.StatusBadRequest || got.Error.Code != "bad_request" || !strings.Contains(got.Error.Message, c.where) || !strings.Contains(got.Error.Message, "NUL") {
						t.Fatalf("status %d, error %+v; want 400 bad_request naming %s and NUL", status, got.Error, c.where)
					}
				})
			}
			// An escaped backslash before u0000 is plain text, not a NUL.
			if status, got := e.send(t, "POST", "/api/v1/groups", `{"name":"Ops","description":"C:\\u0000"}`); status != http.StatusCreated {
				t.Fatalf("literal backslash-u0000: status %d, %+v", status, got.Error)
			}
			groups, err := e.st.ListGroups(ctx, store.Page{})
			if err != nil || len(groups) != 2 || !slices.ContainsFunc(groups, func(g directory.Group) bool { return g.Description == `C:\u0000` }) {
				t.Fatalf("groups after refused requests = %v, %v", groups, err)
			}
			apps, err := e.st.ListApps(ctx)
			if err != nil || len(apps) != 0 {
				t.Fatalf("apps after refused requests = %v, %v", apps, err)
			}
			tokens, err := e.st.ListTokens(ctx)
			if err != nil || len(tokens) != 1 {
				t.Fatalf("tokens after refused requests = %v, %v", tokens, err)
			}
		})
	}
}

// send posts a raw body with the env's token on behalf of subtest t.
func (e *env) send(t *testing.T, method, path, body string) (int, apiErr) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got apiErr
	_ = json.NewDecoder(resp.Body).Decode(&got)
	return resp.StatusCode, got
}
