package dropbox

// Unit tests of exact wire formats: each server answers a literal body copied
// from the reference (dropbox-team-api.md), or records what the client sent.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/connector"
)

const testToken = "sl.u.SECRET-test-token-0123456789"

// literal starts a server running h and a client for it; calls counts requests.
func literal(t *testing.T, opts Options, h http.HandlerFunc) (*Client, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	opts.BaseURL = srv.URL
	if opts.Token == "" && opts.TokenSource == nil {
		opts.Token = testToken
	}
	return New(opts), &calls
}

func reply(w http.ResponseWriter, code int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func jsonReply(w http.ResponseWriter, code int, body string) {
	reply(w, code, "application/json", body)
}

func asError(t testing.TB, err error) *connector.Error {
	t.Helper()
	var e *connector.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *connector.Error", err, err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error string holds the token: %v", err)
	}
	return e
}

// recPacer records pauses and holds Wait back until the pause ends.
type recPacer struct {
	mu     sync.Mutex
	pauses []time.Duration
	until  time.Time
	waits  int
}

func (p *recPacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	p.waits++
	d := time.Until(p.until)
	p.mu.Unlock()
	return sleep(ctx, d)
}

func (p *recPacer) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pauses = append(p.pauses, d)
	p.until = time.Now().Add(d)
}

func TestBadRequestPlainText(t *testing.T) {
	const msg = `Error in call to API function "team/members/list_v2": request body: limit: 4000 is not within range [1, 2000]`
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		reply(w, 400, "text/plain; charset=utf-8", msg)
	})
	err := c.ListMembers(t.Context(), false, func([]connector.Member) error { return nil })
	e := asError(t, err)
	if e.Kind != connector.Permanent || e.Msg != msg || e.Op != "members/list_v2" {
		t.Fatalf("got %+v", e)
	}
	var h *HTTPError
	if !errors.As(err, &h) || h.StatusCode != 400 {
		t.Fatalf("no HTTPError 400 in %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("a 400 was resent: %d calls", calls.Load())
	}
}

func TestAuthErrors(t *testing.T) {
	cases := []struct {
		code      int
		body      string
		tag, want string
	}{
		{401, `{"error_summary": "invalid_access_token/...", "error": {".tag": "invalid_access_token"}}`, "invalid_access_token", ""},
		{401, `{"error_summary": "expired_access_token/", "error": {".tag": "expired_access_token"}}`, "expired_access_token", ""},
		{401, `{"error_summary": "missing_scope/..", "error": {".tag": "missing_scope", "required_scope": "members.write"}}`, "missing_scope", "members.write"},
		{403, `{"error_summary": "team_access_denied/..", "error": {".tag": "team_access_denied"}}`, "team_access_denied", ""},
		// A server that echoes the token must not leak it into our errors.
		{401, `Bad token ` + testToken, "", "[redacted]"},
	}
	for _, tc := range cases {
		c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
			}
			jsonReply(w, tc.code, tc.body)
		})
		err := c.Unsuspend(t.Context(), "dbmid:x")
		e := asError(t, err)
		if e.Kind != connector.Auth || e.Tag != tc.tag || !strings.Contains(e.Msg, tc.want) {
			t.Errorf("%d %s: got %+v", tc.code, tc.body, e)
		}
		if calls.Load() != 1 {
			t.Errorf("%s: %d calls, want 1", tc.tag, calls.Load())
		}
	}
}

func TestExpiredTokenRefreshedOnceFromTokenSource(t *testing.T) {
	var n atomic.Int32
	src := func(context.Context) (string, error) { return []string{"old", "new"}[min(n.Add(1)-1, 1)], nil }
	c, calls := literal(t, Options{TokenSource: src}, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer old" {
			jsonReply(w, 401, `{"error_summary": "expired_access_token/", "error": {".tag": "expired_access_token"}}`)
			return
		}
		jsonReply(w, 200, `null`)
	})
	if err := c.Recover(t.Context(), "dbmid:x"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want 2", calls.Load())
	}
}

