package api_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestSourcesAPI(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			var created api.SourceToken
			e.call("POST", "/api/v1/sources", map[string]any{"kind": "scim", "name": "okta"}, 201, &created)
			if created.Name != "okta" || !strings.HasPrefix(created.Token, "rss_") || created.BaseURL != e.srv.URL+"/scim/v2" {
				t.Fatalf("created = %+v", created)
			}
			// The token is shown once: never in a listing or a get, never logged.
			var got store.Source
			e.call("GET", "/api/v1/sources/okta", nil, 200, &got)
			if !got.HasToken || got.Kind != "scim" || got.Settings.DeactivateAs != "deactivate" {
				t.Fatalf("get = %+v", got)
			}
			var rotated api.SourceToken
			e.call("POST", "/api/v1/sources/okta/rotate-token", nil, 200, &rotated)
			if rotated.Token == "" || rotated.Token == created.Token {
				t.Fatalf("rotated token = %q", rotated.Token)
			}
			e.call("PATCH", "/api/v1/sources/okta", map[string]any{"adopt": true, "deactivate_as": "suspend"}, 200, &got)
			if !got.Settings.Adopt || got.Settings.DeactivateAs != "suspend" {
				t.Fatalf("updated = %+v", got)
			}
			for _, bad := range []map[string]any{
				{"kind": "scim", "name": "okta"},             // taken
				{"kind": "nope", "name": "x"},                // unknown kind
				{"kind": "scim", "name": "api"},              // reserved
				{"kind": "scim", "name": "y", "secret": "s"}, // SCIM keeps no secret
				{"kind": "scim", "name": "z", "config": map[string]any{"a": 1}},
			} {
				e.call("POST", "/api/v1/sources", bad, wantStatusFor(bad), nil)
			}
			e.call("PATCH", "/api/v1/sources/okta", map[string]any{"deactivate_as": "delete"}, 400, nil)
			var list struct{ Items []store.Source }
			e.call("GET", "/api/v1/sources", nil, 200, &list)
			if len(list.Items) != 1 {
				t.Fatalf("list = %+v", list.Items)
			}
			e.call("DELETE", "/api/v1/sources/okta", nil, 200, nil)
			e.call("GET", "/api/v1/sources/okta", nil, 404, nil)
			for _, tok := range []string{created.Token, rotated.Token} {
				if strings.Contains(e.logs.String(), tok) {
					t.Fatal("a source token is in the server log")
				}
			}
		})
	}
}

func wantStatusFor(body map[string]any) int {
	if body["name"] == "okta" {
		return 409
	}
	return 400
}
