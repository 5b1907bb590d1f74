package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/store/sqlstore"
)

func TestSourcesPage(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		c := e.client(t).signin()
		if r := c.get("/sources"); r.status != http.StatusOK || !strings.Contains(r.body, "No sources yet") || !strings.Contains(r.body, e.srv.URL+"/scim/v2") {
			t.Fatalf("empty page: %d %s", r.status, r.body)
		}
		r := c.post("/sources", "/sources", url.Values{"name": {"okta"}, "deactivate_as": {"suspend"}})
		tok := regexp.MustCompile(`id="scim-token">(rss_[^<]+)<`).FindStringSubmatch(r.body)
		if r.status != http.StatusCreated || tok == nil {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		// Shown once: the next visit has it no more.
		if r := c.get("/sources"); strings.Contains(r.body, tok[1]) || !strings.Contains(r.body, "okta") {
			t.Fatalf("token shown again, or the source missing: %s", r.body)
		}
		r = c.post("/sources", "/sources/okta/rotate-token", url.Values{})
		tok2 := regexp.MustCompile(`id="scim-token">(rss_[^<]+)<`).FindStringSubmatch(r.body)
		if tok2 == nil || tok2[1] == tok[1] {
			t.Fatalf("rotate: %d %s", r.status, r.body)
		}
		r = c.post("/sources", "/sources", url.Values{"name": {"api"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("a reserved name: %d", r.status)
		}
		if r := c.get(r.location); !strings.Contains(r.body, "reserved") {
			t.Fatalf("the refusal is not explained: %s", r.body)
		}
		c.post("/sources", "/sources/okta/settings", url.Values{"adopt": {"on"}, "deactivate_as": {"deactivate"}})
		src, err := e.st.GetSource(t.Context(), "okta")
		if err != nil || !src.Settings.Adopt || src.Settings.DeactivateAs != "deactivate" {
			t.Fatalf("settings = %+v, %v", src.Settings, err)
		}
		c.post("/sources", "/sources/okta/remove", url.Values{})
		if _, err := e.st.GetSource(t.Context(), "okta"); err == nil {
			t.Fatal("source not removed")
		}
	})
}
