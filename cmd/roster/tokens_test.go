package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// An app connected with "Authenticate with Dropbox Business" keeps working
// after its four-hour access token expires: the connector renews it with the
// refresh token and stores the new one. A token set by hand afterwards is
// used as it is.
func TestOAuthTokenIsRenewed(t *testing.T) {
	ctx := context.Background()
	s, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}, OAuthClients: map[string]string{"cid": "csecret"}})
	st := storetest.OpenSQLite(t)
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
	if err := st.CreateApp(ctx, "t", &a); err != nil {
		t.Fatal(err)
	}
	authenticate(t, st, box, a, base)
	before, _ := st.AppCredential(ctx, a.ID)
	connect := newConnect(st, box, slog.New(slog.NewTextHandler(io.Discard, nil)))
	conn, err := connect(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.TeamInfo(ctx); err != nil {
		t.Fatalf("with the token from the flow: %v", err)
	}
	s.Advance(5 * time.Hour) // past the access token's four hours
	if _, err := conn.TeamInfo(ctx); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	after, _ := st.AppCredential(ctx, a.ID)
	if string(after) == string(before) {
		t.Fatal("the renewed token was not stored")
	}
	// A new connector (a restart, another worker) starts from the stored one.
	if conn, err = connect(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.TeamInfo(ctx); err != nil {
		t.Fatalf("with the stored renewed token: %v", err)
	}
	// A token pasted by hand ends the renewals.
	sealed, _ := box.Seal([]byte("tok"), credential.AppSecretContext(a.ID))
	if err := st.SetAppCredential(ctx, "t", "dbx", sealed); err != nil {
		t.Fatal(err)
	}
	if c, err := st.OAuthClient(ctx, a.ID); err != nil || len(c.SealedRefresh) != 0 {
		t.Fatalf("refresh token kept after a token was set by hand: %v", err)
	}
	if conn, err = connect(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.TeamInfo(ctx); err != nil {
		t.Fatalf("with the token set by hand: %v", err)
	}
}

// authenticate runs the OAuth code flow against the emulator, as the web UI
// does, and stores the app's tokens.
func authenticate(t *testing.T, st *sqlstore.DB, box *secret.Box, a app.Instance, base string) {
	t.Helper()
	ctx := context.Background()
	sealed, _ := box.Seal([]byte("csecret"), credential.OAuthSecretContext(a.ID))
	if err := st.SetOAuthClient(ctx, "t", a.Name, "cid", sealed); err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "cid", ClientSecret: "csecret", Endpoint: credential.Endpoint(base), RedirectURL: "http://127.0.0.1/cb"}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.AuthCodeURL("state", oauth2.SetAuthURLParam("token_access_type", "offline")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v (refresh token %v)", err, tok != nil && tok.RefreshToken != "")
	}
	access, _ := box.Seal([]byte(tok.AccessToken), credential.AppSecretContext(a.ID))
	refresh, _ := box.Seal([]byte(tok.RefreshToken), credential.OAuthRefreshContext(a.ID))
	if err := st.SetOAuthToken(ctx, "t", a.Name, access, refresh, tok.Expiry); err != nil {
		t.Fatal(err)
	}
}