func TestTokenSourceErrorIsAuth(t *testing.T) {
	src := func(context.Context) (string, error) { return "", errors.New("refresh refused") }
	c, calls := literal(t, Options{TokenSource: src}, func(w http.ResponseWriter, r *http.Request) {})
	if e := asError(t, c.Recover(t.Context(), "dbmid:x")); e.Kind != connector.Auth {
		t.Fatalf("got %+v", e)
	}
	if calls.Load() != 0 {
		t.Fatal("a call went out without a token")
	}
}

func TestConflictTagKinds(t *testing.T) {
	cases := map[string]connector.Kind{
		"user_not_found":                         connector.NotFound,
		"user_not_in_team":                       connector.NotFound,
		"group_not_found":                        connector.NotFound,
		"id_not_found":                           connector.NotFound,
		"user_already_on_team":                   connector.Conflict,
		"duplicate_external_member_id":           connector.Conflict,
		"group_name_already_used":                connector.Conflict,
		"duplicate_user":                         connector.Conflict,
		"unsuspend_non_suspended_member":         connector.Conflict,
		"group_already_deleted":                  connector.Conflict,
		"internal_error":                         connector.Retryable,
		"transfer_admin_is_not_admin":            connector.Permanent,
		"transfer_dest_user_not_found":           connector.Permanent,
		"remove_last_admin":                      connector.Permanent,
		"last_admin":                             connector.Permanent,
		"user_unrecoverable":                     connector.Permanent,
		"email_reserved_for_other_user":          connector.Permanent,
		"team_license_limit":                     connector.Permanent,
		"other":                                  connector.Permanent,
		"cannot_keep_account_and_transfer":       connector.Permanent,
		"external_id_and_new_external_id_unsafe": connector.Permanent,
	}
	for tag, want := range cases {
		c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
			jsonReply(w, 409, `{"error_summary": "`+tag+`/...", "error": {".tag": "`+tag+`"}, "user_message": {"text": "nope", "locale": "en"}}`)
		})
		e := asError(t, c.Recover(t.Context(), "dbmid:x"))
		if e.Kind != want || e.Tag != tag || e.Op != "members/recover" || e.Msg != "nope" {
			t.Errorf("%s: got %+v, want kind %v", tag, e, want)
		}
	}
}

func TestConflictNestedValueInMsg(t *testing.T) {
	c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		jsonReply(w, 409, `{"error_summary":"users_not_found/..","error":{".tag":"users_not_found","users_not_found":["a@b.com"]}}`)
	})
	e := asError(t, c.AddGroupMembers(t.Context(), "g:1", []string{"dbmid:a"}))
	if e.Kind != connector.NotFound || e.Tag != "users_not_found" || !strings.Contains(e.Msg, "a@b.com") {
		t.Fatalf("got %+v", e)
	}
}

func TestRateLimitJSONObeysRetryAfterAndPauses(t *testing.T) {
	p := &recPacer{}
	var first time.Time
	var gap time.Duration
	c, calls := literal(t, Options{Pacer: p}, func(w http.ResponseWriter, r *http.Request) {
		if first.IsZero() {
			first = time.Now()
			jsonReply(w, 429, `{"error_summary":"too_many_requests/..","error":{"reason":{".tag":"too_many_requests"},"retry_after":1}}`)
			return
		}
		gap = time.Since(first)
		jsonReply(w, 200, `null`)
	})
	if err := c.Unsuspend(t.Context(), "dbmid:x"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || len(p.pauses) != 1 || p.pauses[0] != time.Second || p.waits != 2 {
		t.Fatalf("calls %d, pauses %v, waits %d", calls.Load(), p.pauses, p.waits)
	}
	if gap < 900*time.Millisecond {
		t.Fatalf("resent after %v, before Retry-After", gap)
	}
}

func TestRateLimitPlainTextHeaderNoPacer(t *testing.T) {
	var first time.Time
	var gap time.Duration
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if first.IsZero() {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			reply(w, 429, "text/plain", "Too many requests")
			return
		}
		gap = time.Since(first)
		jsonReply(w, 200, `{"name":"Acme","team_id":"dbtid:1","num_licensed_users":5,"num_provisioned_users":2,"num_used_licenses":1}`)
	})
	ti, err := c.TeamInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ti != (connector.TeamInfo{Name: "Acme", TeamID: "dbtid:1", LicensedUsers: 5, ProvisionedUsers: 2, UsedLicenses: 1}) {
		t.Fatalf("got %+v", ti)
	}
	if calls.Load() != 2 || gap < 900*time.Millisecond {
		t.Fatalf("calls %d, resent after %v", calls.Load(), gap)
	}
}

