package dropbox

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func newOAuthEnv(t *testing.T) *env {
	return newEnv(t, func(o *Options) { o.OAuthClients = map[string]string{"app": "s3cret"} })
}

// authorize opens the authorize page and returns the redirect (or the page).
func (e *env) authorize(q url.Values) (*http.Response, string) {
	e.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(e.url + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) code(scope, access string) string {
	e.t.Helper()
	res, body := e.authorize(url.Values{"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"http://ui.example/cb?x=1"},
		"state": {"st-1"}, "scope": {scope}, "token_access_type": {access}})
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != "st-1" || loc.Query().Get("x") != "1" || loc.Host != "ui.example" {
		e.t.Fatalf("authorize: %d %v %s", res.StatusCode, res.Header, body)
	}
	return loc.Query().Get("code")
}

func (e *env) tokenCall(form url.Values, basic bool) resp {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("app", "s3cret")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}
}

func TestOAuthCodeFlow(t *testing.T) {
	e := newOAuthEnv(t)
	code := e.code("members.read team_info.read", "offline")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://ui.example/cb?x=1"}}
	r := e.tokenCall(form, true)
	e.ids["team"] = e.team.ID()
	e.expectResp(t, r, 200, `{"access_token":"~^sl\\.u\\.","token_type":"bearer","expires_in":14400,"refresh_token":"~.{20,}",
		"scope":"members.read team_info.read","uid":"","team_id":"{team}"}`)
	var tok struct{ AccessToken, RefreshToken string }
	tok.AccessToken = regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(r.body)[1]
	tok.RefreshToken = regexp.MustCompile(`"refresh_token":"([^"]+)"`).FindStringSubmatch(r.body)[1]

	if r := e.do("POST", "/2/team/get_info", tok.AccessToken, "", ""); r.status != 200 {
		t.Errorf("issued token refused: %s", r)
	}
	e.expectResp(t, e.do("POST", "/2/team/groups/list", tok.AccessToken, "application/json", "{}"), 401,
		`{"error_summary":"missing_scope/..","error":{".tag":"missing_scope","required_scope":"groups.read"}}`)
	if r := e.tokenCall(form, true); r.status != 400 { // a code is good once
		t.Errorf("code reused: %s", r)
	} else {
		matchJSON(t, r.body, `{"error":"invalid_grant","error_description":"*"}`)
	}

	// The token lives 4 hours of emulator time; the refresh token renews it.
	e.srv.Advance(4 * time.Hour)
	e.expectResp(t, e.do("POST", "/2/team/get_info", tok.AccessToken, "", ""), 401, `{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}`)
	r = e.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"app"}, "client_secret": {"s3cret"}}, false)
	e.expectResp(t, r, 200, `{"access_token":"~^sl\\.u\\.","token_type":"bearer","expires_in":14400,"scope":"members.read team_info.read","uid":"","team_id":"{team}"}`)
	fresh := regexp.MustCompile(`"access_token":"([^"]+)"`).FindStringSubmatch(r.body)[1]
	if r := e.do("POST", "/2/team/get_info", fresh, "", ""); r.status != 200 {
		t.Errorf("refreshed token refused: %s", r)
	}
	// Revoked, it stops working; a refresh token is not an access token.
	if r := e.do("POST", "/2/auth/token/revoke", fresh, "", ""); r.status != 200 || strings.TrimSpace(r.body) != "null" {
		t.Errorf("revoke: %s", r)
	}
	for _, tk := range []string{fresh, tok.RefreshToken} {
		e.expectResp(t, e.do("POST", "/2/team/get_info", tk, "", ""), 401, `{"error_summary":"invalid_access_token/..","error":{".tag":"invalid_access_token"}}`)
	}
}

func TestOAuthErrors(t *testing.T) {
	e := newOAuthEnv(t)
	q := func(kv ...string) url.Values {
		v := url.Values{"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"http://ui.example/cb"}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for name, v := range map[string]url.Values{
		"implicit flow":     q("response_type", "token"),
		"unknown client":    q("client_id", "nope"),
		"unknown scope":     q("scope", "files.read"),
		"unknown team":      q("team", "ghost"),
		"relative redirect": q("redirect_uri", "/cb"),
	} {
		if res, body := e.authorize(v); res.StatusCode != 400 {
			t.Errorf("%s: %d %s", name, res.StatusCode, body)
		}
	}
	// Without a redirect the page shows the code to paste.
	res, body := e.authorize(url.Values{"client_id": {"app"}, "response_type": {"code"}})
	m := regexp.MustCompile(`<code id="code">([^<]+)</code>`).FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("no-redirect page: %d %s", res.StatusCode, body)
	}
	// Online access: no refresh token; all scopes by default.
	r := e.tokenCall(url.Values{"grant_type": {"authorization_code"}, "code": {m[1]}}, true)
	e.expectResp(t, r, 200, `{"access_token":"*","token_type":"bearer","expires_in":14400,
		"scope":"groups.read groups.write members.delete members.read members.write team_info.read","uid":"","team_id":"*"}`)

	code := e.code("", "offline")
	for name, tc := range map[string]struct {
		form  url.Values
		basic bool
		want  string
	}{
		"wrong secret":      {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"app"}, "client_secret": {"x"}}, false, "invalid_client"},
		"no credentials":    {url.Values{"grant_type": {"authorization_code"}, "code": {code}}, false, "invalid_client"},
		"unknown code":      {url.Values{"grant_type": {"authorization_code"}, "code": {"zzz"}}, true, "invalid_grant"},
		"bad grant type":    {url.Values{"grant_type": {"password"}}, true, "unsupported_grant_type"},
		"bad refresh token": {url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"zzz"}}, true, "invalid_grant"},
	} {
		r := e.tokenCall(tc.form, tc.basic)
		if r.status != 400 || !strings.Contains(r.body, `"error":"`+tc.want+`"`) {
			t.Errorf("%s: %s", name, r)
		}
	}
	// The code still works after those failures, but only with its redirect_uri.
	r = e.tokenCall(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://evil.example/cb"}}, true)
	if r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("redirect mismatch: %s", r)
	}
}
