package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// groupPushCmds are the group push commands (MISSION F7) under `roster groups`.
func groupPushCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{pushCmd(g), unpushCmd(g), pushedCmd(g), renameGroupCmd(g)}
}

// ruleFlags are --group and --pattern, exactly one of them.
type ruleFlags struct{ group, pattern string }

func (f *ruleFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.group, "group", "", "a directory group, by name (it stays pushed when renamed)")
	c.Flags().StringVar(&f.pattern, "pattern", "", `a glob over group names, now and later: * any run, ? one character, case-insensitive (quote it: "eng-*")`)
}

func (f *ruleFlags) check(c *cobra.Command) error {
	if (f.group == "") == (f.pattern == "") {
		return usageErr("%s needs exactly one of --group NAME and --pattern GLOB", c.CommandPath())
	}
	return nil
}

func pushCmd(g *globals) *cobra.Command {
	var f ruleFlags
	var link bool
	c := &cobra.Command{
		Use:   "push APP (--group NAME | --pattern GLOB)",
		Short: "Push directory groups and their members to an app",
		Long: `Pushes a directory group, or every group whose name matches a pattern (groups
created or renamed later included), to the app: Roster creates the Dropbox group
and keeps its name and members in step, invited members included. The group is
assigned to the app (role member) if it was not, so its members get accounts.

A Dropbox group with the same name is reported as a clash unless --link-existing
is given; then Roster links it, adds and removes its own members, and leaves
members it does not manage alone. Pushing again retries a group that failed.
Changes reach Dropbox at the next sync, once features.push_groups is on.`,
		Args: exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(c); err != nil {
				return err
			}
			body := map[string]any{"group": f.group, "pattern": f.pattern, "link_existing": link}
			return pushCall(c, g, "/api/v1/apps/"+url.PathEscape(args[0])+"/group-push", body, "groups", "pushing")
		},
	}
	f.add(c)
	c.Flags().BoolVar(&link, "link-existing", false, "link a Dropbox group of the same name instead of reporting the clash")
	return c
}

func unpushCmd(g *globals) *cobra.Command {
	var f ruleFlags
	var del bool
	c := &cobra.Command{
		Use:   "unpush APP (--group NAME | --pattern GLOB)",
		Short: "Stop pushing groups to an app; leave their Dropbox groups or delete them",
		Long: `Removes a push rule. Groups no other rule pushes are unlinked at the next sync:
their Dropbox groups are left as they are, or deleted with --delete-in-app.
The groups' assignments to the app are kept: nobody loses an account.`,
		Args: exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(c); err != nil {
				return err
			}
			body := map[string]any{"group": f.group, "pattern": f.pattern, "delete_in_app": del}
			return pushCall(c, g, "/api/v1/apps/"+url.PathEscape(args[0])+"/group-push/remove", body, "unlinking", "unlinking")
		},
	}
	f.add(c)
	c.Flags().BoolVar(&del, "delete-in-app", false, "delete the Dropbox groups (default: leave them as they are)")
	return c
}

// pushCall posts a rule change and prints the groups it affects.
func pushCall(c *cobra.Command, g *globals, path string, body any, field, verb string) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var raw []byte
	if err := cl.do(c.Context(), "POST", path, body, &raw); err != nil {
		return err
	}
	if g.output == "json" {
		return printOut(c.OutOrStdout(), g, raw, nil, nil)
	}
	var ans map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ans); err != nil {
		return err
	}
	var groups []string
	var warning string
	_ = json.Unmarshal(ans[field], &groups)
	_ = json.Unmarshal(ans["warning"], &warning)
	out := c.OutOrStdout()
	if len(groups) == 0 {
		fmt.Fprintf(out, "%s no group now\n", verb)
	} else {
		fmt.Fprintf(out, "%s %d group(s): %s\n", verb, len(groups), strings.Join(groups, ", "))
	}
	if warning != "" {
		fmt.Fprintln(c.ErrOrStderr(), "warning:", warning)
	}
	return nil
}