func TestRateLimitExhausted(t *testing.T) {
	p := &recPacer{}
	c, calls := literal(t, Options{Pacer: p, MaxRateLimitRetries: 2}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0.01")
		reply(w, 429, "text/plain", "")
	})
	e := asError(t, c.Unsuspend(t.Context(), "dbmid:x"))
	if e.Kind != connector.RateLimited || e.RetryAfter != 10*time.Millisecond || e.Tag != "too_many_requests" {
		t.Fatalf("got %+v", e)
	}
	if d, ok := connector.RetryAfterOf(e); !ok || d != 10*time.Millisecond {
		t.Fatalf("RetryAfterOf = %v %v", d, ok)
	}
	if calls.Load() != 3 || len(p.pauses) != 3 {
		t.Fatalf("calls %d, pauses %d; want 3 and 3", calls.Load(), len(p.pauses))
	}
}

func TestRateLimitTooLongReturnedAtOnce(t *testing.T) {
	p := &recPacer{}
	c, calls := literal(t, Options{Pacer: p}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "300")
		jsonReply(w, 429, `{"error_summary":"too_many_write_operations/..","error":{"reason":{".tag":"too_many_write_operations"},"retry_after":300}}`)
	})
	e := asError(t, c.Unsuspend(t.Context(), "dbmid:x"))
	if e.Kind != connector.RateLimited || e.RetryAfter != 300*time.Second || e.Tag != "too_many_write_operations" {
		t.Fatalf("got %+v", e)
	}
	if calls.Load() != 1 || len(p.pauses) != 1 || p.pauses[0] != 300*time.Second {
		t.Fatalf("calls %d, pauses %v", calls.Load(), p.pauses)
	}
}

func TestServerErrorWriteNotResent(t *testing.T) {
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		reply(w, 503, "text/plain", "upstream unavailable")
	})
	e := asError(t, c.Suspend(t.Context(), "dbmid:x", true))
	if e.Kind != connector.Retryable || e.Msg != "upstream unavailable" {
		t.Fatalf("got %+v", e)
	}
	if calls.Load() != 1 {
		t.Fatalf("a write was resent: %d calls", calls.Load())
	}
}

func TestServerErrorReadResent(t *testing.T) {
	var n atomic.Int32
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 3 {
			reply(w, 500, "text/plain", "oops")
			return
		}
		jsonReply(w, 200, `{"members":[],"cursor":"c","has_more":false}`)
	})
	pages := 0
	err := c.ListMembers(t.Context(), false, func([]connector.Member) error { pages++; return nil })
	if err != nil || pages != 1 || calls.Load() != 3 {
		t.Fatalf("err %v, pages %d, calls %d", err, pages, calls.Load())
	}

	c, calls = literal(t, Options{ReadRetries: 1}, func(w http.ResponseWriter, r *http.Request) {
		reply(w, 502, "text/plain", "bad gateway")
	})
	e := asError(t, c.ListMembers(t.Context(), false, func([]connector.Member) error { return nil }))
	if e.Kind != connector.Retryable || calls.Load() != 2 {
		t.Fatalf("got %+v after %d calls", e, calls.Load())
	}
}

// A dropped connection after the request was read: the answer is lost.
func TestLostAnswerIsRetryableAndWriteNotResent(t *testing.T) {
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	e := asError(t, c.Remove(t.Context(), "dbmid:x", connector.RemoveOptions{}))
	if e.Kind != connector.Retryable || calls.Load() != 1 {
		t.Fatalf("got %+v after %d calls", e, calls.Load())
	}
}

