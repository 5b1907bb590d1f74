package dropbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Scopes (reference §2.2).
const (
	scopeMembersRead   = "members.read"
	scopeMembersWrite  = "members.write"
	scopeMembersDelete = "members.delete"
	scopeGroupsRead    = "groups.read"
	scopeGroupsWrite   = "groups.write"
	scopeTeamInfoRead  = "team_info.read"
)

// AllScopes returns the scopes a token has when none are configured, sorted.
func AllScopes() []string {
	return []string{scopeGroupsRead, scopeGroupsWrite, scopeMembersDelete, scopeMembersRead, scopeMembersWrite, scopeTeamInfoRead}
}

// call is one Team API request on its way to a handler; the team's lock is held.
type call struct {
	s     *Server
	t     *Team
	route string // "team/members/add_v2"
	body  []byte
	w     http.ResponseWriter
}

type handler func(c *call)

type routeSpec struct {
	path  string // under /2/team/
	scope string
	write bool // changes state: counts against the write budget, may be "lost"
	void  bool // the argument is Void: no body, or "null"
	h     handler
}

func routeTable() []routeSpec {
	return []routeSpec{
		{"members/add_v2", scopeMembersWrite, true, false, membersAdd},
		{"members/add/job_status/get_v2", scopeMembersWrite, false, false, membersAddJobStatus},
		{"members/list_v2", scopeMembersRead, false, false, membersList},
		{"members/list/continue_v2", scopeMembersRead, false, false, membersListContinue},
		{"members/get_info_v2", scopeMembersRead, false, false, membersGetInfo},
		{"members/get_available_team_member_roles", scopeMembersRead, false, true, membersRoles},
		{"members/set_profile_v2", scopeMembersWrite, true, false, membersSetProfile},
		{"members/set_admin_permissions_v2", scopeMembersWrite, true, false, membersSetPermissions},
		{"members/suspend", scopeMembersWrite, true, false, membersSuspend},
		{"members/unsuspend", scopeMembersWrite, true, false, membersUnsuspend},
		{"members/send_welcome_email", scopeMembersWrite, true, false, membersSendWelcome},
		{"members/remove", scopeMembersDelete, true, false, membersRemove},
		{"members/remove/job_status/get", scopeMembersDelete, false, false, membersRemoveJobStatus},
		{"members/recover", scopeMembersDelete, true, false, membersRecover},
		{"groups/create", scopeGroupsWrite, true, false, groupsCreate},
		{"groups/get_info", scopeGroupsRead, false, false, groupsGetInfo},
		{"groups/list", scopeGroupsRead, false, false, groupsList},
		{"groups/list/continue", scopeGroupsRead, false, false, groupsListContinue},
		{"groups/update", scopeGroupsWrite, true, false, groupsUpdate},
		{"groups/delete", scopeGroupsWrite, true, false, groupsDelete},
		{"groups/job_status/get", scopeGroupsWrite, false, false, groupsJobStatus},
		{"groups/members/add", scopeGroupsWrite, true, false, groupMembersAdd},
		{"groups/members/remove", scopeGroupsWrite, true, false, groupMembersRemove},
		{"groups/members/set_access_type", scopeGroupsWrite, true, false, groupMembersSetAccess},
		{"groups/members/list", scopeGroupsRead, false, false, groupMembersList},
		{"groups/members/list/continue", scopeGroupsRead, false, false, groupMembersListContinue},
		{"get_info", scopeTeamInfoRead, false, true, teamGetInfo},
		{"features/get_values", scopeTeamInfoRead, false, false, teamFeatures},
		{"token/get_authenticated_admin", scopeTeamInfoRead, false, true, teamAuthenticatedAdmin},
	}
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.calls = map[string]*atomic.Int64{}
	for _, sp := range routeTable() {
		route := "team/" + sp.path
		s.calls[route] = &atomic.Int64{}
		s.mux.Handle("/2/"+route, s.api(route, sp))
	}
	s.mux.HandleFunc("/2/", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusNotFound, fmt.Sprintf("Unknown API function: %q", strings.TrimPrefix(r.URL.Path, "/2/")))
	})
	s.oauthRoutes()
	s.adminRoutes()
}