type pushedJSON struct {
	Group       string `json:"group"`
	RemoteID    string `json:"dropbox_group_id"`
	Unlink      bool   `json:"unlink"`
	DeleteInApp bool   `json:"delete_in_app"`
	Members     int    `json:"members"`
	Pending     int    `json:"pending"`
	State       string `json:"state"`
	LastError   string `json:"last_error"`
	VerifiedAt  string `json:"verified_at"`
	Drift       *struct {
		Missing    int `json:"missing"`
		Unexpected int `json:"unexpected"`
		Stale      int `json:"stale"`
	} `json:"drift"`
}

// stateText is a group's state, with what drifted when it did.
func (p pushedJSON) stateText() string {
	switch {
	case p.Unlink && p.DeleteInApp:
		return "unlinking (delete in Dropbox)"
	case p.Unlink:
		return "unlinking (leave in Dropbox)"
	case p.State != "drifted" || p.Drift == nil:
		return p.State
	}
	var parts []string
	for _, c := range []struct {
		n    int
		what string
	}{{p.Drift.Missing, "missing"}, {p.Drift.Unexpected, "unexpected"}, {p.Drift.Stale, "stale"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return p.State + " (" + strings.Join(parts, ", ") + ")"
}

// verifiedText shows when Dropbox was last read, to the second.
func (p pushedJSON) verifiedText() string {
	t, err := time.Parse(time.RFC3339Nano, p.VerifiedAt)
	if err != nil {
		return orDash(p.VerifiedAt)
	}
	return t.UTC().Format(time.RFC3339)
}

func pushedCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pushed APP",
		Short: "List the groups pushed to an app, with their Dropbox group and state",
		Long: `Lists each pushed group: its linked Dropbox group id, the members Roster knows in
it, members still waiting for an account, and its state: in_step, queued (a
change waits for the next sync), retrying, task (failed; the error says why),
drifted (no change waits, yet the members Roster knows in the Dropbox group
differ from the directory group's, by their current accounts: missing,
unexpected, or stale ids of accounts made again), or unlinking. The push rules
follow.

The state compares with what Roster last knew of Dropbox. Members changed in
Dropbox directly are seen only when Roster reads the group again: VERIFIED is
when it last did (on create or link, and at each full sync). A full sync
(roster sync --app APP --full) reads every pushed group and repairs what
drifted.`,
		Args: exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/apps/"+url.PathEscape(args[0])+"/group-push", nil, &raw); err != nil {
				return err
			}
			if g.output == "json" {
				return printOut(c.OutOrStdout(), g, raw, nil, nil)
			}
			return printPushed(c, g, raw)
		},
	}
}

func printPushed(c *cobra.Command, g *globals, raw []byte) error {
	var ans struct {
		Items []pushedJSON `json:"items"`
		Rules []struct {
			Group        string `json:"group"`
			Pattern      string `json:"pattern"`
			LinkExisting bool   `json:"link_existing"`
		} `json:"rules"`
		Warning string `json:"warning"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return err
	}
	rows := make([][]string, len(ans.Items))
	for i, p := range ans.Items {
		rows[i] = []string{p.Group, orDash(p.RemoteID), strconv.Itoa(p.Members), strconv.Itoa(p.Pending), p.stateText(), p.verifiedText(), orDash(p.LastError)}
	}
	if err := printOut(c.OutOrStdout(), g, raw, []string{"GROUP", "DROPBOX GROUP", "MEMBERS", "PENDING", "STATE", "VERIFIED", "LAST ERROR"}, rows); err != nil {
		return err
	}
	out := c.OutOrStdout()
	for _, r := range ans.Rules {
		what := "group " + r.Group
		if r.Pattern != "" {
			what = "pattern " + r.Pattern
		}
		fmt.Fprintf(out, "rule: %s (link existing: %v)\n", what, r.LinkExisting)
	}
	if ans.Warning != "" {
		fmt.Fprintln(c.ErrOrStderr(), "warning:", ans.Warning)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func renameGroupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rename NAME NEW_NAME",
		Short: "Rename a group (apps it is pushed to rename their group too)",
		Args:  exactArgs(2, "NAME and NEW_NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showGroup(c, g, "POST", "/api/v1/groups/"+url.PathEscape(args[0])+"/rename", map[string]string{"name": args[1]})
		},
	}
}