// Literal list_v2 items: an invitee (reference §5.3), a live-style admin with
// role "Team", and a recoverable removed member.
const listPage = `{"members":[
 {"profile":{"team_member_id":"dbmid:AACx","account_id":"dbid:AAAy","email":"n@x.com",
  "email_verified":false,"secondary_emails":[],"status":{".tag":"invited"},
  "name":{"given_name":"","surname":"","familiar_name":"","display_name":"","abbreviated_name":""},
  "membership_type":{".tag":"full"},"invited_on":"2025-10-17T19:33:13Z",
  "groups":["g:3c7f0003"],"member_folder_id":"13041698001","root_folder_id":"13031102401"}},
 {"profile":{"team_member_id":"dbmid:ADM","account_id":"dbid:B","email":"boss@x.com","external_id":"e-1",
  "email_verified":true,"status":{".tag":"active"},
  "name":{"given_name":"Ann","surname":"Boss","familiar_name":"Ann","display_name":"Ann Boss","abbreviated_name":"AB"},
  "membership_type":{".tag":"full"},"joined_on":"2015-05-12T15:50:38Z","groups":[],"member_folder_id":"1"},
  "roles":[{"role_id":"pid_dbtmr:AAAAAFMcx6E0tax39Kb0H671TzWLeE07dwaqFQ5fDRy2","name":"Team","description":"Manage everything and access all permissions"}]},
 {"profile":{"team_member_id":"dbmid:GONE","email":"gone@x.com","email_verified":true,
  "status":{".tag":"removed","is_recoverable":true,"is_disconnected":false},
  "name":{"given_name":"G","surname":"One","familiar_name":"","display_name":"","abbreviated_name":""},
  "membership_type":{".tag":"full"},"groups":[]}}],
 "cursor":"CUR1","has_more":true}`