// api wraps a handler in what every Team API route does: method, auth and
// scope, content type, counting, faults, the team's lock, and lost answers.
func (s *Server) api(route string, sp routeSpec) http.Handler {
	counter := s.calls[route]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counter.Add(1) // every call counts, also those answered with an error
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeText(w, http.StatusMethodNotAllowed, fmt.Sprintf("Error in call to API function %q: expected POST", route))
			return
		}
		if !s.faults.delay(r.Context()) {
			return
		}
		t := s.authorize(w, r, sp.scope)
		if t == nil {
			return
		}
		t.stats.record(route, sp.write) // from here on the call is the team's, whatever the answer
		body, ok := readBody(w, r, route, sp.void)
		if !ok {
			return
		}
		if s.faults.inject(w, t, route, sp.write) {
			return
		}
		s.serve(w, &call{s: s, t: t, route: route, body: body}, sp)
	})
}

// serve runs the handler under the team's lock. The answer is buffered and
// sent after the lock is released, so a slow reader never holds up the team;
// a "lost" write is committed and its connection closed without an answer.
func (s *Server) serve(w http.ResponseWriter, c *call, sp routeSpec) {
	lost := sp.write && s.faults.lose(c.route)
	buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	c.w = buf
	c.t.mu.Lock()
	sp.h(c)
	c.t.mu.Unlock()
	if sp.write {
		s.changed()
	}
	if lost {
		c.t.stats.addLost()
		s.log.Debug("emulator: answer lost", "route", c.route, "status", buf.status)
		dropConnection(w)
		return
	}
	buf.flushTo(w)
}

// bufferedResponse holds an answer until the team's lock is released.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// authorize checks the bearer token and its scopes (reference §2.1, §2.3).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string) *Team {
	h := r.Header.Get("Authorization")
	raw, ok := "", false
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		raw, ok = strings.TrimSpace(h[7:]), true
	}
	s.mu.RLock()
	var tok token // a copy: ExpireToken may change the original
	var t *Team
	if p := s.tokens[raw]; ok && p != nil {
		tok, t = *p, s.teams[p.Team]
	}
	s.mu.RUnlock()
	switch {
	case t == nil:
		authError(w, map[string]any{".tag": "invalid_access_token"})
	case tok.Expired || (!tok.ExpiresAt.IsZero() && !s.now().Before(tok.ExpiresAt)):
		authError(w, map[string]any{".tag": "expired_access_token"})
	case !tok.allows(scope):
		authError(w, map[string]any{".tag": "missing_scope", "required_scope": scope})
	default:
		return t
	}
	return nil
}

// readBody checks the content type and reads the argument (reference §1).
func readBody(w http.ResponseWriter, r *http.Request, route string, void bool) ([]byte, bool) {
	body, err := readAll(r)
	if err != nil {
		badRequest(w, route, "could not read request body")
		return nil, false
	}
	trimmed := bytes.TrimSpace(body)
	if void {
		if len(trimmed) == 0 || string(trimmed) == "null" {
			return nil, true
		}
		badRequest(w, route, "request body: expected null, got value")
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); !jsonContentType(ct) {
		badRequest(w, route, fmt.Sprintf("Bad HTTP \"Content-Type\" header: %q.  Expecting one of \"application/json\", "+
			"\"application/json; charset=utf-8\", \"text/plain; charset=dropbox-cors-hack\".", ct))
		return nil, false
	}
	return body, true
}

func jsonContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	cs := strings.ToLower(params["charset"])
	return (mt == "application/json" && (cs == "" || cs == "utf-8")) || (mt == "text/plain" && cs == "dropbox-cors-hack")
}

// readAll reads a request body of at most 16 MiB, sized by Content-Length when given.
func readAll(r *http.Request) ([]byte, error) {
	const most = 16 << 20
	if n := r.ContentLength; n >= 0 && n <= most {
		buf := make([]byte, n)
		_, err := io.ReadFull(r.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(r.Body, most))
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
}

// decode parses the JSON argument into v, answering a plain-text 400 and
// reporting false when it is malformed.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.bad(argErr("could not decode input as JSON"))
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.bad(err)
		return false
	}
	return true
}

// bad answers 400: "Error in call to API function "<route>": request body: <problem>".
func (c *call) bad(err error) {
	badRequest(c.w, c.route, "request body: "+jsonError(err))
}

// check answers 400 for the first argument error and reports whether there was none.
func (c *call) check(errs ...error) bool {
	if err := firstErr(errs...); err != nil {
		c.bad(err)
		return false
	}
	return true
}

// fail answers 409 with the route's error union (reference §2.3).
func (c *call) fail(tag string, value ...any) {
	writeJSON(c.w, http.StatusConflict, errorEnvelope{Summary: tag + "/...", Error: unionValue(tag, value...)})
}

func (c *call) reply(v any) { writeJSON(c.w, http.StatusOK, v) }
