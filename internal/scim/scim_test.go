package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// env is a SCIM service over a real store, without a worker.
type env struct {
	t     testing.TB
	st    *sqlstore.DB
	svc   *service.Service
	srv   *httptest.Server
	token string
	wakes int
}

func newEnv(t testing.TB, open func(testing.TB) *sqlstore.DB, settings store.SourceSettings) *env {
	t.Helper()
	e := &env{t: t, st: open(t)}
	e.svc = service.New(e.st, nil, service.Options{Wake: func() { e.wakes++ }})
	_, tok, err := e.svc.AddSource(context.Background(), "test", service.NewSource{Kind: "scim", Name: "idp", Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	e.token = tok
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv = httptest.NewServer(scim.New(e.svc, e.st, log).Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a SCIM request and decodes the answer.
func (e *env) do(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	return e.doAs(e.token, method, path, body, want)
}

func (e *env) doAs(token, method, path string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, data)
		}
	}
	return out
}

func user(name string, extra map[string]any) map[string]any {
	u := map[string]any{
		"schemas":  []string{scim.SchemaUser},
		"userName": name,
		"name":     map[string]any{"givenName": "Given", "familyName": "Family"},
		"emails":   []any{map[string]any{"value": name + "@corp.example", "type": "work", "primary": true}},
		"active":   true,
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

func patch(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": list}
}

func TestAuthAndDiscovery(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite, store.SourceSettings{})
	for _, tok := range []string{"", "rss_wrong", "rst_an-admin-token"} {
		out := e.doAs(tok, "GET", "/Users", nil, 401)
		if out["status"] != "401" || !strings.Contains(out["detail"].(string), "token") {
			t.Fatalf("token %q: %v", tok, out)
		}
	}
	spc := e.do("GET", "/ServiceProviderConfig", nil, 200)
	if spc["patch"].(map[string]any)["supported"] != true {
		t.Fatalf("spc = %v", spc)
	}
	if rt := e.do("GET", "/ResourceTypes", nil, 200); rt["totalResults"] != 2.0 {
		t.Fatalf("resource types = %v", rt)
	}
	if sc := e.do("GET", "/Schemas", nil, 200); sc["totalResults"] != 3.0 {
		t.Fatalf("schemas = %v", sc)
	}
	e.do("GET", "/Schemas/"+scim.SchemaEnterprise, nil, 200)
	e.do("GET", "/Nope", nil, 404)
}

// TestErrors: every bad input is a 4xx in SCIM's error form with the
// scimType the RFC names, and changes nothing.
func TestErrors(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite, store.SourceSettings{})
	ann := e.do("POST", "/Users", user("ann", map[string]any{"displayName": "Ann"}), 201)
	id := ann["id"].(string)
	before, _ := e.st.GetUser(context.Background(), "ann")
	big := `{"userName":"` + strings.Repeat("x", scim.MaxBody) + `"}`
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		scimType           string
	}{
		{"not json", "POST", "/Users", `{"userName":`, 400, "invalidSyntax"},
		{"not an object", "POST", "/Users", `[1]`, 400, "invalidSyntax"},
		{"no userName", "POST", "/Users", map[string]any{"emails": []any{}}, 400, "invalidValue"},
		{"bad email", "POST", "/Users", user("bob", map[string]any{"emails": []any{map[string]any{"value": "nope"}}}), 400, "invalidValue"},
		{"active not boolean", "POST", "/Users", user("bob", map[string]any{"active": "maybe"}), 400, "invalidValue"},
		{"NUL", "POST", "/Users", `{"userName":"a\u0000b"}`, 400, "invalidValue"},
		{"too big", "POST", "/Users", big, 413, ""},
		{"taken", "POST", "/Users", user("ann", nil), 409, "uniqueness"},
		{"bad filter", "GET", `/Users?filter=userName+eq`, nil, 400, "invalidFilter"},
		{"bad count", "GET", `/Users?count=x`, nil, 400, "invalidValue"},
		{"unknown id", "GET", "/Users/0190e5a4-0000-7000-8000-000000000000", nil, 404, ""},
		{"patch no ops", "PATCH", "/Users/" + id, map[string]any{"Operations": []any{}}, 400, "invalidSyntax"},
		{"patch bad op", "PATCH", "/Users/" + id, patch(map[string]any{"op": "move", "path": "title", "value": "x"}), 400, "invalidSyntax"},
		{"patch bad path", "PATCH", "/Users/" + id, patch(map[string]any{"op": "replace", "path": "name[[", "value": "x"}), 400, "invalidPath"},
		{"patch unknown attr", "PATCH", "/Users/" + id, patch(map[string]any{"op": "replace", "path": "shoeSize", "value": "x"}), 400, "invalidPath"},
		{"patch unknown schema", "PATCH", "/Users/" + id, patch(map[string]any{"op": "replace", "path": "urn:x:y:z:attr", "value": "x"}), 400, "invalidPath"},
		{"remove no path", "PATCH", "/Users/" + id, patch(map[string]any{"op": "remove"}), 400, "noTarget"},
		{"remove userName", "PATCH", "/Users/" + id, patch(map[string]any{"op": "remove", "path": "userName"}), 400, "mutability"},
		// One good operation, then a bad one: nothing is written.
		{"partial", "PATCH", "/Users/" + id, patch(
			map[string]any{"op": "replace", "path": "displayName", "value": "Changed"},
			map[string]any{"op": "replace", "path": "active", "value": 3}), 400, "invalidValue"},
		{"group no name", "POST", "/Groups", map[string]any{"members": []any{}}, 400, "invalidValue"},
		{"group unknown member", "POST", "/Groups", map[string]any{"displayName": "g", "members": []any{map[string]any{"value": "nobody"}}}, 400, "invalidValue"},
		{"group member filter add", "PATCH", "/Groups/x", patch(map[string]any{"op": "add", "path": `members[value eq "a"]`, "value": "x"}), 400, "invalidPath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := e.do(tc.method, tc.path, tc.body, tc.status)
			if out["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || out["detail"] == "" {
				t.Fatalf("not a SCIM error: %v", out)
			}
			if got, _ := out["scimType"].(string); got != tc.scimType {
				t.Fatalf("scimType = %q, want %q (%v)", got, tc.scimType, out["detail"])
			}
		})
	}
	after, _ := e.st.GetUser(context.Background(), "ann")
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a refused request changed ann: %+v", after)
	}
	if users, _ := e.st.ListUsers(context.Background(), store.UserFilter{}); len(users) != 1 {
		t.Fatalf("refused creates left users: %d", len(users))
	}
	src, _ := e.svc.Source(context.Background(), "idp")
	if src.Errors == 0 || src.LastError == "" {
		t.Fatalf("errors not recorded on the source: %+v", src)
	}
}

