package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ldapFlags are an LDAP source's settings on the command line; they build
// its config. The bind password is read from a file, never the command line.
type ldapFlags struct {
	url, bindDN, passwordFile, baseDN     string
	userFilter, groupFilter, scopeGroup   string
	caFile, every, fullEvery, preset      string
	disabledFilter                        string
	startTLS                              bool
	guardPercent, guardMin, pageSize      int
	attrID, attrUsername, attrEmail       string
	attrFirst, attrLast, attrGroup        string
	attrMember, attrChanged, attrDisabled string
}

func (f *ldapFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.url, "url", "", "ldap: the directory's URL, ldaps://host:636 or ldap://host:389")
	fl.StringVar(&f.bindDN, "bind-dn", "", "ldap: the DN Roster binds as (read access is enough)")
	fl.StringVar(&f.passwordFile, "bind-password-file", "", "ldap: read the bind password from this file (stored sealed)")
	fl.StringVar(&f.baseDN, "base-dn", "", "ldap: where users and groups are searched")
	fl.StringVar(&f.userFilter, "user-filter", "", "ldap: the users' filter (default per preset)")
	fl.StringVar(&f.groupFilter, "group-filter", "", "ldap: the groups' filter (default per preset)")
	fl.StringVar(&f.scopeGroup, "scope-group", "", "ldap: sync only the (nested) members of this group's DN")
	fl.StringVar(&f.caFile, "ca-file", "", "ldap: PEM certificates of the CA to trust for ldaps:// and StartTLS")
	fl.BoolVar(&f.startTLS, "start-tls", false, "ldap: upgrade an ldap:// connection with StartTLS")
	fl.StringVar(&f.every, "every", "", "ldap: sync on this schedule while roster serve runs, such as 15m (default: only on demand)")
	fl.StringVar(&f.fullEvery, "full-every", "", "ldap: how often a scheduled sync reads everything, noticing deletions (default 1h)")
	fl.StringVar(&f.preset, "preset", "", "ldap: openldap (inetOrgPerson, uid) or ad (sAMAccountName, userAccountControl); default openldap")
	fl.StringVar(&f.disabledFilter, "disabled-filter", "", "ldap: a filter marking disabled users, such as (pwdAccountLockedTime=*)")
	fl.IntVar(&f.guardPercent, "guard-percent", 0, "ldap: hold a sync that would deactivate more than this percent of the users the source owns (default 10)")
	fl.IntVar(&f.guardMin, "guard-min", 0, "ldap: ... and more than this many (default 5)")
	fl.IntVar(&f.pageSize, "page-size", 0, "ldap: entries per page of a paged search (default 500; AD serves at most 1000)")
	for _, a := range []struct {
		v    *string
		name string
	}{{&f.attrID, "id"}, {&f.attrUsername, "username"}, {&f.attrEmail, "email"}, {&f.attrFirst, "first-name"}, {&f.attrLast, "last-name"},
		{&f.attrGroup, "group-name"}, {&f.attrMember, "member"}, {&f.attrChanged, "changed"}, {&f.attrDisabled, "disabled"}} {
		fl.StringVar(a.v, "attr-"+a.name, "", "ldap: the attribute read as "+a.name+" (default per preset)")
	}
}

// ldapNames are the flags that only an ldap source takes.
func ldapNames(c *cobra.Command) []string {
	var out []string
	c.Flags().Visit(func(fl *pflag.Flag) {
		if strings.HasPrefix(fl.Usage, "ldap:") {
			out = append(out, "--"+fl.Name)
		}
	})
	return out
}

