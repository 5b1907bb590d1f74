package credential

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// SourceTokenPrefix starts every bearer token a directory source (a SCIM
// client) presents, so a leaked one is recognisable and never mistaken for
// an admin token: it opens /scim/v2 only, as its source.
const SourceTokenPrefix = "rss_"

// NewSourceToken makes a random source token; only its hash is ever stored.
func NewSourceToken() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	tok := SourceTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, HashToken(tok), nil
}

// LooksLikeSourceToken says whether tok may be a source token, before any lookup.
func LooksLikeSourceToken(tok string) bool {
	return strings.HasPrefix(tok, SourceTokenPrefix) && len(tok) <= 200
}

// SourceSecretContext binds a source's sealed secret (an LDAP bind
// password) to that source, by its name: a source is never renamed, and its
// secret goes with it when it is removed.
func SourceSecretContext(name string) string { return "source:" + name }
