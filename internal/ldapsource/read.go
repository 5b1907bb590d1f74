package ldapsource

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// User is one directory user as read.
type User struct {
	DN        string
	ID        string // lowercase UUID
	Username  string
	Email     string
	FirstName string
	LastName  string
	Disabled  bool
}

// Group is one group with its users, nested groups resolved.
type Group struct {
	DN      string
	ID      string
	Name    string
	Members []string // IDs of users read (and in scope), sorted as read
}

// Snapshot is a whole read. Full says it lists every user and group in
// scope, so that whoever is missing is gone; an incremental one lists only
// entries changed since the mark it was read from.
type Snapshot struct {
	Full      bool
	Users     []User
	Groups    []Group
	HighWater string // the greatest change mark seen; the next incremental reads from it
	Entries   int    // LDAP entries read, every search counted
	Pages     int
	// Escalated says that an incremental read found changed groups and read
	// everything instead: nested membership needs the whole graph.
	Escalated bool
}

// ReadOptions shape one read.
type ReadOptions struct {
	// Since, when set, reads only entries changed at or after this mark.
	Since string
	// OnPage is called after each page arrives (progress, and tests that
	// stop the server mid-read).
	OnPage func(entries int)
	// Timeout bounds each request; default 2 minutes.
	Timeout time.Duration
}

// ErrRead wraps every failure of a read: nothing of it may be applied.
var ErrRead = errors.New("ldap read failed")

// Read connects, binds and reads the directory. Any error means no snapshot.
func Read(ctx context.Context, cfg Config, password string, opt ReadOptions) (*Snapshot, error) {
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	c, err := Connect(ctx, cfg, password, opt.Timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	defer c.Close()
	r := &reader{c: c, cfg: cfg, opt: opt, ctx: ctx}
	snap, err := r.read()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	return snap, nil
}

// Connect dials, secures and binds; errors say which step failed.
func Connect(ctx context.Context, cfg Config, password string, timeout time.Duration) (*ldap.Conn, error) {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	c, err := ldap.DialURL(cfg.URL, ldap.DialWithTLSConfig(tc), ldap.DialWithDialer(dialer(timeout)))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.URL, err)
	}
	c.SetTimeout(timeout)
	if cfg.StartTLS {
		if err := c.StartTLS(tc); err != nil {
			c.Close()
			return nil, fmt.Errorf("StartTLS with %s: %w", cfg.URL, err)
		}
	}
	if err := c.Bind(cfg.BindDN, password); err != nil {
		c.Close()
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return nil, fmt.Errorf("bind as %q refused: wrong DN or password (check the bind password file): %w", cfg.BindDN, err)
		}
		return nil, fmt.Errorf("bind as %q: %w", cfg.BindDN, err)
	}
	return c, nil
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	u, _ := url.Parse(cfg.URL)
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CA)) {
			return nil, errors.New("the CA file holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

type reader struct {
	ctx  context.Context
	c    *ldap.Conn
	cfg  Config
	opt  ReadOptions
	snap Snapshot
	isAD bool
}

func (r *reader) read() (*Snapshot, error) {
	r.isAD = r.cfg.Preset == PresetAD && r.serverIsAD()
	if r.opt.Since != "" {
		changed, err := r.groupsChangedSince(r.opt.Since)
		if err != nil {
			return nil, err
		}
		if !changed {
			return r.incremental()
		}
		r.snap.Escalated = true
	}
	return r.full()
}

// serverIsAD asks the root DSE for AD's capability
// (LDAP_CAP_ACTIVE_DIRECTORY_OID), which also promises
// LDAP_MATCHING_RULE_IN_CHAIN.
func (r *reader) serverIsAD() bool {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"supportedCapabilities"}, nil)
	res, err := r.c.Search(req)
	if err != nil || len(res.Entries) == 0 {
		return false
	}
	for _, v := range res.Entries[0].GetAttributeValues("supportedCapabilities") {
		if v == "1.2.840.113556.1.4.800" {
			return true
		}
	}
	return false
}

// inChain is LDAP_MATCHING_RULE_IN_CHAIN: AD walks nested groups itself.
const inChain = "1.2.840.113556.1.4.1941"

func (r *reader) userAttrs() []string {
	a := r.cfg.Attrs
	out := []string{a.ID, a.Username, a.Email, a.FirstName, a.LastName, a.Changed}
	if a.Disabled != "" {
		out = append(out, a.Disabled)
	}
	return out
}

