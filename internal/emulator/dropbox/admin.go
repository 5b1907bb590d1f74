package dropbox

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The admin endpoint lives under /_emulator/, apart from every Dropbox route
// (those are under /2/ and /oauth2/), for tests and demos to seed and inspect
// state and set faults. Team tokens never open it; Options.AdminToken does.

type adminRoute struct {
	pattern, help string
	h             http.HandlerFunc
}

func (s *Server) adminTable() []adminRoute {
	return []adminRoute{
		{"GET /_emulator/teams", "list teams", s.adminTeams},
		{"POST /_emulator/teams", "create a team {name, token, scopes, licenses, everyone_group, admin_email}", s.adminAddTeam},
		{"GET /_emulator/teams/{team}", "a team's state; ?members=false leaves members out", s.adminTeam},
		{"PATCH /_emulator/teams/{team}", "settings {sso, verified_domains, licenses, personal_accounts, persistent_ids, directory_restrictions, external_sharing, admin_email, activate}", s.adminConfigure},
		{"POST /_emulator/teams/{team}/members", "seed members {members: [{email, given_name, surname, external_id, status, role, files, legal_hold, must_sign_tos}]}", s.adminSeed},
		{"GET /_emulator/teams/{team}/members/{member}", "one member by email or team_member_id", s.adminMember},
		{"POST /_emulator/teams/{team}/activate", "invited members accept {emails}", s.adminActivate},
		{"POST /_emulator/teams/{team}/sso_sign_in", "an invited member signs in through SSO {email}", s.adminSSO},
		{"POST /_emulator/teams/{team}/files", "give a member files {email, files}", s.adminFiles},
		{"POST /_emulator/teams/{team}/groups", "seed a group {name, external_id, management, members, owners}", s.adminGroup},
		{"GET /_emulator/teams/{team}/welcome_emails", "invitations sent", s.adminWelcome},
		{"GET /_emulator/teams/{team}/stats", "the team's counters: calls per route, writes, 429s, 5xx, lost answers, top rates per second, calls inside Retry-After", s.adminTeamStats},
		{"POST /_emulator/teams/{team}/tokens", "add a token {token, scopes}", s.adminToken},
		{"POST /_emulator/tokens/expire", "make a token expired {token}", s.adminExpire},
		{"GET /_emulator/faults", "current faults", s.adminFaults},
		{"PUT /_emulator/faults", "set faults {spec}", s.adminSetFaults},
		{"PUT /_emulator/write_limit", "change only the write limit of every team {writes_per_second} (0: none; burst one second)", s.adminSetWriteLimit},
		{"GET /_emulator/stats", "calls per route and per-team counters", s.adminStats},
		{"DELETE /_emulator/stats", "reset the counters", s.adminResetStats},
		{"GET /_emulator/clock", "the emulator's clock", s.adminClock},
		{"POST /_emulator/clock", "move the clock {advance: \"168h\"}", s.adminAdvance},
		{"POST /_emulator/oauth/clients", "register an OAuth client {client_id, client_secret}", s.adminClient},
		{"POST /_emulator/save", "write the state file now", s.adminSave},
	}
}

// AdminRoutes lists the admin endpoint's routes with what each does (its
// body's fields in braces), for help texts: the table the server serves.
func AdminRoutes() [][2]string {
	var s *Server // method values only; nothing is called
	table := s.adminTable()
	out := make([][2]string, len(table))
	for i, ar := range table {
		out[i] = [2]string{ar.pattern, ar.help}
	}
	return out
}

