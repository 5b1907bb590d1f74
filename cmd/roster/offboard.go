package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// offboardingJSON is one leaver's off-boarding from an app.
type offboardingJSON struct {
	UserID      int64     `json:"user_id"`
	StartedAt   time.Time `json:"started_at"`
	Phase       string    `json:"phase"`
	RemoveDue   time.Time `json:"remove_due_at"`
	Held        bool      `json:"held"`
	ConfirmedBy string    `json:"confirmed_by"`
	Kept        bool      `json:"kept"`
}

// appsOffboardingCmds list an app's off-boardings, release what the deletion
// guard holds, cancel a pending removal and apply today's settings to past leavers.
func appsOffboardingCmds(g *globals) []*cobra.Command {
	base := func(app string) string { return "/api/v1/apps/" + url.PathEscape(app) + "/offboardings" }
	list := &cobra.Command{
		Use:   "offboardings APP",
		Short: "List an app's off-boardings: pending removals, held ones, confirmations",
		Args:  exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", base(args[0]), nil, &raw); err != nil {
				return err
			}
			var page struct{ Items []offboardingJSON }
			if err := json.Unmarshal(raw, &page); err != nil {
				return err
			}
			rows := make([][]string, 0, len(page.Items))
			for _, o := range page.Items {
				rows = append(rows, []string{strconv.FormatInt(o.UserID, 10), offboardingState(o), dash(o.ConfirmedBy), o.StartedAt.Local().Format(time.DateTime)})
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"USER ID", "STATE", "CONFIRMED BY", "STARTED"}, rows)
		},
	}
	release := &cobra.Command{
		Use:   "release APP",
		Short: "Release the off-boardings the deletion guard holds (as confirmed by you)",
		Args:  exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var out struct{ Released int }
			if err := cl.do(c.Context(), "POST", base(args[0])+"/release", nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "released %d held off-boarding(s) of %s; they are made at the next sync\n", out.Released, args[0])
			return nil
		},
	}
	keep := &cobra.Command{
		Use:   "keep APP USERNAME",
		Short: "Cancel a leaver's pending removal: the member stays suspended",
		Args:  exactArgs(2, "APP and USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			if err := cl.do(c.Context(), "POST", base(args[0])+"/"+url.PathEscape(args[1])+"/keep", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "removal of %s from %s cancelled; the member stays suspended\n", args[1], args[0])
			return nil
		},
	}
	reapply := &cobra.Command{
		Use:   "reapply APP",
		Short: "Apply the app's off-boarding settings in force now to past leavers (shows the impact, then asks)",
		Args:  exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var im impactJSON
			if err := cl.doConfirmed(c, g, "POST", base(args[0])+"/reapply", nil, &im); err != nil {
				return err
			}
			if im.Count == 0 {
				fmt.Fprintf(c.OutOrStdout(), "no past leaver of %s is off-boarded under other settings; nothing changed\n", args[0])
				return nil
			}
			fmt.Fprintf(c.OutOrStdout(), "today's settings apply to %d past leaver(s) of %s from the next sync\n", im.Count, args[0])
			return nil
		},
	}
	addYesFlag(reapply, g)
	return []*cobra.Command{list, release, keep, reapply}
}

func offboardingState(o offboardingJSON) string {
	switch {
	case o.Kept:
		return "kept suspended (removal cancelled)"
	case o.Held:
		return "held by the deletion guard"
	case o.Phase == "grace":
		return "suspended; removal due " + o.RemoveDue.Local().Format("2006-01-02 15:04")
	}
	return o.Phase
}