// TestOwnership: a source sees and changes only its own users; a userName
// another owner holds is a 409 unless the source adopts, which is logged.
func TestOwnership(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open, store.SourceSettings{})
			ctx := context.Background()
			admin := directory.User{Username: "bob", Email: "bob@corp.example", Attributes: map[string]string{"desk": "12"}}
			if err := e.st.CreateUser(ctx, "admin", &admin); err != nil {
				t.Fatal(err)
			}
			if l := e.do("GET", `/Users?filter=userName+eq+"bob"`, nil, 200); l["totalResults"] != 0.0 {
				t.Fatalf("another owner's user is listed: %v", l)
			}
			e.do("GET", "/Users/"+admin.ExternalKey, nil, 404)
			e.do("PATCH", "/Users/"+admin.ExternalKey, patch(map[string]any{"op": "replace", "path": "active", "value": false}), 404)
			e.do("DELETE", "/Users/"+admin.ExternalKey, nil, 404)
			out := e.do("POST", "/Users", user("bob", nil), 409)
			if out["scimType"] != "uniqueness" || !strings.Contains(out["detail"].(string), "adopt") {
				t.Fatalf("409 = %v", out)
			}
			on := true
			if _, err := e.svc.UpdateSource(ctx, "test", "idp", service.SourceUpdate{Adopt: &on}); err != nil {
				t.Fatal(err)
			}
			got := e.do("POST", "/Users", user("bob", map[string]any{"title": "CFO"}), 201)
			if got["id"] != admin.ExternalKey || got["title"] != "CFO" {
				t.Fatalf("adopted = %v", got)
			}
			u, _ := e.st.GetUser(ctx, "bob")
			if u.Source != "idp" || u.Attributes["desk"] != "12" {
				t.Fatalf("after adoption: %+v (an admin's attribute must stay)", u)
			}
			logs, _ := e.st.ListLog(ctx, audit.Filter{Action: "user.adopt"})
			if len(logs) != 1 || logs[0].Actor != "source:idp" {
				t.Fatalf("adoption log = %+v", logs)
			}
			// DELETE deactivates and detaches: the user stays for audit, owned by api.
			e.do("DELETE", "/Users/"+admin.ExternalKey, nil, 204)
			u, _ = e.st.GetUser(ctx, "bob")
			if u.Source != directory.SourceAPI || u.Status != directory.StatusDeprovisioned {
				t.Fatalf("after DELETE: %+v", u)
			}
			e.do("GET", "/Users/"+admin.ExternalKey, nil, 404)
			if e.wakes < 2 {
				t.Fatalf("the worker was woken %d times", e.wakes)
			}
		})
	}
}
