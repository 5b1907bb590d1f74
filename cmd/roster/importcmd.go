package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newImportCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "import",
		Short: "Import an app's members and review how they match the directory",
		Long: `An import downloads every member of the Dropbox team (invited, active and
suspended) as app users and matches each to a directory user by the app's
rules (import.match_on, import.partial_names). Review the result with list,
then confirm, ignore or link. Confirming links a member to its directory user,
or creates the user, and assigns the app, without any call to Dropbox:
nobody is created in Dropbox and nobody gets an email.

Every import matches every unconfirmed app user again, so a member that had no
directory twin is matched once the twin exists.`,
	}
	c.AddCommand(importRunCmd(g), importListCmd(g), importReviewCmd(g, "confirm"), importReviewCmd(g, "ignore"), importLinkCmd(g))
	return c
}

func importPath(appName, rest string) string {
	return "/api/v1/apps/" + url.PathEscape(appName) + "/import" + rest
}

type importResult struct {
	Members, Linked, Exact, Partial, Ambiguous, Unmatched, Ignored, Confirmed, Created, Vanished int
	ProfileUpdates                                                                               int    `json:"profile_updates"`
	Safeguard                                                                                    string `json:"safeguard"`
	Problems, Notes                                                                              []struct{ Email, Reason string }
}

func importRunCmd(g *globals) *cobra.Command {
	var plan, allowVanished bool
	c := &cobra.Command{
		Use:   "run APP [--plan] [--allow-vanished]",
		Short: "Import the app's members now",
		Long: `Downloads the team, matches every member that is not yet confirmed, confirms
what the rules allow (import.auto_confirm_exact, import.auto_confirm_new),
imports attributes whose source is the app (import.app_sourced), and prints
what it found. With --plan nothing is written.

The import safeguard: if more than import.safeguard_percent (default 20%) of
the members Roster has linked are missing from Dropbox, the import changes
nothing and stops (exit code 4). Check the team, then pass --allow-vanished.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if plan {
				q.Set("plan", "true")
			}
			if allowVanished {
				q.Set("allow_vanished", "true")
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", importPath(args[0], "?"+q.Encode()), nil, &raw); err != nil {
				return err
			}
			return printImport(c.OutOrStdout(), g, raw, plan)
		},
	}
	c.Flags().BoolVar(&plan, "plan", false, "report what the import would do; write nothing")
	c.Flags().BoolVar(&allowVanished, "allow-vanished", false, "proceed even if the import safeguard trips")
	return c
}

func printImport(w io.Writer, g *globals, raw []byte, plan bool) error {
	var r importResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	if g.output == "json" {
		return printOut(w, g, raw, nil, nil)
	}
	verb := "Confirmed"
	if plan {
		verb = "Would confirm"
	}
	n := strconv.Itoa
	pairs := [][2]string{{"Members", n(r.Members)}, {"Already linked", n(r.Linked)}, {"Exact matches", n(r.Exact)},
		{"Partial matches", n(r.Partial)}, {"Ambiguous", n(r.Ambiguous)}, {"Unmatched", n(r.Unmatched)}, {"Ignored", n(r.Ignored)},
		{verb, n(r.Confirmed)}, {"New directory users", n(r.Created)}, {"Profile updates", n(r.ProfileUpdates)}, {"Gone from Dropbox", n(r.Vanished)}}
	if r.Safeguard != "" {
		pairs = append(pairs, [2]string{"Safeguard", r.Safeguard})
	}
	if err := fields(w, g, raw, pairs); err != nil {
		return err
	}
	for _, list := range []struct {
		title string
		items []struct{ Email, Reason string }
	}{{"Needs review", r.Problems}, {"Note", r.Notes}} {
		for _, p := range list.items {
			fmt.Fprintf(w, "%s: %s: %s\n", list.title, p.Email, p.Reason)
		}
	}
	return nil
}

type appUserJSON struct {
	ID        int64  `json:"id"`
	MemberID  string `json:"member_id"`
	Email     string `json:"email"`
	GivenName string `json:"given_name"`
	Surname   string `json:"surname"`
	Status    string `json:"status"`
	Role      string `json:"role"`
	State     string `json:"state"`
	Match     string `json:"match"`
	User      string `json:"user"`
	Reason    string `json:"reason"`
}

func importListCmd(g *globals) *cobra.Command {
	var state string
	var after, limit int
	c := &cobra.Command{
		Use:   "list APP [--state unmatched|matched|confirmed|ignored]",
		Short: "List the app users of the last import",
		Long: `Lists app users with their match: exact (username or email), partial (first
and last name), ambiguous (several directory users fit), none, linked (already
known) or manual (linked by an admin). REASON says why one cannot be
confirmed as it is, for example a member without a first or last name.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"state": state, "after": strconv.Itoa(after), "limit": strconv.Itoa(limit)} {
				if v != "" && v != "0" {
					q.Set(k, v)
				}
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", importPath(args[0], "/users?"+q.Encode()), nil, &raw); err != nil {
				return err
			}
			var l struct{ Items []appUserJSON }
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("unexpected answer: %w", err)
			}
			rows := make([][]string, len(l.Items))
			for i, au := range l.Items {
				rows[i] = []string{strconv.FormatInt(au.ID, 10), au.Email, strings.TrimSpace(au.GivenName + " " + au.Surname),
					au.Status, au.Role, au.State, au.Match, au.User, au.Reason}
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"ID", "EMAIL", "NAME", "STATUS", "ROLE", "STATE", "MATCH", "USER", "REASON"}, rows)
		},
	}
	f := c.Flags()
	f.StringVar(&state, "state", "", "only app users in this state: unmatched, matched, confirmed or ignored")
	f.IntVar(&after, "after", 0, "start after this app user ID (the next value of the previous page)")
	f.IntVar(&limit, "limit", 100, "at most this many (1–1000)")
	return c
}