// body puts the config the flags give (with what the source has, for set)
// and the bind password into m.
func (f *ldapFlags) body(c *cobra.Command, kind string, m map[string]any, base map[string]any) error {
	changed := ldapNames(c)
	if kind != "ldap" {
		if len(changed) > 0 {
			return usageErr("%s only apply to ldap sources", strings.Join(changed, ", "))
		}
		return nil
	}
	if len(changed) == 0 {
		return nil
	}
	if _, ok := m["config"]; ok {
		return usageErr("give --config or the ldap flags, not both")
	}
	cfg := base
	if cfg == nil {
		cfg = map[string]any{}
	}
	fl := c.Flags()
	set := func(flag, key string, v any) {
		if fl.Changed(flag) {
			cfg[key] = v
		}
	}
	set("url", "url", f.url)
	set("bind-dn", "bind_dn", f.bindDN)
	set("base-dn", "base_dn", f.baseDN)
	set("user-filter", "user_filter", f.userFilter)
	set("group-filter", "group_filter", f.groupFilter)
	set("scope-group", "scope_group", f.scopeGroup)
	set("start-tls", "start_tls", f.startTLS)
	set("every", "every", f.every)
	set("full-every", "full_every", f.fullEvery)
	set("preset", "preset", f.preset)
	set("disabled-filter", "disabled_filter", f.disabledFilter)
	set("page-size", "page_size", f.pageSize)
	if fl.Changed("guard-percent") || fl.Changed("guard-min") {
		g, _ := cfg["guard"].(map[string]any)
		if g == nil {
			g = map[string]any{"percent": 10, "min": 5}
		}
		if fl.Changed("guard-percent") {
			g["percent"] = f.guardPercent
		}
		if fl.Changed("guard-min") {
			g["min"] = f.guardMin
		}
		cfg["guard"] = g
	}
	attrs, _ := cfg["attributes"].(map[string]any)
	if attrs == nil {
		attrs = map[string]any{}
	}
	for flag, key := range map[string]string{"attr-id": "id", "attr-username": "username", "attr-email": "email", "attr-first-name": "first_name",
		"attr-last-name": "last_name", "attr-group-name": "group_name", "attr-member": "member", "attr-changed": "changed", "attr-disabled": "disabled"} {
		if fl.Changed(flag) {
			v, _ := fl.GetString(flag)
			attrs[key] = v
		}
	}
	cfg["attributes"] = attrs
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return &exitError{exitNotFound, fmt.Errorf("read --ca-file: %w", err)}
		}
		cfg["ca"] = string(pem)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	m["config"] = json.RawMessage(raw)
	if f.passwordFile != "" {
		if _, ok := m["secret"]; ok {
			return usageErr("give --bind-password-file or --secret-file, not both")
		}
		data, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return &exitError{exitNotFound, fmt.Errorf("read --bind-password-file: %w", err)}
		}
		m["secret"] = strings.TrimRight(string(data), "\r\n")
	}
	return nil
}

// sourceSyncJSON is the answer of a sync, as the API gives it.
type sourceSyncJSON struct {
	Source    string `json:"source"`
	Full      bool   `json:"full"`
	Escalated bool   `json:"escalated"`
	Entries   int    `json:"entries_read"`
	Pages     int    `json:"pages"`
	ReadMS    int64  `json:"read_ms"`
	Applied   int    `json:"applied"`
	DryRun    bool   `json:"dry_run"`
	Plan      struct {
		Changes []struct {
			Op      string         `json:"op"`
			User    string         `json:"user"`
			Group   string         `json:"group"`
			Members []string       `json:"members"`
			Fields  map[string]any `json:"fields"`
			Why     string         `json:"why"`
		} `json:"changes"`
		Counts        map[string]int `json:"counts"`
		Owned         int            `json:"owned_active"`
		Deactivations int            `json:"deactivations"`
		Limit         int            `json:"guard_limit"`
		Held          string         `json:"held"`
	} `json:"plan"`
}

// maxShown bounds the changes a sync prints one per line; -o json has all.
const maxShown = 200

