package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestApplyRefusesAStalePlan: the plan page's Apply applies exactly the plan
// shown (service.ApplyPlan). When a change of the plan now sets something
// else (alice's name was edited after the plan was shown), the plan is
// stale: 409, nothing applied; a plan whose fingerprint does not match its
// changes (an edited form) is refused too; the new plan applies.
func TestApplyRefusesAStalePlan(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	e.addApp(t, "dropbox", true)
	e.addUsers(t, "alice")
	if err := e.st.Assign(bg, actor, &directory.Assignment{AppName: "dropbox", Username: "alice", Role: "member"}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t).signin()
	page := c.get("/apps/dropbox/plan").body
	if !strings.HasPrefix(hidden(t, page, "plan"), "plan_") {
		t.Fatalf("the plan page carries no plan id:\n%s", page)
	}
	shown := func(body string) url.Values {
		return url.Values{"plan": {hidden(t, body, "plan")}, "digest": {hidden(t, body, "digest")}, "shown": {hidden(t, body, "shown")}, "full": {""}}
	}
	form := shown(page)
	if _, err := e.st.UpdateUser(bg, actor, "alice", "user.update", func(u *directory.User) error {
		u.FirstName = "Alicia"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := c.post("/apps/dropbox/plan", "/apps/dropbox/apply", form)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "1 new change(s)") {
		t.Fatalf("apply of a stale plan: %d\n%s", r.status, r.body)
	}
	if _, ok := e.emu.Team(team).Member("alice@acme.example"); ok {
		t.Fatal("a stale plan was applied")
	}
	edited := shown(r.body)
	edited.Set("shown", edited.Get("shown")+" 999:create:00000000")
	if r := c.post("/apps/dropbox/plan", "/apps/dropbox/apply", edited); r.status != http.StatusSeeOther ||
		!strings.Contains(c.get(r.location).body, "does not match its changes") {
		t.Fatalf("apply of an edited plan: %d %s", r.status, r.location)
	}
	if _, ok := e.emu.Team(team).Member("alice@acme.example"); ok {
		t.Fatal("an edited plan was applied")
	}
	if r = c.post("/apps/dropbox/plan", "/apps/dropbox/apply", shown(r.body)); r.status != http.StatusSeeOther {
		t.Fatalf("apply of the current plan: %d\n%s", r.status, r.body)
	}
	if m, ok := e.emu.Team(team).Member("alice@acme.example"); !ok || m.GivenName != "Alicia" {
		t.Fatalf("alice after apply: %+v %v", m, ok)
	}
}