func TestListMembersDecodesAndPages(t *testing.T) {
	var bodies []string
	c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, r.URL.Path+" "+string(b))
		if r.URL.Path == "/2/team/members/list_v2" {
			jsonReply(w, 200, listPage)
			return
		}
		jsonReply(w, 200, `{"members":[],"cursor":"CUR2","has_more":false}`)
	})
	var got []connector.Member
	err := c.ListMembers(t.Context(), true, func(ms []connector.Member) error { got = append(got, ms...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`/2/team/members/list_v2 {"limit":1000,"include_removed":true}`,
		`/2/team/members/list/continue_v2 {"cursor":"CUR1"}`,
	}
	if strings.Join(bodies, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s", strings.Join(bodies, "\n"))
	}
	if len(got) != 3 {
		t.Fatalf("got %d members", len(got))
	}
	inv, adm, gone := got[0], got[1], got[2]
	if inv.ID != "dbmid:AACx" || inv.AccountID != "dbid:AAAy" || inv.Status != connector.StatusInvited ||
		inv.Role != RoleMember || len(inv.Groups) != 1 || inv.Groups[0] != "g:3c7f0003" || inv.ExternalID != "" {
		t.Errorf("invitee %+v", inv)
	}
	if adm.Role != RoleTeamAdmin || adm.GivenName != "Ann" || adm.Surname != "Boss" || adm.ExternalID != "e-1" ||
		adm.Status != connector.StatusActive {
		t.Errorf("admin %+v", adm)
	}
	if gone.Status != connector.StatusRemoved || !gone.Recoverable {
		t.Errorf("removed %+v", gone)
	}
}

func TestRoleNames(t *testing.T) {
	cases := map[string]connector.Role{
		"Team":                  RoleTeamAdmin,
		"Team admin":            RoleTeamAdmin,
		"User management admin": RoleUserManagementAdmin,
		"Support admin":         RoleSupportAdmin,
		"Billing admin":         "billing_admin",
		"":                      RoleMember,
	}
	for name, want := range cases {
		if got := roleOfName(name); got != want {
			t.Errorf("%q → %q, want %q", name, got, want)
		}
	}
}

// rolesBody uses the live name "Team" for the team admin.
const rolesBody = `{"roles":[
 {"role_id":"pid_dbtmr:TEAM","name":"Team","description":"Manage everything and access all permissions"},
 {"role_id":"pid_dbtmr:UMA","name":"User management admin","description":"x"},
 {"role_id":"pid_dbtmr:SUP","name":"Support admin","description":"x"},
 {"role_id":"pid_dbtmr:BILL","name":"Billing admin","description":"x"}]}`

func TestSetRoleResolvesByNameOnceAndDemotesWithEmptyArray(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	roleCalls := 0
	c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/2/team/members/get_available_team_member_roles" {
			roleCalls++
			if len(b) != 0 || r.Header.Get("Content-Type") != "" {
				t.Errorf("Void route got body %q, content type %q", b, r.Header.Get("Content-Type"))
			}
			jsonReply(w, 200, rolesBody)
			return
		}
		sent = append(sent, string(b))
		jsonReply(w, 200, `{"team_member_id":"dbmid:x","roles":[]}`)
	})
	for _, r := range []connector.Role{RoleTeamAdmin, RoleUserManagementAdmin, RoleSupportAdmin, RoleMember} {
		if err := c.SetRole(t.Context(), "dbmid:x", r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"new_roles":["pid_dbtmr:TEAM"]}`,
		`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"new_roles":["pid_dbtmr:UMA"]}`,
		`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"new_roles":["pid_dbtmr:SUP"]}`,
		`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"new_roles":[]}`,
	}
	if strings.Join(sent, "\n") != strings.Join(want, "\n") || roleCalls != 1 {
		t.Fatalf("roles calls %d, sent:\n%s", roleCalls, strings.Join(sent, "\n"))
	}
	e := asError(t, c.SetRole(t.Context(), "dbmid:x", "owner_of_everything"))
	if e.Kind != connector.Permanent || e.Tag != "role_not_found" {
		t.Fatalf("unknown role: %+v", e)
	}
}

func TestRequestBodies(t *testing.T) {
	empty := ""
	cases := []struct {
		name, path, want string
		answer           string
		run              func(c *Client) error
	}{
		{"clear external id", "members/set_profile_v2",
			`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"new_external_id":""}`,
			`{"member_info":{"profile":{"team_member_id":"dbmid:x","email":"a@b.c","status":{".tag":"active"},"name":{"given_name":"A","surname":"B"},"groups":[]}}}`,
			func(c *Client) error {
				m, err := c.SetProfile(t.Context(), "dbmid:x", connector.ProfileChange{ExternalID: &empty})
				if err == nil && (m.ID != "dbmid:x" || m.GivenName != "A") {
					t.Errorf("member %+v", m)
				}
				return err
			}},
		{"suspend keeps data", "members/suspend",
			`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"wipe_data":false}`, `null`,
			func(c *Client) error { return c.Suspend(t.Context(), "dbmid:x", false) }},
		{"unsuspend", "members/unsuspend", `{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"}}`, `null`,
			func(c *Client) error { return c.Unsuspend(t.Context(), "dbmid:x") }},
		{"welcome email bare selector", "members/send_welcome_email",
			`{".tag":"team_member_id","team_member_id":"dbmid:x"}`, `null`,
			func(c *Client) error { return c.SendWelcomeEmail(t.Context(), "dbmid:x") }},
		{"remove with transfer", "members/remove",
			`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"wipe_data":false,` +
				`"transfer_dest_id":{".tag":"email","email":"d@x.com"},"transfer_admin_id":{".tag":"email","email":"a@x.com"}}`,
			`{".tag":"complete"}`,
			func(c *Client) error {
				return c.Remove(t.Context(), "dbmid:x", connector.RemoveOptions{TransferDestEmail: "d@x.com", TransferAdminEmail: "a@x.com"})
			}},
		{"remove with wipe", "members/remove",
			`{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"wipe_data":true}`, `{".tag":"complete"}`,
			func(c *Client) error {
				return c.Remove(t.Context(), "dbmid:x", connector.RemoveOptions{WipeData: true})
			}},
		{"delete group bare selector", "groups/delete", `{".tag":"group_id","group_id":"g:1"}`, `{".tag":"complete"}`,
			func(c *Client) error { return c.DeleteGroup(t.Context(), "g:1") }},
		{"group member add", "groups/members/add",
			`{"group":{".tag":"group_id","group_id":"g:1"},"members":[{"user":{".tag":"team_member_id","team_member_id":"dbmid:x"},"access_type":"member"}],"return_members":false}`,
			`{"group_info":{"group_name":"G","group_id":"g:1","group_management_type":{".tag":"company_managed"},"created":1447255518000},"async_job_id":" "}`,
			func(c *Client) error { return c.AddGroupMembers(t.Context(), "g:1", []string{"dbmid:x"}) }},
	}
	for _, tc := range cases {
		c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.URL.Path != "/2/team/"+tc.path || string(b) != tc.want ||
				r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: %s %s %q\nwant %q", tc.name, r.Method, r.URL.Path, b, tc.want)
			}
			jsonReply(w, 200, tc.answer)
		})
		if err := tc.run(c); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestAddItemKinds(t *testing.T) {
	c, _ := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		jsonReply(w, 200, `{".tag":"complete","complete":[
 {".tag":"success","profile":{"team_member_id":"dbmid:N","email":"a@x.com","status":{".tag":"invited"},"name":{"given_name":"A","surname":"X"},"groups":[]}},
 {".tag":"user_already_on_team","user_already_on_team":"b@x.com"},
 {".tag":"duplicate_external_member_id","duplicate_external_member_id":"c@x.com"},
 {".tag":"team_license_limit","team_license_limit":"d@x.com"},
 {".tag":"user_on_another_team","user_on_another_team":"e@x.com"}]}`)
	})
	var ms []connector.NewMember
	for _, e := range []string{"a", "b", "c", "d", "e"} {
		ms = append(ms, connector.NewMember{Email: e + "@x.com"})
	}
	res, err := c.AddMembers(t.Context(), ms)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Member.ID != "dbmid:N" || res[0].Member.Status != connector.StatusInvited {
		t.Errorf("success: %+v", res[0])
	}
	want := []struct {
		tag  string
		kind connector.Kind
	}{{"user_already_on_team", connector.Conflict}, {"duplicate_external_member_id", connector.Conflict},
		{"team_license_limit", connector.Permanent}, {"user_on_another_team", connector.Permanent}}
	for i, w := range want {
		r := res[i+1]
		if connector.TagOf(r.Err) != w.tag || connector.KindOf(r.Err) != w.kind || r.Email != ms[i+1].Email {
			t.Errorf("item %d: %+v, want %s %v", i+1, r, w.tag, w.kind)
		}
	}
}