func (r *reader) full() (*Snapshot, error) {
	r.snap.Full = true
	userFilter := r.cfg.UserFilter
	if r.isAD && r.cfg.ScopeGroup != "" {
		userFilter = fmt.Sprintf("(&%s(memberOf:%s:=%s))", userFilter, inChain, ldap.EscapeFilter(r.cfg.ScopeGroup))
	}
	users, byDN, err := r.readUsers(userFilter)
	if err != nil {
		return nil, err
	}
	groups, err := r.readGroups(r.cfg.GroupFilter)
	if err != nil {
		return nil, err
	}
	g := newGraph(groups, byDN)
	if r.cfg.ScopeGroup != "" && !r.isAD {
		if _, ok := g.groups[normDN(r.cfg.ScopeGroup)]; !ok {
			extra, err := r.readGroupAt(r.cfg.ScopeGroup)
			if err != nil {
				return nil, err
			}
			g.add(extra)
		}
		inScope := g.usersOf(normDN(r.cfg.ScopeGroup))
		kept := users[:0]
		for _, u := range users {
			if inScope[u.ID] {
				kept = append(kept, u)
			}
		}
		users = kept
		for dn, u := range byDN {
			if !inScope[u.ID] {
				delete(byDN, dn)
			}
		}
	}
	r.snap.Users = users
	r.snap.Groups = g.resolve(groups)
	return &r.snap, nil
}

// incremental reads the users changed since the mark. Groups did not change
// (read checked), so memberships stand; users not already owned are judged
// in scope by the caller.
func (r *reader) incremental() (*Snapshot, error) {
	users, _, err := r.readUsers(fmt.Sprintf("(&%s%s)", r.cfg.UserFilter, r.changedFilter(r.opt.Since)))
	if err != nil {
		return nil, err
	}
	r.snap.Users = users
	if r.snap.HighWater == "" {
		r.snap.HighWater = r.opt.Since
	}
	return &r.snap, nil
}

// changedFilter selects entries changed at or after since: a USN is exact,
// so the next one up; a timestamp has one-second steps, so the second itself
// is read again (changes in it after the last read would be lost otherwise).
func (r *reader) changedFilter(since string) string {
	attr := r.cfg.Attrs.Changed
	if n, err := strconv.ParseInt(since, 10, 64); err == nil {
		return fmt.Sprintf("(%s>=%d)", attr, n+1)
	}
	return fmt.Sprintf("(%s>=%s)", attr, ldap.EscapeFilter(since))
}

// groupsChangedSince says whether any group changed at or after the mark. A
// group changed in the mark's own second counts as changed: it may have
// changed after the read that set the mark, and a needless full read is
// better than a missed membership.
func (r *reader) groupsChangedSince(since string) (bool, error) {
	changed := false
	err := r.search(r.cfg.BaseDN, fmt.Sprintf("(&%s%s)", r.cfg.GroupFilter, r.changedFilter(since)), []string{"1.1"}, func(*ldap.Entry) error {
		changed = true
		return nil
	})
	return changed, err
}

