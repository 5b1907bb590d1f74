// Package ldapsource reads users, their disabled state and (nested) groups
// from an LDAP directory: OpenLDAP or Active Directory (MISSION D6). A read
// is whole or it is an error: every page of every search must arrive before
// a Snapshot is returned, so that a dropped connection, a size limit, a
// referral or a timeout can never look like people who left.
package ldapsource

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Presets of attribute names and filters.
const (
	PresetOpenLDAP = "openldap"
	PresetAD       = "ad"
)

// Attributes names the LDAP attributes a directory user and group are read
// from. Empty fields take the preset's.
type Attributes struct {
	ID        string `json:"id,omitempty"`       // a stable UUID: entryUUID, objectGUID
	Username  string `json:"username,omitempty"` // uid, sAMAccountName or userPrincipalName
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	Member    string `json:"member,omitempty"`  // a group's member DNs
	Changed   string `json:"changed,omitempty"` // the high-water mark: modifyTimestamp, uSNChanged
	// Disabled is an attribute that marks a disabled user: for AD
	// userAccountControl (bit 0x2); otherwise disabled when present with a
	// value other than FALSE, false, 0 or no.
	Disabled string `json:"disabled,omitempty"`
}

// Config is one LDAP source. The bind password is kept apart (sealed).
type Config struct {
	URL         string `json:"url"` // ldap://host:389 or ldaps://host:636
	BindDN      string `json:"bind_dn"`
	BaseDN      string `json:"base_dn"`
	UserFilter  string `json:"user_filter,omitempty"`
	GroupFilter string `json:"group_filter,omitempty"`
	// ScopeGroup, when set, limits the users synced to its (nested) members.
	ScopeGroup string `json:"scope_group,omitempty"`
	StartTLS   bool   `json:"start_tls,omitempty"`
	// CA is PEM of the certificate authorities to trust (--ca-file); empty:
	// the system's.
	CA     string `json:"ca,omitempty"`
	Preset string `json:"preset"`
	// DisabledFilter marks disabled users by an LDAP filter (OpenLDAP), e.g.
	// (pwdAccountLockedTime=*); it adds one search.
	DisabledFilter string     `json:"disabled_filter,omitempty"`
	Attrs          Attributes `json:"attributes,omitempty"`
	PageSize       int        `json:"page_size,omitempty"` // default 500; AD serves at most 1,000
	// Every is how often serve syncs the source; empty: only on demand.
	Every string `json:"every,omitempty"`
}

// preset returns the preset's defaults.
func preset(name string) (Config, bool) {
	switch name {
	case PresetOpenLDAP:
		return Config{
			UserFilter:  "(objectClass=inetOrgPerson)",
			GroupFilter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
			Attrs: Attributes{ID: "entryUUID", Username: "uid", Email: "mail", FirstName: "givenName",
				LastName: "sn", GroupName: "cn", Member: "member", Changed: "modifyTimestamp"},
		}, true
	case PresetAD:
		return Config{
			// Computers are users too in AD.
			UserFilter:  "(&(objectClass=user)(!(objectClass=computer)))",
			GroupFilter: "(objectClass=group)",
			Attrs: Attributes{ID: "objectGUID", Username: "sAMAccountName", Email: "mail", FirstName: "givenName",
				LastName: "sn", GroupName: "cn", Member: "member", Changed: "uSNChanged", Disabled: "userAccountControl"},
		}, true
	}
	return Config{}, false
}

// Normalize fills in the preset's defaults for every field left empty.
func (c *Config) Normalize() {
	c.URL = strings.TrimSpace(c.URL)
	c.BindDN = strings.TrimSpace(c.BindDN)
	c.BaseDN = strings.TrimSpace(c.BaseDN)
	c.ScopeGroup = strings.TrimSpace(c.ScopeGroup)
	if c.Preset == "" {
		c.Preset = PresetOpenLDAP
	}
	p, ok := preset(c.Preset)
	if !ok {
		return
	}
	def := func(v *string, d string) {
		if strings.TrimSpace(*v) == "" {
			*v = d
		}
	}
	def(&c.UserFilter, p.UserFilter)
	def(&c.GroupFilter, p.GroupFilter)
	a, d := &c.Attrs, p.Attrs
	for _, f := range []struct {
		v *string
		d string
	}{{&a.ID, d.ID}, {&a.Username, d.Username}, {&a.Email, d.Email},
		{&a.FirstName, d.FirstName}, {&a.LastName, d.LastName}, {&a.GroupName, d.GroupName}, {&a.Member, d.Member},
		{&a.Changed, d.Changed}, {&a.Disabled, d.Disabled}} {
		def(f.v, f.d)
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
}

// Validate names every field that is wrong, with what is allowed.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		add("url %q must be ldap://host[:port] or ldaps://host[:port]", c.URL)
	} else if u.Scheme == "ldaps" && c.StartTLS {
		add("start_tls is for ldap:// URLs; %q already uses TLS", c.URL)
	}
	if _, ok := preset(c.Preset); !ok {
		add("preset %q is not one of openldap, ad", c.Preset)
	}
	for _, d := range []struct {
		field, v string
		required bool
	}{
		{"bind_dn", c.BindDN, true}, {"base_dn", c.BaseDN, true}, {"scope_group", c.ScopeGroup, false}} {
		if d.v == "" {
			if d.required {
				add("%s is required", d.field)
			}
			continue
		}
		if _, err := ldap.ParseDN(d.v); err != nil {
			add("%s %q is not a DN (%v)", d.field, d.v, err)
		}
	}
	for _, f := range []struct{ field, v string }{{"user_filter", c.UserFilter}, {"group_filter", c.GroupFilter}, {"disabled_filter", c.DisabledFilter}} {
		if f.v == "" {
			continue
		}
		if _, err := ldap.CompileFilter(f.v); err != nil {
			add("%s %q is not an LDAP filter (%v)", f.field, f.v, err)
		}
	}
	if c.PageSize < 0 || c.PageSize > 10000 {
		add("page_size must be between 1 and 10000, got %d", c.PageSize)
	}
	if c.Every != "" {
		if d, err := time.ParseDuration(c.Every); err != nil || d < time.Minute {
			add("every %q must be a duration of at least 1m, such as 15m or 1h", c.Every)
		}
	}
	if c.CA != "" && !strings.Contains(c.CA, "-----BEGIN CERTIFICATE-----") {
		add("ca must be PEM certificates (-----BEGIN CERTIFICATE-----)")
	}
	return errors.Join(errs...)
}

// Interval is how often the source is synced; 0: only on demand.
func (c Config) Interval() time.Duration {
	d, _ := time.ParseDuration(c.Every)
	return d
}
