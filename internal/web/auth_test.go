package web

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	r := strings.NewReplacer("{username}", "alice", "{name}", "dropbox", "{action}", "suspend", "{id}", "nojob", "{$}", "")
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
		tok, hash, err := credential.NewToken()
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
			{"unknown token", url.Values{"token": {credential.TokenPrefix + "nope"}}, http.StatusUnauthorized, ""},
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

// clock is a settable time for the sign-in delays, so tests need not sleep.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// stopClock makes e's UI run on a clock that moves only when told.
func stopClock(e *env) *clock {
	c := &clock{now: time.Now()}
	e.ui.opt.Now = c.Now
	return c
}

// clientFrom is a client whose connections come from source, a loopback address.
func (e *env) clientFrom(t testing.TB, source string) *client {
	c := e.client(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	c.hc.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// retryAfter is a refusal's Retry-After, failing the test unless r is a 429 that says to wait.
func retryAfter(t *testing.T, r resp, what string) time.Duration {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.retryAfter == "" || !strings.Contains(r.body, "Wait") && !strings.Contains(r.body, "busy") {
		t.Fatalf("%s: %d, Retry-After %q, want 429 saying to wait", what, r.status, r.retryAfter)
	}
	n, err := strconv.Atoi(r.retryAfter)
	if err != nil || n < 1 {
		t.Fatalf("%s: Retry-After %q", what, r.retryAfter)
	}
	return time.Duration(n) * time.Second
}

func guess(c *client, name, pw string) resp {
	return c.post("/signin", "/signin", url.Values{"name": {name}, "password": {pw}})
}

// racePosts sends one sign-in per form at once, each from its own client
// (own connection and sign-in cookie) from source, and returns the answers.
func racePosts(t *testing.T, e *env, source string, forms []url.Values) []resp {
	cs := make([]*client, len(forms))
	tokens := make([]string, len(forms))
	for i := range forms {
		cs[i] = e.clientFrom(t, source)
		tokens[i] = cs[i].csrf("/signin")
	}
	out := make([]resp, len(forms))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, form := range forms {
		form.Set("csrf", tokens[i])
		wg.Go(func() {
			<-start
			out[i] = cs[i].do("POST", "/signin", form)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkedOf counts the answers whose password was checked (and was wrong);
// every other answer must be a refusal with Retry-After.
func checkedOf(t *testing.T, rs []resp) int {
	t.Helper()
	n := 0
	for _, r := range rs {
		if r.status == http.StatusUnauthorized && strings.Contains(r.body, badSignin) {
			n++
			continue
		}
		retryAfter(t, r, "a refused guess")
	}
	return n
}

// failGuesses makes n wrong guesses for the admin that are checked, moving
// the clock on as each refusal says.
func failGuesses(t *testing.T, clk *clock, c *client, n int) {
	t.Helper()
	for n > 0 {
		r := guess(c, adminName, "a wrong guess")
		if r.status == http.StatusUnauthorized {
			n--
			continue
		}
		clk.add(retryAfter(t, r, "a guess"))
	}
}

// TestSigninCountsGuessesBeforeChecking: 60 wrong passwords sent at once for
// one admin are counted as they start, so only the free three are checked.
func TestSigninCountsGuessesBeforeChecking(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		stopClock(e)
		forms := make([]url.Values, 60)
		for i := range forms {
			forms[i] = url.Values{"name": {adminName}, "password": {"wrong guess " + strconv.Itoa(i)}}
		}
		if n := checkedOf(t, racePosts(t, e, "127.0.0.1", forms)); n < 1 || n > 3 {
			t.Fatalf("%d of 60 parallel guesses were checked, want at most 3", n)
		}
	})
}

// TestSigninFloodFromOneAddressIsThrottled: made-up names sent at once from
// one address are throttled by the address before any hashing, beyond its
// five free failures.
func TestSigninFloodFromOneAddressIsThrottled(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	stopClock(e)
	forms := make([]url.Values, 30)
	for i := range forms {
		forms[i] = url.Values{"name": {"ghost-" + strconv.Itoa(i)}, "password": {"not the password"}}
	}
	if n := checkedOf(t, racePosts(t, e, "127.0.0.1", forms)); n < 1 || n > 5 {
		t.Fatalf("%d of 30 parallel sign-ins from one address were checked, want at most 5", n)
	}
}

// TestSigninDelayDoubles: after three free failures each guess waits twice
// as long as the one before, up to 15 minutes; the right password, once the
// wait is over, signs in and clears the count.
func TestSigninDelayDoubles(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	clk := stopClock(e)
	c := e.client(t)
	for i := range 3 {
		if r := guess(c, adminName, "wrong guess!"); r.status != http.StatusUnauthorized {
			t.Fatalf("free guess %d: %d", i+1, r.status)
		}
	}
	var waits []time.Duration
	for range 12 {
		d := retryAfter(t, guess(c, adminName, "wrong guess!"), "a guess after failures")
		waits = append(waits, d)
		clk.add(d - time.Millisecond)
		retryAfter(t, guess(c, adminName, adminPass), "the right password before the wait is over")
		clk.add(time.Millisecond)
		if r := guess(c, adminName, "wrong guess!"); r.status != http.StatusUnauthorized {
			t.Fatalf("a guess after waiting %v: %d", d, r.status)
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900}
	for i := range want {
		want[i] *= time.Second
	}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	clk.add(15 * time.Minute)
	if r := guess(c, adminName, adminPass); r.status != http.StatusSeeOther {
		t.Fatalf("the right password after the wait: %d %s", r.status, r.body)
	}
	c = e.client(t)
	for i := range 3 {
		if r := guess(c, adminName, "wrong again"); r.status != http.StatusUnauthorized {
			t.Fatalf("free guess %d after signing in: %d", i+1, r.status)
		}
	}
}

// TestSigninOthersCannotLockTheAdminOut: guesses from elsewhere delay the
// admin on a new browser by the account's delay only, and not at all on a
// browser the admin signed in with before, even from the guesser's address.
func TestSigninOthersCannotLockTheAdminOut(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *sqlstore.DB) {
		e := newEnv(t, open)
		clk := stopClock(e)
		attacker := e.clientFrom(t, "127.0.2.1")
		fail := func(n int) { failGuesses(t, clk, attacker, n) }
		fail(5)
		owner := e.clientFrom(t, "127.0.3.1")
		d := retryAfter(t, guess(owner, adminName, adminPass), "the admin on a new browser after 5 failures by others")
		if d != 4*time.Second {
			t.Fatalf("the admin waits %v after 5 failures, want the account's 4s", d)
		}
		clk.add(d)
		if r := guess(owner, adminName, adminPass); r.status != http.StatusSeeOther {
			t.Fatalf("the admin after waiting: %d", r.status)
		}
		owner.post("/", "/signout", url.Values{}) // the browser keeps its device cookie

		fail(20) // the account now waits 15 minutes between guesses
		if r := guess(owner, adminName, adminPass); r.status != http.StatusSeeOther {
			t.Fatalf("the admin on a known browser during the attack: %d %s", r.status, r.body)
		}
		owner.post("/", "/signout", url.Values{})
		u, _ := url.Parse(e.srv.URL + "/signin")
		behindProxy := e.clientFrom(t, "127.0.2.1") // the admin's browser, from the attacker's address
		behindProxy.hc.Jar.SetCookies(u, owner.hc.Jar.Cookies(u))
		if r := guess(behindProxy, adminName, adminPass); r.status != http.StatusSeeOther {
			t.Fatalf("the admin's browser from the attacker's address: %d %s", r.status, r.body)
		}
		stranger := e.clientFrom(t, "127.0.4.1")
		if d := retryAfter(t, guess(stranger, adminName, adminPass), "a new browser during the attack"); d > 15*time.Minute {
			t.Fatalf("a new browser waits %v, more than the 15-minute cap", d)
		}
		forged := e.clientFrom(t, "127.0.4.2")
		forged.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "roster_device", Value: strings.Repeat("A", 60)}})
		retryAfter(t, guess(forged, adminName, adminPass), "a forged device cookie")
	})
}

