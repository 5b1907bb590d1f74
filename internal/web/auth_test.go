package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	r := strings.NewReplacer("{username}", "alice", "{name}", "dropbox", "{action}", "suspend", "{$}", "")
	return r.Replace(pattern)
}

func TestEveryPageNeedsASession(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	c := e.client(t)
	for _, rt := range routes() {
		if rt.open {
			continue
		}
		t.Run(rt.method+" "+rt.pattern, func(t *testing.T) {
			path := concrete(rt.pattern)
			r := c.do(rt.method, path, url.Values{})
			switch rt.method {
			case "GET":
				if r.status != http.StatusSeeOther || r.location != "/signin?next="+url.QueryEscape(path) {
					t.Fatalf("GET %s without a session: %d to %q", path, r.status, r.location)
				}
			default:
				if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not signed in") {
					t.Fatalf("%s %s without a session: %d", rt.method, path, r.status)
				}
			}
		})
	}
	if r := c.get("/no/such/page"); r.status != http.StatusSeeOther {
		t.Fatalf("unknown page without a session: %d", r.status)
	}
	if r := c.get("/static/style.css"); r.status != http.StatusOK {
		t.Fatalf("assets must not need a session: %d", r.status)
	}
}

func TestEveryFormNeedsItsCSRFToken(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		e.addApp(t, "dropbox", false)
		e.addUsers(t, "alice")
		c := e.client(t).signin()
		other := e.client(t).signin() // another session's token must not do either
		foreign := other.csrf("/")
		for _, rt := range routes() {
			if rt.method != "POST" || rt.open {
				continue
			}
			for _, tok := range []string{"", "forged", foreign} {
				path := concrete(rt.pattern)
				form := url.Values{"name": {"x"}, "users": {"alice"}, "app": {"dropbox"}, "user": {"alice"}, "role": {"member"}}
				if tok != "" {
					form.Set("csrf", tok)
				}
				if r := c.do("POST", path, form); r.status != http.StatusForbidden || !strings.Contains(r.body, "security token") {
					t.Fatalf("POST %s with token %q: %d", path, tok, r.status)
				}
			}
		}
		// Nothing the refused forms asked for happened.
		if u, _ := e.st.GetUser(bg, "alice"); u.Status != "active" {
			t.Fatalf("a refused form changed alice: %s", u.Status)
		}
		if gs, _ := e.st.ListGroups(bg, storePage()); len(gs) != 0 {
			t.Fatalf("a refused form created groups: %+v", gs)
		}
		if r := c.get("/"); r.status != http.StatusOK {
			t.Fatalf("session lost after refusals: %d", r.status)
		}
	})
}

func TestSignin(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		tok, hash, err := api.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.CreateToken(bg, actor, "ci", hash); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			form   url.Values
			status int
			actor  string
		}{
			{"password", url.Values{"name": {"ROOT"}, "password": {adminPass}}, http.StatusSeeOther, "root"},
			{"wrong password", url.Values{"name": {adminName}, "password": {adminPass + "x"}}, http.StatusUnauthorized, ""},
			{"unknown admin", url.Values{"name": {"nobody"}, "password": {adminPass}}, http.StatusUnauthorized, ""},
			{"empty", url.Values{}, http.StatusUnauthorized, ""},
			{"api token", url.Values{"token": {tok}}, http.StatusSeeOther, "token:ci"},
			{"unknown token", url.Values{"token": {api.TokenPrefix + "nope"}}, http.StatusUnauthorized, ""},
			{"not a token", url.Values{"token": {"hunter2"}}, http.StatusUnauthorized, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cl := e.client(t)
				r := cl.post("/signin", "/signin", c.form)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
				}
				home := cl.get("/")
				if signedIn := home.status == http.StatusOK; signedIn != (c.actor != "") {
					t.Fatalf("signed in = %v after %s", signedIn, c.name)
				}
				if c.actor != "" && !strings.Contains(home.body, `class="who">`+c.actor+`<`) {
					t.Fatalf("header does not show %s", c.actor)
				}
				if c.actor == "" && !strings.Contains(r.body, badSignin) {
					t.Fatalf("refusal does not say why: %s", r.body)
				}
			})
		}
	})
}

func TestSigninFormNeedsItsToken(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	c := e.client(t)
	c.get("/signin")
	r := c.do("POST", "/signin", url.Values{"name": {adminName}, "password": {adminPass}})
	if r.status != http.StatusForbidden {
		t.Fatalf("sign-in without its token: %d", r.status)
	}
	if c.get("/").status != http.StatusSeeOther {
		t.Fatal("signed in without a CSRF token")
	}
}

func TestSigninSlowsGuessing(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	c := e.client(t)
	for range maxFailures {
		c.post("/signin", "/signin", url.Values{"name": {adminName}, "password": {"wrong guess!"}})
	}
	r := c.post("/signin", "/signin", url.Values{"name": {adminName}, "password": {adminPass}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Too many") {
		t.Fatalf("sign-in after %d failures: %d", maxFailures, r.status)
	}
}

func TestSignoutAndExpiry(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		c := e.client(t).signin()
		u, _ := url.Parse(e.srv.URL)
		old := c.hc.Jar.Cookies(u)
		if r := c.post("/", "/signout", url.Values{}); r.status != http.StatusSeeOther || r.location != "/signin" {
			t.Fatalf("sign-out: %d %s", r.status, r.location)
		}
		c.hc.Jar.SetCookies(u, old) // a copied cookie must not work after sign-out
		if r := c.get("/"); r.status != http.StatusSeeOther {
			t.Fatalf("old cookie after sign-out: %d", r.status)
		}
		c = e.client(t).signin()
		e.ui.opt.Now = func() time.Time { return time.Now().Add(13 * time.Hour) }
		defer func() { e.ui.opt.Now = time.Now }()
		if r := c.get("/"); r.status != http.StatusSeeOther {
			t.Fatalf("expired session: %d", r.status)
		}
	})
}

