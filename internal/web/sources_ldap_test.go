package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/ldapsource/ldaptest"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestSourcesPageLDAP(t *testing.T) {
	seed := ""
	for i, u := range []string{"ann", "bob", "cid", "dan", "eve", "fay"} {
		seed += fmt.Sprintf("dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: S\nmail: %s@corp.example\nmodifyTimestamp: 2025010100000%dZ\n\n",
			u, ldaptest.BaseDN, u, u, u, i)
	}
	s := ldaptest.StartT(t, ldaptest.Options{Seed: seed})
	var open func(testing.TB) *sqlstore.DB = storetest.OpenSQLite
	e := newEnv(t, open)
	c := e.client(t).signin()
	form := url.Values{"name": {"corp"}, "preset": {"openldap"}, "url": {s.URL}, "start_tls": {"on"}, "ca": {string(s.CA)},
		"bind_dn": {ldaptest.BindDN}, "bind_password": {ldaptest.BindPassword}, "base_dn": {ldaptest.BaseDN}, "deactivate_as": {"deactivate"}}
	r := c.post("/sources", "/sources/ldap", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	page := c.get("/sources")
	if !strings.Contains(page.body, "corp") || !strings.Contains(page.body, "Sync now") || strings.Contains(page.body, ldaptest.BindPassword) {
		t.Fatalf("page after add: %s", page.body)
	}
	r = c.post("/sources", "/sources/corp/sync", url.Values{"mode": {"plan"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Plan of corp: nothing changed") || !strings.Contains(r.body, "create 6") {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	if _, err := e.st.GetUser(t.Context(), "ann"); err == nil {
		t.Fatal("the plan created ann")
	}
	r = c.post("/sources", "/sources/corp/sync", url.Values{"mode": {"sync"}})
	if r.status != http.StatusSeeOther || !strings.Contains(c.get(r.location).body, "6 changes applied") {
		t.Fatalf("sync: %d", r.status)
	}
	// A base DN where nobody is: held, and the page offers the way out.
	if _, err := e.st.UpdateSource(t.Context(), "t", "corp", func(src *store.Source) error {
		src.Config = []byte(strings.Replace(string(src.Config), `"base_dn":"`+ldaptest.BaseDN+`"`, `"base_dn":"ou=groups,`+ldaptest.BaseDN+`"`, 1))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r = c.post("/sources", "/sources/corp/sync", url.Values{"mode": {"sync"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, `id="source-held"`) || !strings.Contains(r.body, "Sync and allow 6 deactivations") {
		t.Fatalf("held: %d %s", r.status, r.body)
	}
	if u, _ := e.st.GetUser(t.Context(), "ann"); u.Status != directory.StatusActive {
		t.Fatalf("held sync changed ann: %s", u.Status)
	}
	c.post("/sources", "/sources/corp/sync", url.Values{"mode": {"allow"}})
	if u, _ := e.st.GetUser(t.Context(), "ann"); u.Status != directory.StatusDeprovisioned {
		t.Fatalf("allowed sync left ann %s", u.Status)
	}
	s.Kill()
	r = c.post("/sources", "/sources/corp/sync", url.Values{"mode": {"sync"}})
	if msg := c.get(r.location).body; !strings.Contains(msg, "nothing was applied") {
		t.Fatalf("read failure not shown: %s", msg)
	}
}
