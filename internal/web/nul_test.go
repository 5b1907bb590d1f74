package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// TestFormsRefuseNUL: a NUL character in a form field is refused with a
// clear answer, never a 500 (PostgreSQL cannot store it), and nothing is stored.
func TestFormsRefuseNUL(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		c := e.client(t).signin()
		r := c.post("/users/new", "/users", url.Values{"username": {"an\x00n"}, "email": {"ann@corp.example"}})
		if r.status >= 500 || r.status < 400 || !strings.Contains(r.body, "NUL") {
			t.Fatalf("NUL in a form: %d %s", r.status, r.body)
		}
		if r := c.get("/users/ann"); r.status != http.StatusNotFound {
			t.Fatalf("a user was stored: %d", r.status)
		}
	})
}