func (r *reader) readUsers(filter string) ([]User, map[string]*User, error) {
	var users []User
	err := r.search(r.cfg.BaseDN, filter, r.userAttrs(), func(e *ldap.Entry) error {
		u, err := r.user(e)
		if err != nil {
			return err
		}
		users = append(users, u)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if r.cfg.DisabledFilter != "" {
		disabled := map[string]bool{}
		err := r.search(r.cfg.BaseDN, fmt.Sprintf("(&%s%s)", filter, r.cfg.DisabledFilter), []string{"1.1"}, func(e *ldap.Entry) error {
			disabled[normDN(e.DN)] = true
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		for i := range users {
			users[i].Disabled = users[i].Disabled || disabled[normDN(users[i].DN)]
		}
	}
	byDN := make(map[string]*User, len(users))
	for i := range users {
		byDN[normDN(users[i].DN)] = &users[i]
	}
	return users, byDN, nil
}

func (r *reader) user(e *ldap.Entry) (User, error) {
	a := r.cfg.Attrs
	id, err := entryID(e, a.ID)
	if err != nil {
		return User{}, err
	}
	r.mark(e)
	u := User{DN: e.DN, ID: id, Username: e.GetAttributeValue(a.Username), Email: e.GetAttributeValue(a.Email),
		FirstName: e.GetAttributeValue(a.FirstName), LastName: e.GetAttributeValue(a.LastName)}
	if a.Disabled != "" {
		u.Disabled = disabledValue(a.Disabled, e.GetAttributeValue(a.Disabled))
	}
	return u, nil
}

// disabledValue reads AD's userAccountControl (ACCOUNTDISABLE is 0x2) or a
// flag attribute.
func disabledValue(attr, v string) bool {
	v = strings.TrimSpace(v)
	if strings.EqualFold(attr, "userAccountControl") {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n&0x2 != 0
	}
	switch strings.ToLower(v) {
	case "", "false", "0", "no":
		return false
	}
	return true
}

type rawGroup struct {
	dn, id, name string
	members      []string // normalised DNs
}

func (r *reader) readGroups(filter string) ([]rawGroup, error) {
	var groups []rawGroup
	err := r.search(r.cfg.BaseDN, filter, r.groupAttrs(), func(e *ldap.Entry) error {
		g, err := r.group(e)
		if err == nil {
			groups = append(groups, g)
		}
		return err
	})
	return groups, err
}

func (r *reader) groupAttrs() []string {
	a := r.cfg.Attrs
	return []string{a.ID, a.GroupName, a.Member, "uniqueMember", a.Changed}
}

func (r *reader) readGroupAt(dn string) (rawGroup, error) {
	var g rawGroup
	found := false
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", r.groupAttrs(), nil)
	res, err := r.c.Search(req)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return g, fmt.Errorf("scope group %q does not exist", dn)
		}
		return g, fmt.Errorf("read scope group %q: %w", dn, err)
	}
	for _, e := range res.Entries {
		if g, err = r.group(e); err != nil {
			return g, err
		}
		found = true
	}
	if !found {
		return g, fmt.Errorf("scope group %q does not exist", dn)
	}
	return g, nil
}

func (r *reader) group(e *ldap.Entry) (rawGroup, error) {
	id, err := entryID(e, r.cfg.Attrs.ID)
	if err != nil {
		return rawGroup{}, err
	}
	r.mark(e)
	members, err := rangedValues(e, r.cfg.Attrs.Member, func(desc string) (*ldap.Entry, error) {
		req := ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{desc}, nil)
		res, err := r.c.Search(req)
		if err != nil {
			return nil, err
		}
		if len(res.Entries) != 1 {
			return nil, fmt.Errorf("group %q vanished while its members were read", e.DN)
		}
		return res.Entries[0], nil
	})
	if err != nil {
		return rawGroup{}, err
	}
	members = append(members, e.GetAttributeValues("uniqueMember")...)
	g := rawGroup{dn: e.DN, id: id, name: e.GetAttributeValue(r.cfg.Attrs.GroupName)}
	for _, m := range members {
		g.members = append(g.members, normDN(m))
	}
	return g, nil
}

// mark raises the high-water mark to the entry's change mark.
func (r *reader) mark(e *ldap.Entry) {
	if v := e.GetAttributeValue(r.cfg.Attrs.Changed); laterMark(v, r.snap.HighWater) {
		r.snap.HighWater = v
	}
}

// laterMark compares change marks: numbers (USNs) as numbers, timestamps
// (generalized time, same form) as text.
func laterMark(a, b string) bool {
	if a == "" {
		return false
	}
	if b == "" {
		return true
	}
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		return x > y
	}
	return a > b
}

// search runs one paged search (RFC 2696) and hands each entry to fn. Any
// error, a referral or a result without its end fails the whole search.
func (r *reader) search(base, filter string, attrs []string, fn func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(uint32(r.cfg.PageSize))
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		res, err := r.c.Search(req)
		if err != nil {
			return fmt.Errorf("search %q under %q: %w", filter, base, err)
		}
		if len(res.Referrals) > 0 {
			return fmt.Errorf("search %q under %q: the server referred to %s, which is not followed: set the base DN inside one server", filter, base, strings.Join(res.Referrals, ", "))
		}
		r.snap.Pages++
		r.snap.Entries += len(res.Entries)
		for _, e := range res.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		if r.opt.OnPage != nil {
			r.opt.OnPage(r.snap.Entries)
		}
		ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctl.Cookie)
	}
}
