package service_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A push rule pushes the groups it matches and is listed with them; while
// the app's push groups feature is off PushOff says so; dropping the rule
// unlinks them; a rule naming neither a group nor a pattern is refused.
func TestGroupPush(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			svc, st, base := newService(t, b.Open)
			for _, n := range []string{"eng-web", "eng-ops", "sales"} {
				if err := st.CreateGroup(ctx, by, &directory.Group{Name: n}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("dbx"), BaseURL: &base, Token: ptr("tok")}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.PushGroups(ctx, by, "dbx", store.GroupPushRule{}); !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("an empty rule: %v (want invalid)", err)
			}
			p, err := svc.PushGroups(ctx, by, "dbx", store.GroupPushRule{Pattern: " eng-* "})
			slices.Sort(p.Groups)
			if err != nil || !slices.Equal(p.Groups, []string{"eng-ops", "eng-web"}) || p.Rule.Pattern != "eng-*" || !service.PushOff(p.App) {
				t.Fatalf("push: %+v, %v", p, err)
			}
			v, err := svc.GroupPushOf(ctx, "dbx")
			if err != nil || len(v.Rules) != 1 || len(v.Groups) != 2 {
				t.Fatalf("listed: %+v, %v", v, err)
			}
			gone, err := svc.UnpushGroups(ctx, by, "dbx", store.GroupPushRule{Pattern: "eng-*"}, false)
			slices.Sort(gone)
			if err != nil || !slices.Equal(gone, []string{"eng-ops", "eng-web"}) {
				t.Fatalf("unpush: %v, %v", gone, err)
			}
			if v, err := svc.GroupPushOf(ctx, "dbx"); err != nil || len(v.Rules) != 0 {
				t.Fatalf("after unpush: %+v, %v", v, err)
			}
		})
	}
}
