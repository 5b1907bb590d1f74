package dropbox

import (
	"crypto/subtle"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The OAuth 2 authorization-code pair (reference §2.1), for a web UI to
// connect a team. The authorize page approves at once, as a team admin
// clicking "Allow" would, and redirects back with a code; the token endpoint
// exchanges it for a team access token (4 h of emulator time) and, with
// token_access_type=offline, a refresh token.

const (
	accessTokenLife = 4 * time.Hour
	codeLife        = 10 * time.Minute
)

type authCode struct {
	Team     string
	Client   string
	Redirect string
	Scopes   []string // nil: all
	Offline  bool
	Expires  time.Time
}

func (s *Server) oauthRoutes() {
	s.mux.HandleFunc("GET /oauth2/authorize", s.oauthAuthorize)
	s.mux.HandleFunc("POST /oauth2/token", s.oauthToken)
	s.mux.HandleFunc("POST /2/auth/token/revoke", s.oauthRevoke)
}

// AddOAuthClient registers (or replaces) an OAuth 2 client.
func (s *Server) AddOAuthClient(id, secret string) {
	s.mu.Lock()
	s.clients[id] = secret
	s.mu.Unlock()
	s.changed()
}

func (s *Server) clientOK(id, secret string, checkSecret bool) bool {
	s.mu.RLock()
	want, ok := s.clients[id]
	s.mu.RUnlock()
	return ok && (!checkSecret || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1)
}

// oauthAuthorize is GET /oauth2/authorize. The emulator's own query
// parameter "team" picks whose admin signs in; default the first team by name.
func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ac := authCode{Client: q.Get("client_id"), Redirect: q.Get("redirect_uri"), Team: q.Get("team"),
		Offline: q.Get("token_access_type") == "offline", Expires: s.now().Add(codeLife)}
	if ac.Team == "" {
		if ts := s.allTeams(); len(ts) > 0 {
			ac.Team = ts[0].name
		}
	}
	var err error
	ac.Scopes, err = parseScopes(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		writeText(w, http.StatusBadRequest, "Invalid response_type: must be \"code\"")
	case !s.clientOK(ac.Client, "", false):
		writeText(w, http.StatusBadRequest, "Invalid client_id: "+ac.Client)
	case err != nil:
		writeText(w, http.StatusBadRequest, err.Error())
	case s.Team(ac.Team) == nil:
		writeText(w, http.StatusBadRequest, "No team "+ac.Team)
	case ac.Redirect != "" && !absoluteURL(ac.Redirect):
		writeText(w, http.StatusBadRequest, "Invalid redirect_uri: must be an absolute URL")
	default:
		s.grantCode(w, r, ac, q.Get("state"))
	}
}

func (s *Server) grantCode(w http.ResponseWriter, r *http.Request, ac authCode, state string) {
	code := randomString(43)
	s.mu.Lock()
	s.codes[code] = ac
	s.mu.Unlock()
	if ac.Redirect == "" { // no-redirect flow: the page shows the code to paste
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Dropbox emulator</title><p>Enter this code into your app:</p><p><code id=\"code\">%s</code></p>", html.EscapeString(code))
		return
	}
	back, _ := url.Parse(ac.Redirect)
	v := back.Query()
	v.Set("code", code)
	if state != "" {
		v.Set("state", state)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

func parseScopes(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := strings.Fields(s)
	for _, sc := range out {
		if !slices.Contains(AllScopes(), sc) {
			return nil, fmt.Errorf("invalid scope: %s", sc)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// oauthToken is POST /oauth2/token; client credentials come by basic auth or form.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "cannot read the form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !s.clientOK(id, secret, true) {
		oauthError(w, "invalid_client", "Invalid client_id or client_secret")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r, id)
	case "refresh_token":
		s.refreshGrant(w, r, id)
	default:
		oauthError(w, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request, client string) {
	code := r.PostForm.Get("code")
	s.mu.Lock()
	ac, ok := s.codes[code]
	delete(s.codes, code) // a code is good once
	s.mu.Unlock()
	switch {
	case !ok || ac.Client != client || !s.now().Before(ac.Expires):
		oauthError(w, "invalid_grant", "code doesn't exist or has expired")
	case ac.Redirect != r.PostForm.Get("redirect_uri"):
		oauthError(w, "invalid_grant", "redirect_uri mismatch")
	default:
		s.issue(w, token{Team: ac.Team, Scopes: ac.Scopes, Client: client}, ac.Offline)
	}
}

func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request, client string) {
	s.mu.RLock()
	rt, ok := s.refresh[r.PostForm.Get("refresh_token")]
	s.mu.RUnlock()
	if !ok || rt.Client != client {
		oauthError(w, "invalid_grant", "refresh token is invalid or revoked")
		return
	}
	s.issue(w, token{Team: rt.Team, Scopes: rt.Scopes, Client: client}, false)
}

// issue makes an access token (and, when asked, a refresh token) for a team.
func (s *Server) issue(w http.ResponseWriter, grant token, withRefresh bool) {
	access, refresh := "sl.u."+randomString(64), randomString(64)
	at := grant
	at.ExpiresAt = s.now().Add(accessTokenLife)
	s.mu.Lock()
	s.tokens[access] = &at
	if withRefresh {
		rt := grant
		s.refresh[refresh] = &rt
	}
	t := s.teams[grant.Team]
	s.mu.Unlock()
	s.changed()
	scopes := grant.Scopes
	if scopes == nil {
		scopes = AllScopes()
	}
	out := map[string]any{"access_token": access, "token_type": "bearer", "expires_in": int(accessTokenLife.Seconds()),
		"scope": strings.Join(scopes, " "), "uid": "", "team_id": t.id}
	if withRefresh {
		out["refresh_token"] = refresh
	}
	writeJSON(w, http.StatusOK, out)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

// oauthRevoke is /2/auth/token/revoke: the bearer token stops working.
func (s *Server) oauthRevoke(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	_, known := s.tokens[tok]
	delete(s.tokens, tok)
	s.mu.Unlock()
	if !ok || !known {
		authError(w, map[string]any{".tag": "invalid_access_token"})
		return
	}
	s.changed()
	writeJSON(w, http.StatusOK, nil)
}
