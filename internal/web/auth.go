package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/store"
)

const (
	sessionCookie = "roster_session"
	// signinCookie holds a random value before sign-in, so the sign-in form
	// too has a CSRF token (against login CSRF).
	signinCookie = "roster_signin"
	csrfField    = "csrf"
	maxFormBody  = 1 << 20
)

// session is the signed-in admin of a request.
type session struct {
	store.Session
	hash []byte // of the cookie's id, the key the store knows it by
	csrf string
}

type sessionKey struct{}

func sessionOf(r *http.Request) *session {
	se, _ := r.Context().Value(sessionKey{}).(*session)
	return se
}

// actorOf is who a change made through the UI is logged as.
func actorOf(r *http.Request) store.Actor {
	if se := sessionOf(r); se != nil {
		return se.Actor
	}
	return "web"
}

func randomID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// csrfFor derives the synchronizer token of a session from its secret id, so
// it is tied to the session, changes with each sign-in and needs no storage.
func csrfFor(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("roster csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.opt.SecureCookies }

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

// lookup finds the live session of a request, or returns ErrNotFound.
func (s *Server) lookup(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, fmt.Errorf("%w: no session", directory.ErrNotFound)
	}
	h := hashID(c.Value)
	st, err := s.st.SessionByHash(r.Context(), h, s.opt.Now())
	if err != nil {
		return nil, err
	}
	return &session{Session: st, hash: h, csrf: csrfFor(c.Value)}, nil
}

// guarded runs a route's handler after checking its session and, for any
// method but GET and HEAD, its CSRF token.
func (s *Server) guarded(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxFormBody {
			s.renderError(w, r, http.StatusRequestEntityTooLarge, "The form is larger than 1 MiB.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if rt.open {
			s.run(rt.h, w, r)
			return
		}
		se, err := s.lookup(r)
		if err != nil {
			s.refuseNoSession(w, r, err)
			return
		}
		httplimit.Trust(r) // an admin's apply may take minutes
		if !safeMethod(r.Method) && !tokenMatches(r, se.csrf) {
			s.refuseCSRF(w, r)
			return
		}
		if field, ok := nulInRequest(r); ok {
			s.fail(w, r, fmt.Errorf("%w: %s must not contain NUL characters", directory.ErrInvalid, field))
			return
		}
		s.run(rt.h, w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, se)))
	})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// nulInRequest names the first form field, query parameter or path holding
// a NUL character: PostgreSQL cannot store one in text, and nobody types one.
func nulInRequest(r *http.Request) (string, bool) {
	if strings.ContainsRune(r.URL.Path, 0) {
		return "the address", true
	}
	if err := r.ParseForm(); err != nil {
		return "", false // the handler reports a malformed form
	}
	for k, vs := range r.Form {
		if strings.ContainsRune(k, 0) {
			return "a field name", true
		}
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return fmt.Sprintf("the field %q", k), true
			}
		}
	}
	return "", false
}

// tokenMatches compares the form's (or a script's header) CSRF token in constant time.
func tokenMatches(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if err := r.ParseForm(); err != nil {
			return false
		}
		got = r.PostForm.Get(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) run(h handler, w http.ResponseWriter, r *http.Request) {
	if err := h(s, w, r); err != nil {
		s.fail(w, r, err)
	}
}

// refuseNoSession sends a page request to sign-in and refuses anything else.
func (s *Server) refuseNoSession(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, directory.ErrNotFound) {
		s.fail(w, r, fmt.Errorf("check session: %w", err))
		return
	}
	if r.Method == http.MethodGet {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.renderError(w, r, http.StatusUnauthorized, "You are not signed in, or your session has ended. Sign in again; nothing was changed.")
}

func (s *Server) refuseCSRF(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("form refused: missing or wrong CSRF token", "method", r.Method, "path", r.URL.Path)
	s.renderError(w, r, http.StatusForbidden, "This form was refused because its security token is missing or out of date (for example after signing in again elsewhere). Reload the page and try again; nothing was changed.")
}

// safeNext keeps a post-sign-in redirect on this site: next is parsed and
// taken only as a path (with query) on this origin, with no scheme, no host,
// a single leading slash, and no backslash or control character either as
// given or once decoded, since browsers drop tabs and newlines and read a
// backslash as a slash. Anything else, and sign-in itself, goes home.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsFunc(next, unsafeInURL) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, unsafeInURL) {
		return "/"
	}
	if c := path.Clean(p); c == "/signin" || strings.HasPrefix(c, "/signin/") {
		return "/"
	}
	return u.String()
}