func TestCookieAttributes(t *testing.T) {
	cases := []struct {
		name       string
		tls        bool
		wantSecure bool
	}{{"plain http", false, false}, {"tls", true, true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, storetest.OpenSQLite)
			form := url.Values{"name": {adminName}, "password": {adminPass}}
			pre := httptest.NewRequest("GET", "/signin", nil)
			if c.tls {
				pre.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			e.ui.Handler().ServeHTTP(w, pre)
			signin := w.Result().Cookies()[0]
			form.Set("csrf", csrfFor(signin.Value))
			req := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(signin)
			req.TLS = pre.TLS
			w = httptest.NewRecorder()
			e.ui.Handler().ServeHTTP(w, req)
			var sess *http.Cookie
			for _, ck := range w.Result().Cookies() {
				if ck.Name == sessionCookie {
					sess = ck
				}
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure != c.wantSecure || sess.Path != "/" {
				t.Fatalf("session cookie = %+v", sess)
			}
			if _, err := e.st.SessionByHash(bg, []byte(sess.Value), time.Now()); err == nil {
				t.Fatal("the session id itself is stored; only its hash may be")
			}
		})
	}
}

// TestSafeNext: the page to go to after sign-in is taken only if it is a
// path on this site; each known trick to leave the site goes home instead.
// Inputs are as the handler sees them, after the form's own decoding.
func TestSafeNext(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/users?q=a", "/users?q=a"},
		{"/apps/dropbox/plan", "/apps/dropbox/plan"},
		{"/users?q=a%2Fb&page=2", "/users?q=a%2Fb&page=2"},
		{"/log#latest", "/log#latest"},
		{"/", "/"},
		{"", "/"},
		{"users", "/"},
		{"./users", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"////evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/users\\..\\..\\evil", "/"},
		{"/\t/evil.example", "/"},   // next=/%09/host
		{"/%09/evil.example", "/"},  // next=/%2509/host
		{"\t//evil.example", "/"},   // a leading tab is dropped by browsers
		{" //evil.example", "/"},    // and so is a leading space
		{"/\n/evil.example", "/"},   // so are newlines inside
		{"/\r\n/evil.example", "/"}, // next=/%0d%0a/host
		{"/%0d%0a/evil.example", "/"},
		{"/x%0d%0aSet-Cookie:%20a=b", "/"},
		{"/x\r\nLocation: //evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/\x7f/evil.example", "/"},
		{"/\u0085/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5c%5cevil.example", "/"},
		{"https://evil.example/", "/"},
		{"https:evil.example", "/"},
		{"https:/evil.example", "/"},
		{"HTTPS://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,<script>alert(1)</script>", "/"},
		{"//user@evil.example/", "/"},
		{"/signin", "/"},
		{"/signin?next=/users", "/"},
		{"/signin/", "/"},
		{"/users/../signin", "/"},
		{"/%zz", "/"},
	}
	for _, c := range cases {
		if got := safeNext(c.in); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSigninRedirectStaysOnSite follows the sign-in form's next field, and
// the sign-in page's next parameter once signed in. The handler is called
// directly: Go's client refuses to read a Location with a control character,
// which a browser would follow.
func TestSigninRedirectStaysOnSite(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	h := e.ui.Handler()
	for _, next := range []string{"/\t/evil.example", "/\\evil.example", "//evil.example", "/%2F/evil.example", "/\r\n/evil.example", "/users?q=a"} {
		want := "/"
		if next == "/users?q=a" {
			want = next
		}
		pre := httptest.NewRecorder()
		h.ServeHTTP(pre, httptest.NewRequest("GET", "/signin", nil))
		signin := pre.Result().Cookies()[0]
		form := url.Values{"name": {adminName}, "password": {adminPass}, "next": {next}, "csrf": {csrfFor(signin.Value)}}
		req := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(signin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != want {
			t.Errorf("sign-in with next=%q went to %q (%d)", next, loc, w.Code)
		}
		var sess *http.Cookie
		for _, ck := range w.Result().Cookies() {
			if ck.Name == sessionCookie {
				sess = ck
			}
		}
		if sess == nil {
			t.Fatalf("no session after sign-in with next=%q", next)
		}
		req = httptest.NewRequest("GET", "/signin?next="+url.QueryEscape(next), nil)
		req.AddCookie(sess)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != want {
			t.Errorf("signed-in GET /signin?next=%q went to %q (%d)", next, loc, w.Code)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword(adminPass)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(adminPass)
	if string(h) == string(h2) || strings.Contains(string(h), adminPass) {
		t.Fatal("hashes must be salted and must not hold the password")
	}
	cases := []struct {
		hash []byte
		pw   string
		ok   bool
		bad  bool
	}{
		{h, adminPass, true, false},
		{h, adminPass + " ", false, false},
		{h, "", false, false},
		{[]byte("$2a$10$bcrypt"), adminPass, false, true},
		{[]byte(strings.Replace(string(h), "m=19456", "m=x", 1)), adminPass, false, true},
		{dummyHash, adminPass, false, false},
	}
	for i, c := range cases {
		ok, err := PasswordMatches(c.hash, c.pw)
		if ok != c.ok || (err != nil) != c.bad {
			t.Errorf("case %d: ok=%v err=%v", i, ok, err)
		}
	}
	for _, pw := range []string{"short", strings.Repeat("x", MaxPasswordLen+1)} {
		if _, err := HashPassword(pw); err == nil {
			t.Errorf("password of %d bytes accepted", len(pw))
		}
	}
}
