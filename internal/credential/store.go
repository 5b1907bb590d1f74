package credential

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
)

// Writer stores an app's pasted, sealed team token.
type Writer interface {
	SetAppCredential(ctx context.Context, by store.Actor, appName string, sealed []byte) error
}

// OAuthWriter stores an app's sealed OAuth tokens.
type OAuthWriter interface {
	SetOAuthToken(ctx context.Context, by store.Actor, appName string, sealedAccess, sealedRefresh []byte, expires time.Time) error
}

// SetAppToken cleans a pasted team token and stores it sealed to the app.
func SetAppToken(ctx context.Context, st Writer, box *secret.Box, by store.Actor, a app.Instance, token string) error {
	token, err := CleanToken(token)
	if err != nil {
		return err
	}
	sealed, err := box.Seal([]byte(token), AppSecretContext(a.ID))
	if err != nil {
		return err
	}
	return st.SetAppCredential(ctx, by, a.Name, sealed)
}

// SetOAuthTokens stores the tokens an OAuth flow or a renewal gave, sealed.
// An empty refresh token is stored as none.
func SetOAuthTokens(ctx context.Context, st OAuthWriter, box *secret.Box, by store.Actor, a app.Instance, tok *oauth2.Token) error {
	access, err := box.Seal([]byte(tok.AccessToken), AppSecretContext(a.ID))
	if err != nil {
		return err
	}
	var refresh []byte
	if tok.RefreshToken != "" {
		if refresh, err = box.Seal([]byte(tok.RefreshToken), OAuthRefreshContext(a.ID)); err != nil {
			return err
		}
	}
	return st.SetOAuthToken(ctx, by, a.Name, access, refresh, tok.Expiry)
}
