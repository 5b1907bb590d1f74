package dropbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TeamConfig describes a team to create at start (or, if a team of that name
// exists already, e.g. from the state file, a further token for it).
type TeamConfig struct {
	Name          string
	Token         string
	Scopes        []string // nil: every scope; otherwise calls needing another scope get 401 missing_scope
	Licenses      int      // purchased licences; 0: 1,000,000
	EveryoneGroup bool     // create the system-managed "Everyone at <name>" group (reference §10)
	AdminEmail    string   // the team admin the tokens act for; default admin@<name>.example
}

// Options configure an emulator.
type Options struct {
	Teams        []TeamConfig      // default: team "default" with token "test-token"
	AdminToken   string            // bearer token required on /_emulator/; "" leaves it open
	Faults       Faults            // initial faults
	StateFile    string            // JSON state, loaded by New, saved after changes and by Close
	SaveInterval time.Duration     // longest delay between a change and its save; default 1s
	Now          func() time.Time  // the clock (Advance moves it further); default time.Now
	OAuthClients map[string]string // OAuth 2 client id -> secret
	Logger       *slog.Logger      // default: discard
}

// Server is the emulator; it is an http.Handler. Create it with New and stop
// it with Close.
type Server struct {
	opt    Options
	log    *slog.Logger
	mux    *http.ServeMux
	faults *faultState
	reg    *registry
	calls  map[string]*atomic.Int64 // route -> calls; built once by routes(), read-only after
	offset atomic.Int64             // nanoseconds added to Options.Now

	mu      sync.RWMutex
	teams   map[string]*Team
	tokens  map[string]*token
	refresh map[string]*token   // refresh token -> the grant it renews
	codes   map[string]authCode // OAuth authorization codes
	clients map[string]string   // OAuth client id -> secret

	dirty     atomic.Uint64 // bumped by every change; the saver compares it with saved
	saveMu    sync.Mutex
	saved     uint64
	stopSaver chan struct{}
	saverDone chan struct{}
	closeOnce sync.Once
}

// token is a team access token.
type token struct {
	Team      string    `json:"team"`
	Scopes    []string  `json:"scopes"` // nil: all; [] none
	Expired   bool      `json:"expired,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // OAuth-issued tokens live 4 h of emulator time
	Client    string    `json:"client,omitempty"`    // the OAuth client a grant was made to
}

func (tk *token) allows(scope string) bool {
	return tk.Scopes == nil || slices.Contains(tk.Scopes, scope)
}

// New builds an emulator, loading Options.StateFile if it exists.
func New(opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SaveInterval <= 0 {
		opt.SaveInterval = time.Second
	}
	s := &Server{opt: opt, log: opt.Logger, faults: newFaultState(opt.Faults), reg: newRegistry(),
		teams: map[string]*Team{}, tokens: map[string]*token{}, refresh: map[string]*token{},
		codes: map[string]authCode{}, clients: map[string]string{}}
	for id, secret := range opt.OAuthClients {
		s.clients[id] = secret
	}
	s.routes()
	if opt.StateFile != "" {
		if err := s.load(opt.StateFile); err != nil {
			return nil, err
		}
	}
	if len(opt.Teams) == 0 && len(s.teams) == 0 {
		opt.Teams = []TeamConfig{{Name: "default", Token: "test-token"}}
	}
	for _, tc := range opt.Teams {
		if _, err := s.AddTeam(tc); err != nil {
			return nil, err
		}
	}
	s.startSaver()
	return s, nil
}

// Close stops the background saver and writes the state file a last time.
// Call it after the HTTP server has stopped taking requests.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.stopSaver != nil {
			close(s.stopSaver)
			<-s.saverDone
		}
		err = s.Save()
	})
	return err
}

// AddTeam creates a team with one active team admin, as every real team has,
// and registers its token. If the team exists, only the token is added.
func (s *Server) AddTeam(tc TeamConfig) (*Team, error) {
	if tc.Name == "" || tc.Token == "" {
		return nil, errors.New("a team needs a name and a token")
	}
	if tc.Token == s.opt.AdminToken {
		return nil, errors.New("a team token must differ from the admin token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.teams[tc.Name]
	if !ok {
		t = s.createTeam(tc)
		s.teams[tc.Name] = t
	}
	s.tokens[tc.Token] = &token{Team: tc.Name, Scopes: slices.Clone(tc.Scopes)}
	s.changed()
	return t, nil
}

func (s *Server) createTeam(tc TeamConfig) *Team {
	lic := tc.Licenses
	if lic == 0 {
		lic = 1_000_000
	}
	t := newTeam(s, tc.Name, lic)
	email := tc.AdminEmail
	if email == "" {
		email = "admin@" + strings.ToLower(strings.ReplaceAll(tc.Name, " ", "-")) + ".example"
	}
	admin := t.newMember(email, "Team", "Admin")
	t.setRole(admin, teamAdminRole)
	t.activate(admin)
	t.adminID = admin.ID
	if tc.EveryoneGroup {
		t.everyone = t.newGroup("Everyone at "+tc.Name, "", "system_managed")
		t.everyone.System = true
	}
	return t
}

// Team returns a team by name, or nil.
func (s *Server) Team(name string) *Team {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.teams[name]
}

// Now is the emulator's clock: Options.Now plus every Advance.
func (s *Server) Now() time.Time { return s.opt.Now().Add(time.Duration(s.offset.Load())) }

func (s *Server) now() time.Time { return s.Now() }

// Advance moves the emulator's clock forward, e.g. past the 7-day recovery window.
func (s *Server) Advance(d time.Duration) {
	s.offset.Add(int64(d))
	s.changed()
}

// ExpireToken makes a token answer 401 expired_access_token from now on.
func (s *Server) ExpireToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		t.Expired = true
		s.changed()
	}
}

// AddToken adds an access token for an existing team, limited to scopes
// unless scopes is nil.
func (s *Server) AddToken(team, tok string, scopes []string) error {
	if tok == "" || tok == s.opt.AdminToken {
		return errors.New("the token must be non-empty and differ from the admin token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.teams[team] == nil {
		return fmt.Errorf("no team %q", team)
	}
	s.tokens[tok] = &token{Team: team, Scopes: slices.Clone(scopes)}
	s.changed()
	return nil
}

// Calls returns how often each route was called, keyed like "team/members/add_v2".
// Every request to a known route counts, including those answered with an error.
func (s *Server) Calls() map[string]int64 {
	out := make(map[string]int64, len(s.calls))
	for r, n := range s.calls {
		if v := n.Load(); v > 0 {
			out[r] = v
		}
	}
	return out
}

// ResetCalls sets every route's call counter and every team's statistics to zero.
func (s *Server) ResetCalls() {
	for _, n := range s.calls {
		n.Store(0)
	}
	for _, t := range s.allTeams() {
		t.stats.reset()
	}
}

func (s *Server) allTeams() []*Team {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Team, 0, len(s.teams))
	for _, t := range s.teams {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Team) int { return strings.Compare(a.name, b.name) })
	return out
}

// changed records that state changed, for the saver.
func (s *Server) changed() { s.dirty.Add(1) }

// ServeHTTP serves the Team API under /2/, OAuth under /oauth2/ and the admin
// endpoint under /_emulator/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// StartTest runs an emulator on a loopback port for the life of the test and
// returns it with its base URL (e.g. "http://127.0.0.1:41234"; the Team API is
// under base+"/2/team/").
func StartTest(t testing.TB, opt Options) (*Server, string) {
	t.Helper()
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	return s, hs.URL
}