func importReviewCmd(g *globals, verb string) *cobra.Command {
	short := map[string]string{
		"confirm": "Confirm app users: link each to its matched directory user, or create the user",
		"ignore":  "Keep app users out of automatic confirmation",
	}[verb]
	c := &cobra.Command{
		Use:   verb + " APP ID...",
		Short: short,
		Long: short + `. Each ID is the app user's ID from
roster import list, its Dropbox member ID or its email. All or none: if one
cannot be confirmed (ambiguous, no first or last name, username taken), the
command lists why and changes nothing. Nothing is sent to Dropbox.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", importPath(args[0], "/"+verb), map[string]any{"app_users": args[1:]}, &raw); err != nil {
				return err
			}
			var r struct{ Linked, Created, Already, Ignored int }
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("unexpected answer: %w", err)
			}
			pairs := [][2]string{{"Linked", strconv.Itoa(r.Linked)}, {"Created", strconv.Itoa(r.Created)}, {"Already confirmed", strconv.Itoa(r.Already)}}
			if verb == "ignore" {
				pairs = [][2]string{{"Ignored", strconv.Itoa(r.Ignored)}}
			}
			return fields(c.OutOrStdout(), g, raw, pairs)
		},
	}
	return c
}

func importLinkCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "link APP ID USER",
		Short: "Confirm an app user as the given directory user, whatever the rules matched",
		Long: `Links the app user (ID, member ID or email) to the directory user USER and
assigns the app with the member's role; for ambiguous, partial or unmatched
members. Nothing is sent to Dropbox.`,
		Args: cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", importPath(args[0], "/link"), map[string]string{"app_user": args[1], "user": args[2]}, &raw); err != nil {
				return err
			}
			var au appUserJSON
			if err := json.Unmarshal(raw, &au); err != nil {
				return fmt.Errorf("unexpected answer: %w", err)
			}
			return fields(c.OutOrStdout(), g, raw, [][2]string{{"App user", strconv.FormatInt(au.ID, 10)}, {"Email", au.Email},
				{"Linked to", au.User}, {"State", au.State}, {"Role", au.Role}})
		},
	}
}