func unsafeInURL(r rune) bool { return r == '\\' || unicode.IsControl(r) }

type signinView struct {
	Name, Next string
	Tab        string // password or token
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.lookup(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	pre, err := s.preSession(w, r)
	if err != nil {
		return err
	}
	s.renderSignin(w, r, http.StatusOK, pre, signinView{Next: safeNext(r.URL.Query().Get("next")), Tab: "password"}, "")
	return nil
}

// preSession returns the sign-in form's random value, setting it if missing.
func (s *Server) preSession(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	id, err := randomID()
	if err != nil {
		return "", err
	}
	s.setCookie(w, r, signinCookie, id, 3600)
	return id, nil
}

func (s *Server) renderSignin(w http.ResponseWriter, r *http.Request, status int, pre string, v signinView, msg string) {
	s.render(w, r, status, "signin", page{Title: "Sign in", CSRF: csrfFor(pre), Error: msg, Data: v})
}

const badSignin = "Wrong name or password, or an unknown token."

// maxSigninBody bounds a sign-in form, which may wait for a password check.
const maxSigninBody = 16 << 10

func (s *Server) signin(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > maxSigninBody {
		s.renderError(w, r, http.StatusRequestEntityTooLarge, "The sign-in form is larger than 16 KiB.")
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSigninBody)
	c, err := r.Cookie(signinCookie)
	if err != nil || !tokenMatches(r, csrfFor(c.Value)) {
		s.refuseCSRF(w, r)
		return nil
	}
	v := signinView{Name: strings.TrimSpace(r.PostForm.Get("name")), Next: safeNext(r.PostForm.Get("next")), Tab: "password"}
	var se store.Session
	if tok := strings.TrimSpace(r.PostForm.Get("token")); tok != "" {
		v.Tab = "token"
		se, err = s.tokenSession(r, tok)
	} else {
		se, err = s.passwordSession(r, v.Name, r.PostForm.Get("password"))
	}
	var wait signinWait
	switch {
	case errors.As(err, &wait):
		w.Header().Set("Retry-After", strconv.Itoa(wait.seconds()))
		s.renderSignin(w, r, http.StatusTooManyRequests, c.Value, v, wait.Error())
		return nil
	case errors.Is(err, errBadCredentials):
		s.renderSignin(w, r, http.StatusUnauthorized, c.Value, v, badSignin)
		return nil
	case err != nil:
		return err
	}
	return s.startSession(w, r, se, v.Next)
}

var errBadCredentials = errors.New("bad credentials")

// signinWait refuses a password attempt before its check: the account or
// address is delayed after failures, or the server is checking enough others.
type signinWait struct {
	d    time.Duration
	busy bool
}

func (e signinWait) seconds() int { return max(1, int((e.d+time.Second-1)/time.Second)) }

func (e signinWait) Error() string {
	if e.busy {
		return "Roster is busy checking other sign-ins. Try again in a few seconds."
	}
	n, unit := e.seconds(), "second"
	if n > 90 {
		n, unit = (n+59)/60, "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("Too many failed sign-ins. Wait %d %s, then try again.", n, unit)
}

// passwordSession checks an admin's password. The attempt is counted before
// the check (see signinGuard), and the check waits for a free slot; an
// unknown name costs the same and is counted the same, so names cannot be
// probed.
func (s *Server) passwordSession(r *http.Request, name, pw string) (store.Session, error) {
	if name == "" || pw == "" {
		return store.Session{}, errBadCredentials
	}
	key, addr, device := directory.Key(name), sourceOf(r), s.deviceOf(r)
	if device == 0 {
		if wait := s.guard.waitFor(key, addr, s.opt.Now()); wait > 0 {
			return store.Session{}, signinWait{d: wait}
		}
	}
	a, hash, err := s.st.AdminPassword(r.Context(), name)
	if errors.Is(err, directory.ErrNotFound) {
		a, hash = store.Admin{}, dummyHash // spend the same time as for a real admin
	} else if err != nil {
		return store.Session{}, err
	}
	at := s.guard.newAttempt(a.ID, key, addr, a.ID != 0 && device == a.ID)
	if wait, ok := s.guard.begin(at, s.opt.Now()); !ok {
		return store.Session{}, signinWait{d: wait}
	}
	ok, err := s.slots.matches(r.Context(), hash, pw)
	if errors.Is(err, errBusy) {
		s.guard.unchecked(at)
		return store.Session{}, signinWait{d: s.slots.wait, busy: true}
	}
	if err != nil {
		s.log.Error("stored password hash is unreadable", "admin", name, "err", err)
	}
	if a.ID == 0 || !ok {
		return store.Session{}, errBadCredentials
	}
	s.guard.succeeded(at)
	return store.Session{Actor: store.Actor("web:" + a.Name), AdminID: a.ID}, nil
}

// dummyHash has the current parameters and a random key that no password yields.
var dummyHash = []byte("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0mI1SvQoG0R3e+ETbVRD1HdvLmk2vL8TvNKCUW0rKGg")

// deviceCookie marks a browser an admin has signed in with: its password
// attempts are counted apart from everyone else's, so others' guesses never
// delay the admin there. It grants nothing else.
const (
	deviceCookie  = "roster_device"
	deviceContext = "web sign-in device v1"
	deviceMaxAge  = 365 * 24 * 60 * 60
)

// deviceOf is the admin whose device cookie the request carries, or 0.
func (s *Server) deviceOf(r *http.Request) int64 {
	c, err := r.Cookie(deviceCookie)
	if s.box == nil || err != nil || len(c.Value) > 200 {
		return 0
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return 0
	}
	plain, err := s.box.Open(sealed, deviceContext)
	if err != nil {
		return 0
	}
	id, err := strconv.ParseInt(string(plain), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

func (s *Server) setDevice(w http.ResponseWriter, r *http.Request, admin int64) error {
	if s.box == nil {
		return nil
	}
	sealed, err := s.box.Seal([]byte(strconv.FormatInt(admin, 10)), deviceContext)
	if err != nil {
		return fmt.Errorf("seal device cookie: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/signin",
		MaxAge: deviceMaxAge, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	return nil
}

func (s *Server) tokenSession(r *http.Request, tok string) (store.Session, error) {
	if !strings.HasPrefix(tok, credential.TokenPrefix) || len(tok) > 200 {
		return store.Session{}, errBadCredentials
	}
	t, err := s.st.TokenByHash(r.Context(), credential.HashToken(tok))
	if errors.Is(err, directory.ErrNotFound) {
		return store.Session{}, errBadCredentials
	}
	if err != nil {
		return store.Session{}, err
	}
	return store.Session{Actor: store.Actor("web:token:" + t.Name), TokenID: t.ID}, nil
}

// startSession stores a fresh session (a new id at every sign-in, so a
// planted cookie is never promoted) and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, se store.Session, next string) error {
	id, err := randomID()
	if err != nil {
		return err
	}
	se.CreatedAt = s.opt.Now()
	se.ExpiresAt = se.CreatedAt.Add(s.opt.SessionTTL)
	if err := s.st.CreateSession(r.Context(), hashID(id), se); err != nil {
		return err
	}
	if se.AdminID != 0 {
		if err := s.setDevice(w, r, se.AdminID); err != nil {
			return err
		}
	}
	s.setCookie(w, r, sessionCookie, id, int(s.opt.SessionTTL.Seconds()))
	s.setCookie(w, r, signinCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) error {
	if err := s.st.DeleteSession(r.Context(), sessionOf(r).hash); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
