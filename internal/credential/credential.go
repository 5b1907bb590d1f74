// Package credential holds Roster's secrets handling in one place: admin API
// tokens (made, hashed, recognised), an app's sealed team token and OAuth
// client, and the token source that renews an OAuth token before it
// expires. The API, the web UI and the workers all use it; none of them
// owns it.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/directory"
)

// TokenPrefix starts every Roster admin token, so a leaked one is recognisable.
const TokenPrefix = "rst_"

// NewToken makes a random admin token; only its hash is ever stored.
func NewToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, HashToken(tok), nil
}

// HashToken is how tokens are stored: high-entropy tokens need no slow hash.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// LooksLikeToken says whether tok may be an admin token, before any lookup.
func LooksLikeToken(tok string) bool {
	return strings.HasPrefix(tok, TokenPrefix) && len(tok) <= 200
}

// CleanToken trims a pasted team access token and refuses one that cannot be a token.
func CleanToken(token string) (string, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 4096 || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("%w: the token must be 1–4096 characters with no spaces", directory.ErrInvalid)
	}
	return token, nil
}

// AppSecretContext binds an app's sealed credential to that app.
func AppSecretContext(appID int64) string { return "app:" + strconv.FormatInt(appID, 10) }

// OAuthSecretContext and OAuthRefreshContext bind an app's sealed OAuth
// client secret and refresh token to that app.
func OAuthSecretContext(appID int64) string {
	return "app-oauth-secret:" + strconv.FormatInt(appID, 10)
}

// OAuthRefreshContext: see OAuthSecretContext.
func OAuthRefreshContext(appID int64) string {
	return "app-oauth-refresh:" + strconv.FormatInt(appID, 10)
}

// Endpoint returns the OAuth endpoints of the Dropbox an app points at: the
// real one splits them over two hosts; an emulator serves both itself.
func Endpoint(baseURL string) oauth2.Endpoint {
	if baseURL == app.DefaultDropboxURL {
		return oauth2.Endpoint{AuthURL: "https://www.dropbox.com/oauth2/authorize", TokenURL: app.DefaultDropboxURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}
	}
	return oauth2.Endpoint{AuthURL: baseURL + "/oauth2/authorize", TokenURL: baseURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}
}