func TestAddAsyncJobPolled(t *testing.T) {
	var paths []string
	c, _ := literal(t, Options{PollInterval: time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch len(paths) {
		case 1:
			jsonReply(w, 200, `{".tag":"async_job_id","async_job_id":"dbjid:J"}`)
		case 2:
			b, _ := io.ReadAll(r.Body)
			if string(b) != `{"async_job_id":"dbjid:J"}` {
				t.Errorf("poll body %s", b)
			}
			jsonReply(w, 200, `{".tag":"in_progress"}`)
		default:
			jsonReply(w, 200, `{".tag":"complete","complete":[{".tag":"success","profile":{"team_member_id":"dbmid:N","email":"a@x.com","status":{".tag":"invited"},"name":{"given_name":"","surname":""},"groups":[]}}]}`)
		}
	})
	res, err := c.AddMembers(t.Context(), []connector.NewMember{{Email: "a@x.com"}})
	if err != nil || res[0].Err != nil || res[0].Member.ID != "dbmid:N" {
		t.Fatalf("%v %+v", err, res)
	}
	if len(paths) != 3 || paths[1] != "/2/team/members/add/job_status/get_v2" {
		t.Fatalf("paths %v", paths)
	}
}

func TestAsyncFailuresAreRetryable(t *testing.T) {
	c, _ := literal(t, Options{PollInterval: time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/2/team/members/add_v2", "/2/team/members/remove":
			jsonReply(w, 200, `{".tag":"async_job_id","async_job_id":"dbjid:J"}`)
		case "/2/team/members/add/job_status/get_v2":
			jsonReply(w, 200, `{".tag":"failed","failed":"boom"}`)
		default:
			jsonReply(w, 409, `{"error_summary":"internal_error/..","error":{".tag":"internal_error"}}`)
		}
	})
	res, err := c.AddMembers(t.Context(), []connector.NewMember{{Email: "a@x.com"}})
	if err != nil || connector.KindOf(res[0].Err) != connector.Retryable {
		t.Fatalf("add: %v %+v", err, res)
	}
	e := asError(t, c.Remove(t.Context(), "dbmid:x", connector.RemoveOptions{}))
	if e.Kind != connector.Retryable || e.Tag != "internal_error" || e.Op != "members/remove/job_status/get" {
		t.Fatalf("remove: %+v", e)
	}
}

