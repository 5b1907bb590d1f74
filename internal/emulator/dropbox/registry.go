package dropbox

import "sync"

// registry knows which team holds each current member's email and each group
// id, so one team can answer user_on_another_team, user_not_in_team or
// group_not_in_team about another. Its lock is a leaf: it is taken while a
// team's lock is held, never the other way round, so teams cannot deadlock.
type registry struct {
	mu     sync.Mutex
	emails map[string]string // lower-case email -> team name
	groups map[string]string // group id -> team name
}

func newRegistry() *registry {
	return &registry{emails: map[string]string{}, groups: map[string]string{}}
}

// tryClaim claims an email for team unless another team holds it: the
// check and the claim are one step, so two teams cannot both take an email.
func (r *registry) tryClaim(email, team string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if owner := r.emails[key(email)]; owner != "" && owner != team {
		return false
	}
	r.emails[key(email)] = team
	return true
}

func (r *registry) claimEmail(email, team string) {
	r.mu.Lock()
	r.emails[key(email)] = team
	r.mu.Unlock()
}

// releaseEmail frees an email if team holds it.
func (r *registry) releaseEmail(email, team string) {
	r.mu.Lock()
	if r.emails[key(email)] == team {
		delete(r.emails, key(email))
	}
	r.mu.Unlock()
}

// emailTeam returns the team that holds an email as a current member, or "".
func (r *registry) emailTeam(email string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.emails[key(email)]
}

func (r *registry) claimGroup(id, team string) {
	r.mu.Lock()
	r.groups[id] = team
	r.mu.Unlock()
}

func (r *registry) groupTeam(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.groups[id]
}

// onOtherTeam reports whether an email belongs to a current member of a team other than t.
func (t *Team) onOtherTeam(email string) bool {
	owner := t.s.reg.emailTeam(email)
	return owner != "" && owner != t.name
}
