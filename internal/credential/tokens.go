package credential

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
)

// TokenStore is what a refreshing token source reads and writes.
type TokenStore interface {
	AppCredential(ctx context.Context, appID int64) ([]byte, error)
	OAuthClient(ctx context.Context, appID int64) (store.OAuthClient, error)
	SetOAuthToken(ctx context.Context, by store.Actor, appName string, sealedAccess, sealedRefresh []byte, expires time.Time) error
}

// refreshEarly renews an access token this long before Dropbox says it expires.
const refreshEarly = 5 * time.Minute

// Tokens hands out an app's access token. For an app connected with
// "Authenticate with Dropbox Business" and offline access, it trades the
// refresh token for a new access token shortly before the old one expires,
// or at once after Dropbox answers expired_access_token (Expired), and
// stores the new one sealed. Dropbox access tokens last four hours.
type Tokens struct {
	st     TokenStore
	box    *secret.Box
	app    app.Instance
	client *http.Client

	mu      sync.Mutex
	access  string
	expires time.Time // zero: no known expiry
	refresh string    // empty: the token cannot be renewed
	cfg     *oauth2.Config
	stale   bool // Dropbox said the token expired
}

// NewTokens reads the app's stored token and, when it has one, its refresh
// token; client makes the renewal calls (nil: one with a 30 s timeout).
func NewTokens(ctx context.Context, st TokenStore, box *secret.Box, a app.Instance, client *http.Client) (*Tokens, error) {
	sealed, err := st.AppCredential(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	access, err := box.Open(sealed, AppSecretContext(a.ID))
	if err != nil {
		return nil, fmt.Errorf("token of app %s: %w", a.Name, err)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	t := &Tokens{st: st, box: box, app: a, client: client, access: string(access)}
	c, err := st.OAuthClient(ctx, a.ID)
	switch {
	case errors.Is(err, directory.ErrNotFound) || (err == nil && len(c.SealedRefresh) == 0):
		return t, nil // a token pasted by hand, or a flow without offline access
	case err != nil:
		return nil, err
	}
	refresh, err := box.Open(c.SealedRefresh, OAuthRefreshContext(a.ID))
	if err != nil {
		return nil, fmt.Errorf("refresh token of app %s: %w", a.Name, err)
	}
	clientSecret, err := box.Open(c.SealedSecret, OAuthSecretContext(a.ID))
	if err != nil {
		return nil, fmt.Errorf("OAuth client secret of app %s: %w", a.Name, err)
	}
	t.refresh, t.expires = string(refresh), c.TokenExpires
	t.cfg = &oauth2.Config{ClientID: c.ClientID, ClientSecret: string(clientSecret), Endpoint: Endpoint(a.BaseURL)}
	return t, nil
}

// Renewable says whether the token can be renewed.
func (t *Tokens) Renewable() bool { return t.refresh != "" }

// Expired records that Dropbox refused the token as expired; the next Token renews it.
func (t *Tokens) Expired() {
	t.mu.Lock()
	t.stale = true
	t.mu.Unlock()
}

// Token returns a valid access token, renewing it first when it is due.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	due := t.stale || (!t.expires.IsZero() && time.Until(t.expires) < refreshEarly)
	if t.refresh == "" || !due {
		return t.access, nil
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.client)
	tok, err := t.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return "", renewError(t.app.Name, err)
	}
	if tok.RefreshToken != "" {
		t.refresh = tok.RefreshToken
	}
	if err := t.store(ctx, tok); err != nil {
		return "", err
	}
	t.access, t.expires, t.stale = tok.AccessToken, tok.Expiry, false
	return t.access, nil
}

// store seals and saves the renewed token, so other processes and restarts use it.
func (t *Tokens) store(ctx context.Context, tok *oauth2.Token) error {
	renewed := *tok
	renewed.RefreshToken = t.refresh
	if err := SetOAuthTokens(context.WithoutCancel(ctx), t.st, t.box, "roster", t.app, &renewed); err != nil {
		return fmt.Errorf("store the renewed token of app %s: %w", t.app.Name, err)
	}
	return nil
}

// renewError keeps Dropbox's own error code and says what the admin can do.
func renewError(appName string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("renew the Dropbox token of app %s: Dropbox refused the refresh token: %s %s; authenticate with Dropbox Business again",
			appName, re.ErrorCode, re.ErrorDescription)
	}
	return fmt.Errorf("renew the Dropbox token of app %s: %w", appName, err)
}