func sourcesSyncCmd(g *globals) *cobra.Command {
	var plan, allowDeletes, incremental bool
	c := &cobra.Command{
		Use:   "sync NAME",
		Short: "Read an LDAP source now and apply what changed (--plan: only show it)",
		Long: "Reads the whole directory (or, with --incremental, what changed since the last read) and applies it: users and groups the source " +
			"owns are created, updated, deactivated when disabled or gone, reactivated when enabled again. A read that fails applies nothing. " +
			"A read that would deactivate more than the source's guard allows (10 % of the users it owns, at least 5) applies nothing until " +
			"run again with --allow-deletes.",
		Example: "  roster sources sync corp --plan\n  roster sources sync corp\n  roster sources sync corp --allow-deletes",
		Args:    exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			body := map[string]any{"plan": plan, "allow_deletes": allowDeletes, "incremental": incremental}
			if err := cl.do(c.Context(), "POST", "/api/v1/sources/"+url.PathEscape(args[0])+"/sync", body, &raw); err != nil {
				return err
			}
			if g.output == "json" {
				return printOut(c.OutOrStdout(), g, raw, nil, nil)
			}
			var res sourceSyncJSON
			if err := json.Unmarshal(raw, &res); err != nil {
				return err
			}
			printSourceSync(c, res)
			return nil
		},
	}
	c.Flags().BoolVar(&plan, "plan", false, "show what the sync would change and change nothing")
	c.Flags().BoolVar(&allowDeletes, "allow-deletes", false, "apply even the deactivations the source's guard would hold")
	c.Flags().BoolVar(&incremental, "incremental", false, "read only what changed since the last read (deletions wait for a full read)")
	return c
}

func printSourceSync(c *cobra.Command, res sourceSyncJSON) {
	w := c.OutOrStdout()
	kind := "full"
	if !res.Full {
		kind = "incremental"
	}
	fmt.Fprintf(w, "Source %s: %s read of %d entries in %d pages (%d ms).\n", res.Source, kind, res.Entries, res.Pages, res.ReadMS)
	for i, ch := range res.Plan.Changes {
		if i == maxShown {
			fmt.Fprintf(w, "  ... and %d more (-o json lists all)\n", len(res.Plan.Changes)-maxShown)
			break
		}
		target := ch.User
		if ch.Group != "" {
			target = "group " + ch.Group
		}
		line := fmt.Sprintf("  %-15s %s", ch.Op, target)
		if len(ch.Members) > 0 {
			line += ": " + strings.Join(ch.Members, ", ")
		}
		if len(ch.Fields) > 0 {
			keys := make([]string, 0, len(ch.Fields))
			for k := range ch.Fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			line += " (" + strings.Join(keys, ", ") + ")"
		}
		if ch.Why != "" {
			line += " — " + ch.Why
		}
		fmt.Fprintln(w, line)
	}
	counts := make([]string, 0, len(res.Plan.Counts))
	for op, n := range res.Plan.Counts {
		counts = append(counts, fmt.Sprintf("%s %d", op, n))
	}
	slices.Sort(counts)
	summary := "no changes"
	if len(counts) > 0 {
		summary = strings.Join(counts, ", ")
	}
	if res.DryRun {
		fmt.Fprintf(w, "Plan only, nothing changed: %s.\n", summary)
		if res.Plan.Held != "" {
			fmt.Fprintln(w, "A sync would be held: "+res.Plan.Held)
		}
		return
	}
	fmt.Fprintf(w, "Applied %d changes: %s.\n", res.Applied, summary)
}

// setLDAPConfig reads the source's config and lays the ldap flags over it.
func setLDAPConfig(c *cobra.Command, g *globals, lf *ldapFlags, name string, body map[string]any) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var cur sourceJSON
	if err := cl.do(c.Context(), "GET", "/api/v1/sources/"+url.PathEscape(name), nil, &cur); err != nil {
		return err
	}
	base := map[string]any{}
	if err := json.Unmarshal(cur.Config, &base); err != nil {
		return fmt.Errorf("decode the config of source %s: %w", name, err)
	}
	return lf.body(c, cur.Kind, body, base)
}
