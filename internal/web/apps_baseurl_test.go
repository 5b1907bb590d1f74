package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// settingsValues is the settings form as the page fills it for s, at base.
func settingsValues(s app.Settings, base string) url.Values {
	f := url.Values{"base_url": {base}, "deactivation_type": {string(s.Deactivation.Type)},
		"file_management": {string(s.Deactivation.FileManagement)}, "transfer_dest": {s.Deactivation.TransferDest},
		"transfer_admin": {s.Deactivation.TransferAdmin}, "guard_percent": {strconv.Itoa(s.Guard.Percent)},
		"guard_min": {strconv.Itoa(s.Guard.Min)}, "match_on": {s.Import.MatchOn},
		"safeguard_percent": {strconv.Itoa(s.Import.SafeguardPercent)}, "app_sourced": s.Import.AppSourced}
	for k, on := range map[string]bool{"provisioning": s.Provisioning, "silent": s.Silent, "push_new_users": s.Features.PushNewUsers,
		"push_profile_updates": s.Features.PushProfileUpdates, "push_deactivation": s.Features.PushDeactivation,
		"reactivate_users": s.Features.ReactivateUsers, "import_new_users": s.Features.ImportNewUsers,
		"import_profile_updates": s.Features.ImportProfileUpdates, "push_groups": s.Features.PushGroups,
		"wipe_data": s.Deactivation.WipeData, "partial_names": s.Import.PartialNames,
		"auto_confirm_exact": s.Import.AutoConfirmExact, "auto_confirm_new": s.Import.AutoConfirmNew, "auto_activate_new": s.Import.AutoActivateNew} {
		if on {
			f.Set(k, "on")
		}
	}
	return f
}

// tokenCatcher is a host an admin might point an app at; it records the
// Authorization header of every request it gets.
type tokenCatcher struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newTokenCatcher(t *testing.T) *tokenCatcher {
	c := &tokenCatcher{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		c.mu.Unlock()
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *tokenCatcher) saw(token string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.auth {
		if strings.Contains(h, token) {
			return true
		}
	}
	return false
}

// The settings form: a new Dropbox API address drops the stored token unless
// one is pasted with it, Test connection then sends nothing, and plain http is
// refused but for this machine.
func TestSettingsBaseURLDropsToken(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		a := e.addApp(t, "dbx", false)
		evil := newTokenCatcher(t)
		c := e.client(t).signin()
		page := "/apps/dbx"
		save := func(f url.Values, status int, want string) {
			t.Helper()
			r := c.post(page, page+"/settings", f)
			body := r.body
			if r.status == http.StatusSeeOther {
				body = c.get(r.location).body
			}
			if r.status != status || !strings.Contains(body, want) {
				t.Fatalf("save %s: status %d (want %d), page lacks %q\n%s", f.Get("base_url"), r.status, status, want, body)
			}
		}
		stored := func() app.Instance {
			t.Helper()
			got, err := e.st.GetApp(bg, "dbx")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		transfer := a.Settings
		transfer.Deactivation = app.Deactivation{Type: app.DeactivateRemove, FileManagement: app.FilesTransfer, TransferDest: keeper, TransferAdmin: teamAdmin}
		save(settingsValues(transfer, evil.URL), http.StatusUnprocessableEntity, "change the address")
		if got := stored(); got.BaseURL != e.emuURL || !got.HasToken {
			t.Fatalf("a refused form changed the app: %+v", got)
		}

		save(settingsValues(a.Settings, evil.URL), http.StatusSeeOther, "token was dropped")
		if got := stored(); got.BaseURL != evil.URL || got.HasToken {
			t.Fatalf("after a new address: %+v", got)
		}
		r := c.post(page, page+"/test", url.Values{})
		if body := c.get(r.location).body; !strings.Contains(body, "not connected to Dropbox yet") {
			t.Fatalf("test connection without a token:\n%s", body)
		}
		if evil.saw(teamToken) {
			t.Fatal("the stored team token was sent to the new address")
		}

		f := settingsValues(a.Settings, e.emuURL)
		f.Set("token", teamToken)
		save(f, http.StatusSeeOther, "Settings saved.")
		if got := stored(); got.BaseURL != e.emuURL || !got.HasToken {
			t.Fatalf("after a new address with its token: %+v", got)
		}
		r = c.post(page, page+"/test", url.Values{})
		if body := c.get(r.location).body; !strings.Contains(body, "Connection works") {
			t.Fatalf("test connection with the new token:\n%s", body)
		}

		save(settingsValues(a.Settings, "http://example.com"), http.StatusUnprocessableEntity, "only for a loopback address")
		if got := stored(); got.BaseURL != e.emuURL || !got.HasToken {
			t.Fatalf("a refused address changed the app: %+v", got)
		}
		if evil.saw(teamToken) {
			t.Fatal("the team token reached the new address")
		}
	})
}
