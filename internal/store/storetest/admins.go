package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

func adminTests() []struct {
	name string
	fn   func(*testing.T, Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"Admins", testAdmins},
		{"AdminValidation", testAdminValidation},
		{"Sessions", testSessions},
		{"SessionsEndWithTheirCredential", testSessionsEnd},
		{"OAuthClient", testOAuthClient},
		{"OAuthState", testOAuthState},
		{"BaseURLChangeDropsCredential", testBaseURLDropsCredential},
	}
}

func testAdmins(t *testing.T, s Store) {
	a, err := s.CreateAdmin(ctx, actor, "Alice", []byte("hash-a"))
	if err != nil || a.ID == 0 {
		t.Fatalf("create = %+v, %v", a, err)
	}
	_, err = s.CreateAdmin(ctx, actor, "alice", []byte("hash-b"))
	wantErr(t, err, directory.ErrConflict)
	got, hash, err := s.AdminPassword(ctx, "ALICE")
	if err != nil || got.ID != a.ID || got.Name != "Alice" || string(hash) != "hash-a" || got.LastLogin != nil {
		t.Fatalf("password = %+v %q %v", got, hash, err)
	}
	_, _, err = s.AdminPassword(ctx, "bob")
	wantErr(t, err, directory.ErrNotFound)
	if err := s.SetAdminPassword(ctx, actor, "alice", []byte("hash-c")); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := s.AdminPassword(ctx, "alice"); string(hash) != "hash-c" {
		t.Fatalf("hash after change = %q", hash)
	}
	wantErr(t, s.SetAdminPassword(ctx, actor, "bob", []byte("x")), directory.ErrNotFound)
	list, err := s.ListAdmins(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "Alice" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	logs, _ := s.ListLog(ctx, audit.Filter{TargetKind: "admin"})
	if len(logs) != 2 || logs[1].Action != "admin.create" || logs[0].Action != "admin.password" {
		t.Fatalf("log = %+v", logs)
	}
	for _, e := range logs {
		if bytes.Contains([]byte(e.Message+e.Target), []byte("hash")) || e.Detail["password_hash"] != nil {
			t.Fatalf("a password hash reached the log: %+v", e)
		}
	}
	if err := s.DeleteAdmin(ctx, actor, "alice"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteAdmin(ctx, actor, "alice"), directory.ErrNotFound)
}

func testAdminValidation(t *testing.T, s Store) {
	for _, c := range []struct {
		name string
		hash []byte
	}{
		{"", []byte("h")},
		{"has space", []byte("h")},
		{"bell\a", []byte("h")},
		{string(bytes.Repeat([]byte("a"), 65)), []byte("h")},
		{"nopassword", nil},
	} {
		_, err := s.CreateAdmin(ctx, actor, c.name, c.hash)
		wantErr(t, err, directory.ErrInvalid)
	}
	if list, _ := s.ListAdmins(ctx); len(list) != 0 {
		t.Fatalf("invalid admins stored: %+v", list)
	}
}

func testSessions(t *testing.T, s Store) {
	a, err := s.CreateAdmin(ctx, actor, "carol", []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	se := store.Session{Actor: "web:carol", AdminID: a.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	wantErr(t, s.CreateSession(ctx, nil, se), directory.ErrInvalid)
	bad := se
	bad.ExpiresAt = now
	wantErr(t, s.CreateSession(ctx, []byte("id-0"), bad), directory.ErrInvalid)
	if err := s.CreateSession(ctx, []byte("id-1"), se); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		hash string
		at   time.Time
		ok   bool
	}{
		{"live", "id-1", now.Add(59 * time.Minute), true},
		{"expired", "id-1", now.Add(time.Hour), false},
		{"unknown", "id-2", now, false},
	}
	for _, c := range cases {
		got, err := s.SessionByHash(ctx, []byte(c.hash), c.at)
		if c.ok != (err == nil) {
			t.Fatalf("%s: err = %v", c.name, err)
		}
		if c.ok && (got.Actor != "web:carol" || got.AdminID != a.ID || !got.ExpiresAt.Equal(se.ExpiresAt)) {
			t.Fatalf("%s: session = %+v", c.name, got)
		}
		if !c.ok {
			wantErr(t, err, directory.ErrNotFound)
		}
	}
	if got, _, _ := s.AdminPassword(ctx, "carol"); got.LastLogin == nil || !got.LastLogin.Equal(now) {
		t.Fatalf("last login = %v", got.LastLogin)
	}
	if err := s.DeleteSession(ctx, []byte("id-1")); err != nil {
		t.Fatal(err)
	}
	_, err = s.SessionByHash(ctx, []byte("id-1"), now)
	wantErr(t, err, directory.ErrNotFound)
	if err := s.DeleteSession(ctx, []byte("id-1")); err != nil {
		t.Fatalf("second sign-out: %v", err)
	}
	logs, _ := s.ListLog(ctx, audit.Filter{Actor: "web:carol"})
	if len(logs) != 2 || logs[0].Action != "web.signout" || logs[1].Action != "web.signin" {
		t.Fatalf("log = %+v", logs)
	}
	if err := s.CreateSession(ctx, []byte("id-3"), se); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpiredSessions(ctx, now.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("expired deleted = %d, %v", n, err)
	}
}

func testSessionsEnd(t *testing.T, s Store) {
	now := time.Now()
	a, err := s.CreateAdmin(ctx, actor, "dave", []byte("h"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateToken(ctx, actor, "ci", []byte("tok-hash"))
	if err != nil {
		t.Fatal(err)
	}
	sessions := []struct {
		id   string
		s    store.Session
		ends func() error
	}{
		{"by-admin", store.Session{Actor: "web:dave", AdminID: a.ID}, func() error { return s.SetAdminPassword(ctx, actor, "dave", []byte("h2")) }},
		{"by-token", store.Session{Actor: "token:ci", TokenID: tok.ID}, func() error { return s.DeleteToken(ctx, actor, tok.ID) }},
	}
	for _, c := range sessions {
		c.s.CreatedAt, c.s.ExpiresAt = now, now.Add(time.Hour)
		if err := s.CreateSession(ctx, []byte(c.id), c.s); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByHash(ctx, []byte(c.id), now); err != nil {
			t.Fatalf("%s before: %v", c.id, err)
		}
		if err := c.ends(); err != nil {
			t.Fatal(err)
		}
		_, err := s.SessionByHash(ctx, []byte(c.id), now)
		wantErr(t, err, directory.ErrNotFound)
	}
}

func testOAuthClient(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	_, err := s.OAuthClient(ctx, a.ID)
	wantErr(t, err, directory.ErrNotFound)
	wantErr(t, s.SetOAuthClient(ctx, actor, "dbx", "has space", []byte("sealed")), directory.ErrInvalid)
	wantErr(t, s.SetOAuthClient(ctx, actor, "dbx", "key", nil), directory.ErrInvalid)
	wantErr(t, s.SetOAuthClient(ctx, actor, "nope", "key", []byte("sealed")), directory.ErrNotFound)
	wantErr(t, s.SetOAuthToken(ctx, actor, "dbx", []byte("access"), nil, time.Time{}), directory.ErrNotFound)
	if err := s.SetOAuthClient(ctx, actor, "dbx", " key-1 ", []byte("sealed-1")); err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	if err := s.SetOAuthToken(ctx, actor, "dbx", []byte("access-1"), []byte("refresh-1"), exp); err != nil {
		t.Fatal(err)
	}
	c, err := s.OAuthClient(ctx, a.ID)
	if err != nil || c.ClientID != "key-1" || string(c.SealedSecret) != "sealed-1" || string(c.SealedRefresh) != "refresh-1" || !c.TokenExpires.Equal(exp) {
		t.Fatalf("client = %+v, %v", c, err)
	}
	if cred, err := s.AppCredential(ctx, a.ID); err != nil || string(cred) != "access-1" {
		t.Fatalf("credential = %q, %v", cred, err)
	}
	if got, _ := s.GetApp(ctx, "dbx"); !got.HasToken {
		t.Fatal("the flow's token does not count as the app's token")
	}
	// A new client drops the old client's refresh token, which it cannot use.
	if err := s.SetOAuthClient(ctx, actor, "dbx", "key-2", []byte("sealed-2")); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.OAuthClient(ctx, a.ID); c.ClientID != "key-2" || c.SealedRefresh != nil || !c.TokenExpires.IsZero() {
		t.Fatalf("after new client = %+v", c)
	}
	logs, _ := s.ListLog(ctx, audit.Filter{App: "dbx", TargetKind: "app"})
	for _, e := range logs {
		for _, v := range e.Detail {
			if s, ok := v.(string); ok && (s == "sealed-1" || s == "refresh-1" || s == "access-1") {
				t.Fatalf("a secret reached the log: %+v", e)
			}
		}
	}
}

// The token and the OAuth client's secret go to the base URL with every call,
// so a new base URL drops them (in the same transaction); nothing else does.
func testBaseURLDropsCredential(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	connected := func() {
		t.Helper()
		if err := s.SetOAuthClient(ctx, actor, "dbx", "key", []byte("sealed-secret")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOAuthToken(ctx, actor, "dbx", []byte("access"), []byte("refresh"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	update := func(fn func(*app.Instance)) (app.Instance, error) {
		return s.UpdateApp(ctx, actor, "dbx", func(a *app.Instance) error { fn(a); return nil })
	}
	connected()
	got, err := update(func(a *app.Instance) { a.Name, a.Settings.Provisioning = "dbx", true })
	if err != nil || !got.HasToken {
		t.Fatalf("a change of settings: %+v, %v", got, err)
	}
	_, err = update(func(a *app.Instance) { a.BaseURL = "http://example.com" })
	wantErr(t, err, directory.ErrInvalid)
	if got, _ := s.GetApp(ctx, "dbx"); !got.HasToken || got.BaseURL != a.BaseURL {
		t.Fatalf("a refused base URL changed the app: %+v", got)
	}
	for _, base := range []string{"https://elsewhere.example", "http://127.0.0.1:2"} {
		got, err = update(func(a *app.Instance) { a.BaseURL = base })
		if err != nil || got.HasToken || got.BaseURL != base {
			t.Fatalf("new base URL %s: %+v, %v", base, got, err)
		}
		if got, _ := s.GetApp(ctx, "dbx"); got.HasToken {
			t.Fatalf("%s: the stored app still has its token", base)
		}
		if _, err := s.AppCredential(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
			t.Fatalf("%s: the token is still stored: %v", base, err)
		}
		if c, err := s.OAuthClient(ctx, a.ID); !errors.Is(err, directory.ErrNotFound) {
			t.Fatalf("%s: the OAuth client is still stored: %+v, %v", base, c, err)
		}
		connected()
	}
	logs, _ := s.ListLog(ctx, audit.Filter{App: "dbx", Action: "app.update"})
	if len(logs) == 0 || logs[0].Detail["credential_dropped"] != true {
		t.Fatalf("the log does not say the token was dropped: %+v", logs)
	}
}

func testOAuthState(t *testing.T, s Store) {
	a := mustApp(t, s, "dbx")
	now := time.Now()
	for _, id := range []string{"st-1", "st-2", "st-3"} {
		if err := s.CreateOAuthState(ctx, []byte(id), []byte("sess-a"), a.ID, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, state, session string
		at                   time.Time
		ok                   bool
	}{
		{"right session", "st-1", "sess-a", now, true},
		{"used twice", "st-1", "sess-a", now, false},
		{"other session", "st-2", "sess-b", now, false},
		{"other session burns it", "st-2", "sess-a", now, false},
		{"expired", "st-3", "sess-a", now.Add(11 * time.Minute), false},
		{"unknown", "st-9", "sess-a", now, false},
	}
	for _, c := range cases {
		got, err := s.TakeOAuthState(ctx, []byte(c.state), []byte(c.session), c.at)
		if c.ok != (err == nil) || (c.ok && got != a.ID) {
			t.Fatalf("%s: app = %d, err = %v", c.name, got, err)
		}
		if !c.ok {
			wantErr(t, err, directory.ErrNotFound)
		}
	}
}
