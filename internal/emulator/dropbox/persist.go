package dropbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// stateFile is what Options.StateFile holds (see "State file" in the package doc).
type stateFile struct {
	Version     int               `json:"version"`
	ClockOffset time.Duration     `json:"clock_offset_ns"`
	Teams       []teamState       `json:"teams"`
	Tokens      map[string]*token `json:"tokens"`
	Refresh     map[string]*token `json:"refresh_tokens"`
	Clients     map[string]string `json:"oauth_clients"`
}

type teamState struct {
	Name     string               `json:"name"`
	ID       string               `json:"team_id"`
	Licenses int                  `json:"licenses"`
	Settings settings             `json:"settings"`
	Personal map[string]*Personal `json:"personal_accounts"`
	AdminID  string               `json:"admin_id"`
	Welcome  []WelcomeEmail       `json:"welcome_emails"`
	Members  []Member             `json:"members"`
	Groups   []groupState         `json:"groups"`
	Everyone string               `json:"everyone_group,omitempty"`
	Jobs     map[string]job       `json:"jobs"`
}

type groupState struct {
	ID         string             `json:"group_id"`
	Name       string             `json:"group_name"`
	ExternalID string             `json:"group_external_id,omitempty"`
	Management string             `json:"group_management_type"`
	Created    time.Time          `json:"created"`
	System     bool               `json:"system,omitempty"`
	Deleted    bool               `json:"deleted,omitempty"`
	Members    []groupMemberState `json:"members"`
}

type groupMemberState struct {
	ID    string `json:"id"`
	Owner bool   `json:"owner,omitempty"`
}

const stateVersion = 1

// Save writes the whole state to Options.StateFile atomically: a temporary
// file in the same directory, fsync, rename, fsync of the directory, so a
// crash never leaves a torn file. It is a no-op without a state file.
func (s *Server) Save() error {
	if s.opt.StateFile == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	gen := s.dirty.Load()
	data, err := json.Marshal(s.capture())
	if err != nil {
		return fmt.Errorf("encode emulator state: %w", err)
	}
	if err := writeAtomic(s.opt.StateFile, data); err != nil {
		return fmt.Errorf("save emulator state: %w", err)
	}
	s.saved = gen
	return nil
}

// capture copies the state under the locks; encoding happens after, so a big
// team is locked only for the copy.
func (s *Server) capture() stateFile {
	s.mu.RLock()
	sf := stateFile{Version: stateVersion, ClockOffset: time.Duration(s.offset.Load()), Tokens: map[string]*token{},
		Refresh: map[string]*token{}, Clients: maps.Clone(s.clients)}
	for k, v := range s.tokens {
		c := *v
		sf.Tokens[k] = &c
	}
	for k, v := range s.refresh {
		c := *v
		sf.Refresh[k] = &c
	}
	s.mu.RUnlock()
	for _, t := range s.allTeams() {
		sf.Teams = append(sf.Teams, t.state())
	}
	return sf
}

func (t *Team) state() teamState {
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := teamState{Name: t.name, ID: t.id, Licenses: t.licenses, Settings: t.settings, Personal: map[string]*Personal{},
		AdminID: t.adminID, Welcome: slices.Clone(t.welcome), Members: make([]Member, len(t.members)), Jobs: map[string]job{}}
	ts.Settings.Domains = slices.Clone(t.settings.Domains)
	for k, p := range t.personal {
		c := *p
		c.Files = slices.Clone(p.Files)
		ts.Personal[k] = &c
	}
	for i, m := range t.members {
		ts.Members[i] = copyMember(m)
	}
	for _, g := range t.groups {
		gs := groupState{ID: g.ID, Name: g.Name, ExternalID: g.ExternalID, Management: g.Management, Created: g.Created,
			System: g.System, Deleted: g.Deleted, Members: make([]groupMemberState, 0, len(g.members))}
		for _, gm := range g.order {
			if !gm.gone {
				gs.Members = append(gs.Members, groupMemberState{gm.id, gm.owner})
			}
		}
		ts.Groups = append(ts.Groups, gs)
	}
	if t.everyone != nil {
		ts.Everyone = t.everyone.ID
	}
	for id, j := range t.jobs {
		ts.Jobs[id] = *j
	}
	return ts
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// load reads the state file, if there is one.
func (s *Server) load(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read emulator state: %w", err)
	}
	var sf stateFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return fmt.Errorf("emulator state %s: %w", path, err)
	}
	if sf.Version != stateVersion {
		return fmt.Errorf("emulator state %s: version %d, want %d", path, sf.Version, stateVersion)
	}
	s.offset.Store(int64(sf.ClockOffset))
	for _, ts := range sf.Teams {
		s.teams[ts.Name] = s.restoreTeam(ts)
	}
	maps.Copy(s.tokens, sf.Tokens)
	maps.Copy(s.refresh, sf.Refresh)
	maps.Copy(s.clients, sf.Clients)
	s.saved = s.dirty.Load()
	return nil
}

func (s *Server) restoreTeam(ts teamState) *Team {
	t := &Team{s: s, name: ts.Name, id: ts.ID, licenses: ts.Licenses, settings: ts.Settings, adminID: ts.AdminID, welcome: ts.Welcome}
	t.init()
	maps.Copy(t.personal, ts.Personal)
	for i := range ts.Members {
		m := ts.Members[i]
		m.groups = map[string]struct{}{}
		t.members = append(t.members, &m)
		t.byID[m.ID] = &m
		if t.holdsKeys(&m) {
			t.index(&m)
		}
		if m.Status != StatusRemoved {
			s.reg.claimEmail(m.Email, t.name)
		}
		t.count(&m, 1)
	}
	for _, gs := range ts.Groups {
		g := &Group{ID: gs.ID, Name: gs.Name, ExternalID: gs.ExternalID, Management: gs.Management, Created: gs.Created,
			System: gs.System, Deleted: gs.Deleted, members: map[string]*groupMember{}}
		t.addGroup(g)
		for _, gm := range gs.Members {
			t.joinGroup(g, gm.ID, gm.Owner)
		}
	}
	t.everyone = t.groupByID[ts.Everyone]
	for id, j := range ts.Jobs {
		t.jobs[id] = &j
		t.trackJob(&j)
	}
	return t
}

// startSaver saves, at most SaveInterval after a change, while the server runs.
func (s *Server) startSaver() {
	if s.opt.StateFile == "" {
		return
	}
	s.stopSaver, s.saverDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.saverDone)
		tick := time.NewTicker(s.opt.SaveInterval)
		defer tick.Stop()
		for {
			select {
			case <-s.stopSaver:
				return
			case <-tick.C:
				if s.needsSave() {
					if err := s.Save(); err != nil {
						s.log.Error("emulator: save state", "err", err)
					}
				}
			}
		}
	}()
}

func (s *Server) needsSave() bool {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return s.dirty.Load() != s.saved
}
