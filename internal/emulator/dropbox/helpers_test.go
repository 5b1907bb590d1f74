package dropbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// t0 is the frozen start of every test clock, so timestamps are literal.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	testToken = "tok"
	stamp0    = "2025-06-01T12:00:00Z"
)

// env is one emulator with team "acme" (admin admin@acme.example) on loopback.
type env struct {
	t    testing.TB
	srv  *Server
	url  string
	team *Team
	ids  map[string]string // local part of a seeded email -> team_member_id
}

func newEnv(t testing.TB, mods ...func(*Options)) *env {
	t.Helper()
	opt := Options{Teams: []TeamConfig{{Name: "acme", Token: testToken}}, Now: func() time.Time { return t0 }}
	for _, m := range mods {
		m(&opt)
	}
	srv, url := StartTest(t, opt)
	e := &env{t: t, srv: srv, url: url, team: srv.Team("acme"), ids: map[string]string{}}
	if e.team != nil {
		e.ids["admin"] = e.team.Snapshot().AdminID
	}
	return e
}

// newStdEnv seeds the members most contract cases use:
// ann active (ext-ann, a file), bob invited, cat suspended, uma a user
// management admin, dan removed (recoverable).
func newStdEnv(t testing.TB, mods ...func(*Options)) *env {
	e := newEnv(t, mods...)
	e.seed(
		SeedMember{Email: "ann@acme.example", GivenName: "Ann", Surname: "Archer", ExternalID: "ext-ann", Status: "active", Files: []string{"a.txt"}},
		SeedMember{Email: "bob@acme.example", GivenName: "Bob", Surname: "Baker"},
		SeedMember{Email: "cat@acme.example", GivenName: "Cat", Surname: "Cole", Status: "suspended"},
		SeedMember{Email: "uma@acme.example", GivenName: "Uma", Surname: "Ulm", Status: "active", Role: "User management admin"},
		SeedMember{Email: "dan@acme.example", GivenName: "Dan", Surname: "Dale", ExternalID: "ext-dan", Status: "removed", Files: []string{"d.txt"}},
	)
	return e
}

func (e *env) seed(ms ...SeedMember) []string {
	e.t.Helper()
	ids, err := e.team.Seed(ms)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, m := range ms {
		local, _, _ := strings.Cut(m.Email, "@")
		e.ids[local] = ids[i]
	}
	return ids
}

// expand replaces {name} with the id of the seeded member name.
func (e *env) expand(s string) string {
	keys := make([]string, 0, len(e.ids))
	for k := range e.ids {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, "{"+k+"}", e.ids[k])
	}
	return s
}

// member returns the emulator's record of a member by email or id.
func (e *env) member(emailOrID string) Member {
	e.t.Helper()
	m, ok := e.team.Member(emailOrID)
	if !ok {
		e.t.Fatalf("no member %s", emailOrID)
	}
	return m
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request; an empty ctype sends none.
func (e *env) do(method, path, token, ctype, body string) resp {
	e.t.Helper()
	r, err := e.send(method, path, token, ctype, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// rawPost calls a Team API route and reports a transport error (such as a
// lost answer) instead of failing the test.
func (e *env) rawPost(route, body string) (resp, error) {
	return e.send("POST", "/2/team/"+route, testToken, "application/json", e.expand(body))
}

func (e *env) send(method, path, token, ctype, body string) (resp, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		return resp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, string(b)}, err
}

// post calls a Team API route ("members/list_v2") with a JSON body as the
// team's token; {name} placeholders are expanded first.
func (e *env) post(route, body string) resp {
	e.t.Helper()
	ctype := "application/json"
	if body == "" {
		ctype = ""
	}
	return e.do("POST", "/2/team/"+route, testToken, ctype, e.expand(body))
}

// mustPost calls a route and fails the test unless it answers 200; it
// returns the decoded answer.
func (e *env) mustPost(route, body string) map[string]any {
	e.t.Helper()
	r := e.post(route, body)
	if r.status != 200 {
		e.t.Fatalf("%s: %s", route, r)
	}
	var v map[string]any
	_ = json.Unmarshal([]byte(r.body), &v)
	return v
}

// apiCase is one contract case: a request as raw JSON and the literal answer.
type apiCase struct {
	name   string
	setup  func(e *env)
	route  string
	req    string
	status int
	want   string // JSON answer (see matchJSON), or the exact text of a 400
	check  func(t *testing.T, e *env)
}

// runCases runs each case on a fresh standard team.
func runCases(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newStdEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			r := e.post(tc.route, tc.req)
			e.expectResp(t, r, tc.status, tc.want)
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// expectResp checks status, content type and body: 400s are plain text,
// everything else JSON.
func (e *env) expectResp(t *testing.T, r resp, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	ct := r.header.Get("Content-Type")
	if status == http.StatusBadRequest {
		if !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("400 with Content-Type %q, want text/plain", ct)
		}
		if want != "" && r.body != e.expand(want) {
			t.Errorf("400 body\n got %s\nwant %s", r.body, e.expand(want))
		}
		return
	}
	if ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	matchJSON(t, r.body, e.expand(want))
}

// matchJSON compares JSON exactly: same keys (so an optional field that should
// be omitted must be absent), same values; except that a wanted string "*"
// matches any value and "~re" any string matching the regexp re.
func matchJSON(t testing.TB, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v: %s", err, want)
	}
	if diffs := diffJSON("$", g, w); len(diffs) > 0 {
		t.Errorf("answer differs:\n  %s\n got %s", strings.Join(diffs, "\n  "), got)
	}
}

func diffJSON(path string, g, w any) []string {
	if ws, ok := w.(string); ok {
		switch {
		case ws == "*":
			return nil
		case strings.HasPrefix(ws, "~"):
			gs, ok := g.(string)
			if !ok || !regexp.MustCompile(ws[1:]).MatchString(gs) {
				return []string{fmt.Sprintf("%s: %v does not match %s", path, g, ws[1:])}
			}
			return nil
		}
	}
	switch wv := w.(type) {
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %v, want an object", path, g)}
		}
		return diffObjects(path, gv, wv)
	case []any:
		gv, ok := g.([]any)
		if !ok || len(gv) != len(wv) {
			return []string{fmt.Sprintf("%s: got %v, want %d items", path, g, len(wv))}
		}
		var out []string
		for i := range wv {
			out = append(out, diffJSON(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i])...)
		}
		return out
	}
	if fmt.Sprint(g) != fmt.Sprint(w) || (g == nil) != (w == nil) {
		return []string{fmt.Sprintf("%s: got %v, want %v", path, g, w)}
	}
	return nil
}

