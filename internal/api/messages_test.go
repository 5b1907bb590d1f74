package api_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/store/storetest"
)

// Bad request bodies and settings are answered in an admin's words: the
// field, the value's kind or the key, and what is allowed; never
// encoding/json's Go words or a doubled "invalid:".
func TestAPIMessagesNameFieldAndAllowed(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx", "base_url": "http://127.0.0.1:1"}, 201, nil)
			e.call("POST", "/api/v1/groups", map[string]any{"name": "Sales"}, 201, nil)
			for _, tc := range []struct {
				method, path string
				body         any
				status       int
				want         []string
			}{
				{"POST", "/api/v1/users", map[string]any{"username": "b", "email": "b@example.com", "mail": "x"}, 400,
					[]string{`unknown field "mail"; the fields are:`, "email", "first_name"}},
				{"POST", "/api/v1/users", map[string]any{"username": 5, "email": "b@example.com"}, 400,
					[]string{"field username must be text, not a JSON number"}},
				{"PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"provisioning": "yes"}}, 400,
					[]string{`setting provisioning must be true or false, got "yes"`}},
				{"PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"typo": 1}}, 400,
					[]string{`unknown setting "typo"`, "deactivation.remove_after"}},
				{"PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"deactivation": map[string]any{"remove_after": "xx"}}}, 400,
					[]string{`deactivation.remove_after must be a grace period`}},
				{"POST", "/api/v1/groups", map[string]any{"name": "SALES"}, 409, []string{`group name "SALES" is already taken`}},
			} {
				var er apiErr
				e.call(tc.method, tc.path, tc.body, tc.status, &er)
				for _, w := range tc.want {
					if !strings.Contains(er.Error.Message, w) {
						t.Errorf("%s %s: %q lacks %q", tc.method, tc.path, er.Error.Message, w)
					}
				}
				for _, n := range []string{"json:", "Go struct", "invalid: invalid", "constraint"} {
					if strings.Contains(er.Error.Message, n) {
						t.Errorf("%s %s: %q says %q", tc.method, tc.path, er.Error.Message, n)
					}
				}
			}
		})
	}
}
