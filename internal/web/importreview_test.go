package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// The import review opens on what needs review, counts each tab, flags two
// members matched to the same user and refuses to confirm them as they are;
// Link takes a user from the picker instead.
func TestImportReviewTabsAndConflicts(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		a := e.addApp(t, "dropbox", false)
		if _, err := e.st.UpdateApp(bg, actor, "dropbox", func(x *app.Instance) error { x.Settings.Import.PartialNames = true; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, u := range []directory.User{
			{Username: "asmith", Email: "al.smith@corp.example", FirstName: "Al", LastName: "Smith"},
			{Username: "asmith2", Email: "albert@corp.example", FirstName: "Albert", LastName: "Smith"},
			{Username: "legacy", Email: "legacy@acme.example", FirstName: "Lee", LastName: "Gacy"},
		} {
			if err := e.st.CreateUser(bg, actor, &u); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.emu.Team(team).Seed([]emu.SeedMember{
			{Email: "al@acme.example", GivenName: "Al", Surname: "Smith", Status: "active"},
			{Email: "al.s@acme.example", GivenName: "Al", Surname: "Smith", Status: "active"},
			{Email: "legacy@acme.example", GivenName: "Lee", Surname: "Gacy", Status: "active"},
			{Email: "stranger@acme.example", GivenName: "Stan", Surname: "Ranger", Status: "active"},
		}); err != nil {
			t.Fatal(err)
		}
		c := e.client(t).signin()
		if r := c.post("/apps/dropbox/import", "/apps/dropbox/import/run", url.Values{}); r.status != http.StatusSeeOther {
			t.Fatalf("import: %d", r.status)
		}
		body := c.get("/apps/dropbox/import").body
		for _, want := range []string{
			`aria-current="page" data-state="review">needs review <span class="count">5</span>`, // 3 matched + 2 unmatched (the admin too)
			`data-state="matched">matched <span class="count">3</span>`, `data-state="">all <span class="count">5</span>`,
			`<tr data-email="al@acme.example" class="contested">`, `<tr data-email="al.s@acme.example" class="contested">`,
			`aria-label="Confirm legacy@acme.example as legacy"`, `aria-label="Link al@acme.example"`, `list="dir-users"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("review page lacks %q", want)
			}
		}
		tabs := body[strings.Index(body, `id="import-tabs"`):]
		tabs = tabs[:strings.Index(tabs, "</nav>")]
		if n := strings.Count(tabs, `aria-current="page"`); n != 1 {
			t.Errorf("%d import tabs marked current, want 1", n)
		}
		if strings.Contains(body, `aria-label="Confirm al@acme.example`) || strings.Contains(body, `aria-label="select al@acme.example"`) {
			t.Error("a contested match can be confirmed from the page")
		}
		ref := func(email string) string {
			au, err := e.st.GetAppUser(bg, a.ID, email)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(au.ID)
		}
		r := c.post("/apps/dropbox/import", "/apps/dropbox/import/confirm", url.Values{"ref": {ref("al@acme.example"), ref("legacy@acme.example")}})
		if page := c.get(r.location).body; !strings.Contains(page, "nothing was confirmed: al@acme.example (matched to asmith, as 2 members are) cannot be confirmed") {
			t.Fatalf("confirming a contested match was not refused:\n%s", page)
		}
		if au, _ := e.st.GetAppUser(bg, a.ID, "legacy@acme.example"); au.State != store.AppUserMatched {
			t.Fatal("a refused confirmation confirmed part of its members")
		}
		// The picker suggests directory users by name.
		var sugg []suggestion
		if err := json.Unmarshal([]byte(c.get("/suggest/users?q=smith").body), &sugg); err != nil || len(sugg) != 2 || sugg[1].Username != "asmith2" {
			t.Fatalf("suggestions for smith: %+v %v", sugg, err)
		}
		for _, link := range []struct{ email, user string }{{"al@acme.example", "asmith"}, {"al.s@acme.example", "asmith2"}} {
			if r := c.post("/apps/dropbox/import", "/apps/dropbox/import/link", url.Values{"ref": {ref(link.email)}, "user": {link.user}}); !strings.Contains(c.get(r.location).body, link.email+" linked to "+link.user) {
				t.Fatalf("link %s: %d", link.email, r.status)
			}
		}
		body = c.get("/apps/dropbox/import").body
		if strings.Contains(body, `class="contested"`) || !strings.Contains(body, `data-state="confirmed">confirmed <span class="count">2</span>`) {
			t.Fatalf("after linking each to its own user:\n%s", body)
		}
		if body := c.get("/apps/dropbox/import?state=").body; !strings.Contains(body, `aria-current="page" data-state="">all`) {
			t.Fatal("asking for all does not open all")
		}
	})
}

// An import's summary says each problem once, naming a few members.
func TestImportSummaryGroupsProblems(t *testing.T) {
	var res importer.Result
	for i := range 5 {
		res.Problems = append(res.Problems, importer.Problem{Email: fmt.Sprintf("m%d@x", i), Reason: "the user is taken"})
	}
	res.Problems = append(res.Problems, importer.Problem{Email: "z@x", Reason: "no email"})
	got := importSummary(res)
	for _, want := range []string{"5 member(s): the user is taken (m0@x, m1@x, m2@x and 2 more).", "1 member(s): no email (z@x)."} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if strings.Count(got, "the user is taken") != 1 {
		t.Errorf("a problem is repeated: %q", got)
	}
}
