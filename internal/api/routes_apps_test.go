package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// newTokenEnv is an API whose connector uses each app's stored token, as
// `roster serve` wires it.
func newTokenEnv(t *testing.T, open func(testing.TB) *sqlstore.DB) *env {
	st := open(t)
	box, err := secret.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	connect := func(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		sealed, err := st.AppCredential(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		tok, err := box.Open(sealed, credential.AppSecretContext(a.ID))
		if err != nil {
			return nil, err
		}
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: string(tok), Pacer: p}), nil
	}
	srv := httptest.NewServer(api.New(st, box, slog.New(slog.NewJSONHandler(io.Discard, nil)), api.Options{Connect: connect}).Handler())
	t.Cleanup(srv.Close)
	tok, hash, err := credential.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
		t.Fatal(err)
	}
	return &env{t, srv, st, box, tok, &bytes.Buffer{}}
}

// attacker is a host an admin might point an app at: it records every
// Authorization header it is sent.
type attacker struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newAttacker(t *testing.T) *attacker {
	a := &attacker{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"name":"stolen","team_id":"dbtid:x","num_licensed_users":1,"num_provisioned_users":1}`)
	}))
	t.Cleanup(a.Close)
	return a
}

// saw reports whether any request to the attacker carried token.
func (a *attacker) saw(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range a.auth {
		if strings.Contains(h, token) {
			return true
		}
	}
	return false
}

type appOut struct {
	BaseURL  string `json:"base_url"`
	HasToken bool   `json:"has_token"`
}

// An admin who changes base_url must enter the token again: the stored team
// token never goes to the new host, not by Test connection nor by the check
// of transfer settings; plain http is only for loopback addresses.
func TestBaseURLChangeDropsToken(t *testing.T) {
	const teamToken = "sl.TEAM-token-1"
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			_, emuURL := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: teamToken, AdminEmail: "it@corp.example"}}})
			evil := newAttacker(t)
			e := newTokenEnv(t, b.Open)
			var a appOut
			var er apiErr
			e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx", "base_url": emuURL, "token": teamToken}, http.StatusCreated, &a)
			e.call("POST", "/api/v1/apps/dbx/test", nil, http.StatusOK, nil)

			// Transfer accounts are checked with Dropbox when saved: not with
			// the old token at the new host.
			transfer := map[string]any{"deactivation": map[string]any{"type": "remove", "file_management": "transfer",
				"transfer_dest_email": "keeper@corp.example", "transfer_admin_email": "it@corp.example"}}
			e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"base_url": evil.URL, "settings": transfer}, http.StatusBadRequest, &er)
			if !strings.Contains(er.Error.Message, "base_url") {
				t.Fatalf("base_url with transfer settings: %+v", er)
			}
			if e.call("GET", "/api/v1/apps/dbx", nil, http.StatusOK, &a); a.BaseURL != emuURL || !a.HasToken {
				t.Fatalf("a refused change was saved: %+v", a)
			}

			e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"base_url": evil.URL}, http.StatusOK, &a)
			if a.BaseURL != evil.URL || a.HasToken {
				t.Fatalf("after a new base_url without a token: %+v", a)
			}
			e.call("POST", "/api/v1/apps/dbx/test", nil, http.StatusBadRequest, &er)
			if !strings.Contains(er.Error.Message, "token") {
				t.Fatalf("test connection without a token: %+v", er)
			}
			if evil.saw(teamToken) {
				t.Fatal("the stored team token was sent to the new base URL")
			}

			// A token given with the new base_url is the one kept.
			e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"base_url": emuURL + "/", "token": teamToken}, http.StatusOK, &a)
			if a.BaseURL != emuURL || !a.HasToken {
				t.Fatalf("after a new base_url with a token: %+v", a)
			}
			e.call("POST", "/api/v1/apps/dbx/test", nil, http.StatusOK, nil)
			e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"provisioning": true}}, http.StatusOK, &a)
			if !a.HasToken {
				t.Fatal("a change of settings dropped the token")
			}

			for _, bad := range []string{"http://example.com", "http://169.254.169.254", "http://10.1.2.3:8080"} {
				e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"base_url": bad}, http.StatusBadRequest, &er)
				if !strings.Contains(er.Error.Message, "only for a loopback address") || !strings.Contains(er.Error.Message, "https") {
					t.Fatalf("%s: %+v", bad, er)
				}
				e.call("POST", "/api/v1/apps", map[string]any{"name": "other", "base_url": bad}, http.StatusBadRequest, &er)
			}
			if e.call("GET", "/api/v1/apps/dbx", nil, http.StatusOK, &a); a.BaseURL != emuURL || !a.HasToken {
				t.Fatalf("a refused base_url changed the app: %+v", a)
			}
			if evil.saw(teamToken) {
				t.Fatal("the team token reached the attacker")
			}
		})
	}
}

// The API checks an app against the kinds the server supports, now that the
// store knows no kinds: an unknown kind is refused with its reason, and
// nothing is stored.
func TestCreateAppUnknownKind(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	var er struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	e.call("POST", "/api/v1/apps", map[string]any{"name": "boxy", "kind": "box", "base_url": "http://127.0.0.1:9/"}, 400, &er)
	if !strings.Contains(er.Error.Message, `app kind "box" is not supported (only "dropbox")`) {
		t.Errorf("refusal %+v", er)
	}
	if _, err := e.st.GetApp(t.Context(), "boxy"); err == nil {
		t.Error("an app of an unknown kind was stored")
	}
}