func (s *Server) adminRoutes() {
	table := s.adminTable()
	for _, ar := range table {
		s.mux.Handle(ar.pattern, s.adminAuth(ar.h))
	}
	s.mux.Handle("GET /_emulator/{$}", s.adminAuth(func(w http.ResponseWriter, r *http.Request) {
		idx := make([]map[string]string, len(table))
		for i, ar := range table {
			idx[i] = map[string]string{"route": ar.pattern, "does": ar.help}
		}
		writeJSON(w, http.StatusOK, map[string]any{"routes": idx})
	}))
	s.mux.Handle("/_emulator/", s.adminAuth(func(w http.ResponseWriter, r *http.Request) {
		adminErr(w, http.StatusNotFound, "no such admin route; GET /_emulator/ lists them")
	}))
}

func (s *Server) adminAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := s.opt.AdminToken
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			adminErr(w, http.StatusUnauthorized, "the emulator admin token is required (Authorization: Bearer <admin token>)")
			return
		}
		next(w, r)
	})
}

func adminErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// readAdmin decodes a JSON body strictly, so a misspelt field is an error.
func readAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminErr(w, http.StatusBadRequest, "bad body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) adminTeamOf(w http.ResponseWriter, r *http.Request) *Team {
	t := s.Team(r.PathValue("team"))
	if t == nil {
		adminErr(w, http.StatusNotFound, "no team "+r.PathValue("team"))
	}
	return t
}

func (s *Server) adminTeams(w http.ResponseWriter, _ *http.Request) {
	out := []map[string]string{}
	for _, t := range s.allTeams() {
		out = append(out, map[string]string{"name": t.name, "team_id": t.id})
	}
	writeJSON(w, http.StatusOK, map[string]any{"teams": out})
}

func (s *Server) adminAddTeam(w http.ResponseWriter, r *http.Request) {
	var tc struct {
		Name          string   `json:"name"`
		Token         string   `json:"token"`
		Scopes        []string `json:"scopes"`
		Licenses      int      `json:"licenses"`
		EveryoneGroup bool     `json:"everyone_group"`
		AdminEmail    string   `json:"admin_email"`
	}
	if !readAdmin(w, r, &tc) {
		return
	}
	t, err := s.AddTeam(TeamConfig{Name: tc.Name, Token: tc.Token, Scopes: tc.Scopes, Licenses: tc.Licenses,
		EveryoneGroup: tc.EveryoneGroup, AdminEmail: tc.AdminEmail})
	if err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": t.name, "team_id": t.id})
}

func (s *Server) adminTeam(w http.ResponseWriter, r *http.Request) {
	if t := s.adminTeamOf(w, r); t != nil {
		sn := t.Snapshot()
		if r.URL.Query().Get("members") == "false" {
			sn.Members = nil
		}
		writeJSON(w, http.StatusOK, sn)
	}
}

func (s *Server) adminConfigure(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var ts TeamSettings
	if t == nil || !readAdmin(w, r, &ts) {
		return
	}
	if err := t.Configure(ts); err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	sn := t.Snapshot()
	sn.Members = nil
	writeJSON(w, http.StatusOK, sn)
}

func (s *Server) adminSeed(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var body struct {
		Members []SeedMember `json:"members"`
	}
	if t == nil || !readAdmin(w, r, &body) {
		return
	}
	ids, err := t.Seed(body.Members)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "team_member_ids": ids})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"team_member_ids": ids})
}

