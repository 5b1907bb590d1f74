package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

var bg = context.Background()

const (
	team         = "acme"
	teamToken    = "acme-team-token"
	teamAdmin    = "it-admin@acme.example"
	oauthClient  = "roster-ui"
	oauthSecret  = "ui-client-secret-7f3a"
	adminName    = "root"
	adminPass    = "correct horse battery"
	keeper       = "keeper@acme.example"
	actor        = store.Actor("test")
	testPassword = adminPass
)

// env is a Roster (API and UI, as `roster serve` mounts them) beside a
// Dropbox emulator, on one store backend.
type env struct {
	st     *sqlstore.DB
	box    *secret.Box
	emu    *emu.Server
	emuURL string
	ui     *Server
	srv    *httptest.Server
}

func testBox(t testing.TB) *secret.Box {
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func newEnv(t testing.TB, open func(testing.TB) *sqlstore.DB, tune ...func(*Options)) *env {
	t.Helper()
	e := &env{st: open(t), box: testBox(t)}
	var err error
	e.emu, err = emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: team, Token: teamToken, AdminEmail: teamAdmin}},
		OAuthClients: map[string]string{oauthClient: oauthSecret}})
	if err != nil {
		t.Fatal(err)
	}
	es := httptest.NewServer(e.emu)
	t.Cleanup(func() { es.Close(); _ = e.emu.Close() })
	e.emuURL = es.URL
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	connect := testConnect(e.st, e.box)
	eng := engine.New(e.st, connect, log, engine.Config{BaseBackoff: 1, MaxAttempts: 2})
	// Syncs run as in an API-only process of a fleet: only while no worker holds the app's lane.
	run := engine.LaneRunner{Engine: eng, Fleet: e.st}
	opt := Options{Engine: eng, Runner: run, Connect: connect, Importer: importer.New(e.st, connect, log)}
	for _, f := range tune {
		f(&opt)
	}
	e.ui, err = New(e.st, e.box, log, opt)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(e.st, e.box, log, api.Options{Engine: eng, Runner: run, Connect: connect}).Handler())
	mux.Handle("/", e.ui.Handler())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	hash, err := HashPassword(adminPass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateAdmin(bg, actor, adminName, hash); err != nil {
		t.Fatal(err)
	}
	return e
}

// testConnect is what cmd/roster wires: the app's sealed token, opened here.
func testConnect(st store.Store, box *secret.Box) engine.Connect {
	return func(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
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
}

// addApp creates an app pointed at the emulator, with the team token pasted.
func (e *env) addApp(t testing.TB, name string, provisioning bool) app.Instance {
	t.Helper()
	a := app.Instance{Name: name, Kind: app.KindDropbox, BaseURL: e.emuURL, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = provisioning
	if err := e.st.CreateApp(bg, actor, &a); err != nil {
		t.Fatal(err)
	}
	sealed, err := e.box.Seal([]byte(teamToken), credential.AppSecretContext(a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetAppCredential(bg, actor, name, sealed); err != nil {
		t.Fatal(err)
	}
	a.HasToken = true
	return a
}

func (e *env) addUsers(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		u := directory.User{Username: n, Email: n + "@acme.example", FirstName: strings.ToUpper(n[:1]) + n[1:], LastName: "Tester"}
		if err := e.st.CreateUser(bg, actor, &u); err != nil {
			t.Fatal(err)
		}
	}
}

// client is a browser without JavaScript: a cookie jar, no redirects followed.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status     int
	location   string
	body       string
	retryAfter string
}

func (c *client) do(method, path string, form url.Values) resp {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header.Get("Location"), string(b), res.Header.Get("Retry-After")}
}

func (c *client) get(path string) resp { return c.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the token from a page's forms.
func (c *client) csrf(path string) string {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get(path).body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// post submits a form with the CSRF token of the page it comes from.
func (c *client) post(from, path string, form url.Values) resp {
	c.t.Helper()
	form.Set("csrf", c.csrf(from))
	return c.do("POST", path, form)
}

// signin signs in as the test admin and returns the client.
func (c *client) signin() *client {
	c.t.Helper()
	r := c.post("/signin", "/signin", url.Values{"name": {adminName}, "password": {adminPass}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	return c
}

func backends(t *testing.T, fn func(*testing.T, func(testing.TB) *sqlstore.DB)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open) })
	}
}

func storePage() store.Page { return store.Page{Limit: 100} }

func storeAssign(group string) store.AssignmentFilter { return store.AssignmentFilter{Group: group} }

// hcHeader fetches path and returns one header of the answer.
func (c *client) hcHeader(path, name string) string {
	c.t.Helper()
	res, err := c.hc.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	return res.Header.Get(name)
}
