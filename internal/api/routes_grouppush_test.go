package api_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/store/storetest"
)

type pushAnswer struct {
	Groups    []string `json:"groups"`
	Unlinking []string `json:"unlinking"`
	Warning   string   `json:"warning"`
	Rule      struct {
		ID           int64  `json:"id"`
		Group        string `json:"group"`
		Pattern      string `json:"pattern"`
		LinkExisting bool   `json:"link_existing"`
	} `json:"rule"`
}

type pushedList struct {
	PushGroups bool `json:"push_groups"`
	Rules      []struct {
		Group   string `json:"group"`
		Pattern string `json:"pattern"`
	} `json:"rules"`
	Items []struct {
		Group       string `json:"group"`
		State       string `json:"state"`
		Unlink      bool   `json:"unlink"`
		DeleteInApp bool   `json:"delete_in_app"`
	} `json:"items"`
}

func TestGroupPushRoutes(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.Open)
			e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx"}, 201, nil)
			for _, g := range []string{"eng-web", "eng-api", "Sales"} {
				e.call("POST", "/api/v1/groups", map[string]any{"name": g}, 201, nil)
			}
			var er apiErr
			for _, tc := range []struct {
				body   map[string]any
				status int
				msg    string
			}{
				{map[string]any{}, 400, "either one group or one pattern"},
				{map[string]any{"group": "Sales", "pattern": "S*"}, 400, "either one group or one pattern"},
				{map[string]any{"group": "Nope"}, 404, "Nope"},
				{map[string]any{"group": "Sales", "delete_in_app": true}, 400, "delete_in_app"},
				{map[string]any{"group": "Sales", "colour": "red"}, 400, "colour"},
			} {
				e.call("POST", "/api/v1/apps/dbx/group-push", tc.body, tc.status, &er)
				if !strings.Contains(er.Error.Message, tc.msg) {
					t.Errorf("%v: %q, want %q", tc.body, er.Error.Message, tc.msg)
				}
			}
			e.call("POST", "/api/v1/apps/nope/group-push", map[string]any{"group": "Sales"}, 404, &er)

			var ans pushAnswer
			e.call("POST", "/api/v1/apps/dbx/group-push", map[string]any{"pattern": "eng-*", "link_existing": true}, 200, &ans)
			if len(ans.Groups) != 2 || !ans.Rule.LinkExisting || !strings.Contains(ans.Warning, "features.push_groups=true") {
				t.Fatalf("push = %+v", ans)
			}
			e.call("POST", "/api/v1/apps/dbx/group-push", map[string]any{"group": "sales"}, 200, &ans)
			if len(ans.Groups) != 1 || ans.Rule.Group != "Sales" {
				t.Fatalf("push by name = %+v", ans)
			}
			// Renaming keeps a name rule; the pushed group follows.
			e.call("POST", "/api/v1/groups/Sales/rename", map[string]any{"name": "Sales EMEA"}, 200, nil)
			e.call("POST", "/api/v1/groups/eng-api/rename", map[string]any{"name": "sales emea"}, 409, &er)

			var pl pushedList
			e.call("GET", "/api/v1/apps/dbx/group-push", nil, 200, &pl)
			if pl.PushGroups || len(pl.Rules) != 2 || len(pl.Items) != 3 || pl.Items[2].Group != "Sales EMEA" || pl.Items[0].State != "queued" {
				t.Fatalf("pushed = %+v", pl)
			}

			e.call("POST", "/api/v1/apps/dbx/group-push/remove", map[string]any{"pattern": "ops-*"}, 404, &er)
			e.call("POST", "/api/v1/apps/dbx/group-push/remove", map[string]any{"pattern": "eng-*", "link_existing": true}, 400, &er)
			e.call("POST", "/api/v1/apps/dbx/group-push/remove", map[string]any{"pattern": "ENG-*", "delete_in_app": true}, 200, &ans)
			if len(ans.Unlinking) != 2 {
				t.Fatalf("unpush = %+v", ans)
			}
			e.call("GET", "/api/v1/apps/dbx/group-push", nil, 200, &pl)
			if len(pl.Rules) != 1 || !pl.Items[0].Unlink || !pl.Items[0].DeleteInApp || pl.Items[2].Unlink {
				t.Fatalf("after unpush = %+v", pl)
			}
		})
	}
}