func (s *Server) adminMember(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	if t == nil {
		return
	}
	m, ok := t.Member(r.PathValue("member"))
	if !ok {
		adminErr(w, http.StatusNotFound, "no member "+r.PathValue("member"))
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) adminActivate(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var body struct {
		Emails []string `json:"emails"`
	}
	if t != nil && readAdmin(w, r, &body) {
		t.Activate(body.Emails...)
		writeJSON(w, http.StatusOK, map[string]any{"activated": body.Emails})
	}
}

func (s *Server) adminSSO(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var body struct {
		Email string `json:"email"`
	}
	if t == nil || !readAdmin(w, r, &body) {
		return
	}
	if err := t.SSOSignIn(body.Email); err != nil {
		adminErr(w, http.StatusConflict, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signed_in": body.Email})
}

func (s *Server) adminFiles(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var body struct {
		Email string   `json:"email"`
		Files []string `json:"files"`
	}
	if t == nil || !readAdmin(w, r, &body) {
		return
	}
	if err := t.AddFiles(body.Email, body.Files...); err != nil {
		adminErr(w, http.StatusNotFound, err.Error())
		return
	}
	m, _ := t.Member(body.Email)
	writeJSON(w, http.StatusOK, map[string]any{"files": m.Files})
}

func (s *Server) adminGroup(w http.ResponseWriter, r *http.Request) {
	t := s.adminTeamOf(w, r)
	var sg SeedGroup
	if t == nil || !readAdmin(w, r, &sg) {
		return
	}
	id, err := t.SeedGroup(sg)
	if err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"group_id": id})
}

func (s *Server) adminWelcome(w http.ResponseWriter, r *http.Request) {
	if t := s.adminTeamOf(w, r); t != nil {
		writeJSON(w, http.StatusOK, map[string]any{"welcome_emails": t.WelcomeEmails()})
	}
}

func (s *Server) adminToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token  string   `json:"token"`
		Scopes []string `json:"scopes"`
	}
	if !readAdmin(w, r, &body) {
		return
	}
	if err := s.AddToken(r.PathValue("team"), body.Token, body.Scopes); err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": body.Token, "scopes": body.Scopes})
}

func (s *Server) adminExpire(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	if readAdmin(w, r, &body) {
		s.ExpireToken(body.Token)
		writeJSON(w, http.StatusOK, map[string]string{"expired": body.Token})
	}
}

func (s *Server) adminFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"spec": s.Faults().String()})
}

func (s *Server) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Spec string `json:"spec"`
	}
	if !readAdmin(w, r, &body) {
		return
	}
	f, err := ParseFaults(body.Spec)
	if err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, map[string]string{"spec": f.String()})
}

func (s *Server) adminSetWriteLimit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PerSecond *float64 `json:"writes_per_second"`
	}
	if !readAdmin(w, r, &body) {
		return
	}
	if body.PerSecond == nil {
		adminErr(w, http.StatusBadRequest, "writes_per_second is missing (0 removes the limit)")
		return
	}
	if err := s.SetWriteLimit(*body.PerSecond); err != nil {
		adminErr(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"spec": s.Faults().String()})
}

func (s *Server) adminStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) adminTeamStats(w http.ResponseWriter, r *http.Request) {
	if t := s.adminTeamOf(w, r); t != nil {
		writeJSON(w, http.StatusOK, t.Stats())
	}
}

func (s *Server) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetCalls()
	writeJSON(w, http.StatusOK, map[string]string{"reset": "ok"})
}

func (s *Server) adminClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"now": s.now().UTC().Format(time.RFC3339),
		"offset": time.Duration(s.offset.Load()).String()})
}

func (s *Server) adminAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Advance string `json:"advance"`
	}
	if !readAdmin(w, r, &body) {
		return
	}
	d, err := time.ParseDuration(body.Advance)
	if err != nil || d < 0 {
		adminErr(w, http.StatusBadRequest, "advance must be a non-negative duration such as 168h")
		return
	}
	s.Advance(d)
	s.adminClock(w, r)
}

func (s *Server) adminClient(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if !readAdmin(w, r, &body) {
		return
	}
	if body.ID == "" || body.Secret == "" {
		adminErr(w, http.StatusBadRequest, "client_id and client_secret are required")
		return
	}
	s.AddOAuthClient(body.ID, body.Secret)
	writeJSON(w, http.StatusCreated, map[string]string{"client_id": body.ID})
}

func (s *Server) adminSave(w http.ResponseWriter, _ *http.Request) {
	if s.opt.StateFile == "" {
		adminErr(w, http.StatusConflict, "no state file configured")
		return
	}
	if err := s.Save(); err != nil {
		adminErr(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"saved": s.opt.StateFile})
}