// TestSigninRationsAttemptsPerAddress: even right passwords are rationed
// per address, ten at once and then one every six seconds.
func TestSigninRationsAttemptsPerAddress(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	clk := stopClock(e)
	c := e.client(t)
	for range 10 {
		e.client(t).signin()
	}
	if d := retryAfter(t, guess(c, adminName, adminPass), "the 11th sign-in"); d != 6*time.Second {
		t.Fatalf("the 11th sign-in waits %v, want 6s", d)
	}
	clk.add(6 * time.Second)
	if r := guess(c, adminName, adminPass); r.status != http.StatusSeeOther {
		t.Fatalf("a sign-in after 6 s: %d", r.status)
	}
}

// TestSigninCountsCannotBeFlushed: more made-up names and new addresses than
// the tables hold do not wipe an admin's count.
func TestSigninCountsCannotBeFlushed(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	clk := stopClock(e)
	e.ui.guard.names.max, e.ui.guard.addrs.max = 4, 4
	failGuesses(t, clk, e.clientFrom(t, "127.0.2.1"), 5)
	for i := range 12 {
		r := guess(e.clientFrom(t, fmt.Sprintf("127.0.5.%d", i+1)), fmt.Sprintf("ghost-%d", i), "a made-up name")
		if r.status != http.StatusUnauthorized {
			t.Fatalf("made-up name %d: %d", i, r.status)
		}
	}
	owner := e.clientFrom(t, "127.0.3.1")
	if d := retryAfter(t, guess(owner, adminName, adminPass), "the admin after a spray of names"); d != 4*time.Second {
		t.Fatalf("the admin waits %v, want the account's 4s still", d)
	}
}

// TestSigninBoundsPasswordChecks: while every check slot is taken a sign-in,
// for an admin or a made-up name alike, waits briefly and is then refused
// unchecked and uncounted, with Retry-After.
func TestSigninBoundsPasswordChecks(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	stopClock(e)
	e.ui.slots = newHashSlots(2, 20*time.Millisecond)
	e.ui.slots.ch <- struct{}{} // two checks under way
	e.ui.slots.ch <- struct{}{}
	for range 4 { // more than the free failures: none may count
		for _, name := range []string{adminName, "nobody"} {
			r := guess(e.client(t), name, adminPass)
			if retryAfter(t, r, "a sign-in while all slots are taken"); !strings.Contains(r.body, "busy") {
				t.Fatalf("refusal does not say the server is busy: %s", r.body)
			}
		}
	}
	<-e.ui.slots.ch
	<-e.ui.slots.ch
	if r := guess(e.client(t), adminName, adminPass); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in once slots are free: %d %s", r.status, r.body)
	}
}

// TestSigninFormIsSmall: a sign-in form, which may wait for a check slot,
// holds at most 16 KiB.
func TestSigninFormIsSmall(t *testing.T) {
	e := newEnv(t, storetest.OpenSQLite)
	r := guess(e.client(t), adminName, strings.Repeat("x", 17<<10))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 17 KiB sign-in form: %d", r.status)
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
