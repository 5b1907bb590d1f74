package scim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// serve runs one request through the handler, without a network.
func (e *env) serve(t testing.TB, method, target string, body []byte) int {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out["detail"] == "" {
			t.Fatalf("%s %s: %d without a SCIM error body: %s", method, target, rec.Code, rec.Body)
		}
	}
	return rec.Code
}

// FuzzFilter: any filter is answered 200 or 400 invalidFilter (or 400 for
// a value), never a panic or a 500.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "ann"`, `externalId eq "e-1"`, `id eq "x"`, `userName sw "a" and active eq true`,
		`emails[type eq "work" and value co "@"]`, `not (title pr)`, `name.givenName ew "n" or displayName gt "a"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`,
		`userName eq`, `(`, `userName eq "a\"b"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`, `active eq 1`, `x[y[z eq 1]]`,
	} {
		f.Add(s)
	}
	e := newEnv(f, storetest.OpenSQLite, store.SourceSettings{})
	e.do("POST", "/Users", user("ann", map[string]any{"title": "CFO"}), 201)
	f.Fuzz(func(t *testing.T, filter string) {
		for _, path := range []string{"/scim/v2/Users", "/scim/v2/Groups"} {
			if code := e.serve(t, "GET", path+"?filter="+url.QueryEscape(filter), nil); code != http.StatusOK && code != http.StatusBadRequest {
				t.Fatalf("filter %q: %d", filter, code)
			}
		}
	})
}

// FuzzPatchPath: any PATCH path is answered 200 or 400, never a panic or
// a 500, and a refused one writes nothing.
func FuzzPatchPath(f *testing.F) {
	for _, s := range []string{
		"name.givenName", `emails[type eq "work"].value`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "active", "userName", "title",
		`members[value eq "x"]`, "name[", "]", "urn:", "emails[type eq]", "a.b.c", "",
	} {
		f.Add(s, `"x"`)
		f.Add(s, `{"value":"y"}`)
	}
	e := newEnv(f, storetest.OpenSQLite, store.SourceSettings{})
	ann := e.do("POST", "/Users", user("ann", nil), 201)
	id := ann["id"].(string)
	grp := e.do("POST", "/Groups", map[string]any{"displayName": "g"}, 201)
	gid := grp["id"].(string)
	f.Fuzz(func(t *testing.T, path, value string) {
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			v = value
		}
		for _, target := range []string{"/scim/v2/Users/" + id, "/scim/v2/Groups/" + gid} {
			for _, op := range []string{"add", "replace", "remove"} {
				body, _ := json.Marshal(patch(map[string]any{"op": op, "path": path, "value": v}))
				code := e.serve(t, "PATCH", target, body)
				if code != http.StatusOK && code != http.StatusNoContent && code != http.StatusBadRequest && code != http.StatusConflict {
					t.Fatalf("%s path %q value %s: %d", op, path, value, code)
				}
			}
		}
	})
}