func diffObjects(path string, g, w map[string]any) []string {
	var out []string
	keys := map[string]bool{}
	for k := range g {
		keys[k] = true
	}
	for k := range w {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		gv, gok := g[k]
		wv, wok := w[k]
		switch {
		case !wok:
			out = append(out, fmt.Sprintf("%s.%s: unexpected field (%v)", path, k, gv))
		case !gok:
			out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
		default:
			out = append(out, diffJSON(path+"."+k, gv, wv)...)
		}
	}
	return out
}

// conflict is the 409 envelope of a void error tag.
func conflict(tag string) string {
	return fmt.Sprintf(`{"error_summary":"%s/...","error":{".tag":"%s"}}`, tag, tag)
}

func badBody(route, msg string) string {
	return fmt.Sprintf(`Error in call to API function "team/%s": request body: %s`, route, msg)
}

func jsonOf(v any) string {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return buf.String()
}

// Literal profiles of the standard members, as TeamMemberProfile.
const (
	annProfile = `{"team_member_id":"{ann}","account_id":"~^dbid:.{35}$","email":"ann@acme.example","email_verified":true,
		"external_id":"ext-ann","secondary_emails":[],"status":{".tag":"active"},
		"name":{"given_name":"Ann","surname":"Archer","familiar_name":"Ann","display_name":"Ann Archer","abbreviated_name":"AA"},
		"membership_type":{".tag":"full"},"joined_on":"2025-06-01T12:00:00Z","groups":[],
		"member_folder_id":"~^[0-9]+$","root_folder_id":"~^[0-9]+$"}`
	bobProfile = `{"team_member_id":"{bob}","account_id":"~^dbid:.{35}$","email":"bob@acme.example","email_verified":false,
		"secondary_emails":[],"status":{".tag":"invited"},
		"name":{"given_name":"Bob","surname":"Baker","familiar_name":"Bob","display_name":"Bob Baker","abbreviated_name":"BB"},
		"membership_type":{".tag":"full"},"invited_on":"2025-06-01T12:00:00Z","groups":[],
		"member_folder_id":"~^[0-9]+$","root_folder_id":"~^[0-9]+$"}`
	teamRole = `{"role_id":"pid_dbtmr:AAAAAFMcx6E0tax39Kb0H671TzWLeE07dwaqFQ5fDRy2","name":"Team","description":"Manage everything and access all permissions"}`
	umaRole  = `{"role_id":"pid_dbtmr:AAAAAGDkFh1GwH0y1OjcXEoU2ZsuzEeRzGMRp3kYr7Q7","name":"User management admin","description":"Add, edit, and delete team members"}`
)

func decode(t testing.TB, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}