func TestGetMembersSkipsEmptySelectorsAndMapsNotFound(t *testing.T) {
	var sent string
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sent = string(b)
		jsonReply(w, 200, `{"members_info":[
 {".tag":"member_info","profile":{"team_member_id":"dbmid:A","email":"a@x.com","status":{".tag":"active"},"name":{"given_name":"A","surname":"X"},"groups":[]},
  "roles":[{"role_id":"pid_dbtmr:2","name":"User management admin","description":""}]},
 {".tag":"id_not_found","id_not_found":"nobody@x.com"}]}`)
	})
	got, err := c.GetMembers(t.Context(), []connector.Selector{{ExternalID: ""}, {Email: "a@x.com"}, {}, {ExternalID: "nobody@x.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || sent != `{"members":[{".tag":"email","email":"a@x.com"},{".tag":"external_id","external_id":"nobody@x.com"}]}` {
		t.Fatalf("sent %s", sent)
	}
	if len(got) != 4 || got[0] != nil || got[2] != nil || got[3] != nil || got[1] == nil ||
		got[1].ID != "dbmid:A" || got[1].Role != RoleUserManagementAdmin {
		t.Fatalf("got %v", got)
	}
}

func TestMalformedJSONAnswer(t *testing.T) {
	c, _ := literal(t, Options{ReadRetries: -1}, func(w http.ResponseWriter, r *http.Request) {
		jsonReply(w, 200, `{"members":[`)
	})
	var syn *json.SyntaxError
	err := c.ListMembers(t.Context(), false, func([]connector.Member) error { return nil })
	if e := asError(t, err); e.Kind != connector.Retryable || !errors.As(err, &syn) {
		t.Fatalf("got %v", err)
	}
}

// nopPacer lets every call through at once and only records pauses.
type nopPacer struct{ pauses atomic.Int32 }

func (p *nopPacer) Wait(context.Context) error { return nil }
func (p *nopPacer) Pause(time.Duration)        { p.pauses.Add(1) }

// With a Pacer the wait is the pacer's job, shared by every caller: the client
// itself does not sleep as well.
func TestRateLimitWaitIsLeftToThePacer(t *testing.T) {
	p := &nopPacer{}
	var n atomic.Int32
	c, _ := literal(t, Options{Pacer: p}, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			reply(w, 429, "text/plain", "")
			return
		}
		jsonReply(w, 200, `null`)
	})
	t0 := time.Now()
	if err := c.Recover(t.Context(), "dbmid:x"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 500*time.Millisecond || p.pauses.Load() != 1 {
		t.Fatalf("took %v with %d pauses", d, p.pauses.Load())
	}
}

func TestServiceUnavailableRetryAfterHonouredOnReads(t *testing.T) {
	var first time.Time
	var gap time.Duration
	c, calls := literal(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
		if first.IsZero() {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			reply(w, 503, "text/plain", "busy")
			return
		}
		gap = time.Since(first)
		jsonReply(w, 200, `{"groups":[],"cursor":"c","has_more":false}`)
	})
	if err := c.ListGroups(t.Context(), func([]connector.Group) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || gap < 900*time.Millisecond {
		t.Fatalf("%d calls, resent after %v", calls.Load(), gap)
	}
}
