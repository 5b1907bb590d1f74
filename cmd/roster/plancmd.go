package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type planJSON struct {
	App     string `json:"app"`
	Changes []struct {
		User         string               `json:"user"`
		Op           string               `json:"op"`
		Changes      map[string][2]string `json:"changes"`
		Detail       map[string]any       `json:"detail"`
		Skipped      string               `json:"skipped"`
		State        string               `json:"state"`
		Due          *time.Time           `json:"due_at"`
		Irreversible bool                 `json:"irreversible"`
	} `json:"changes"`
	Summary   map[string]int `json:"summary"`
	Offboard  int            `json:"offboard"`
	Held      int            `json:"held"`
	Scheduled int            `json:"scheduled"`
	Members   int            `json:"members"`
	Guard     *struct {
		Percent      int    `json:"percent"`
		Irreversible int    `json:"irreversible"`
		Window       string `json:"window"`
	} `json:"guard"`
	// Reconcile is what a full plan found listing the team.
	Reconcile *struct {
		Members int `json:"members"`
		Unknown []struct {
			Email  string `json:"email"`
			Status string `json:"status"`
		} `json:"unknown"`
	} `json:"reconcile"`
}

// stateText says where a change stands while workers run.
func stateText(state string, due *time.Time) string {
	switch state {
	case "", "due":
		return ""
	case "scheduled":
		if due != nil {
			return " [scheduled: after the grace period, on " + due.Local().Format("2006-01-02 15:04") + "]"
		}
	case "retrying":
		if due != nil {
			return " [retrying at " + due.Local().Format("15:04:05") + "]"
		}
	case "held":
		return " [held by the deletion guard]"
	case "in_flight":
		return " [in flight]"
	}
	return " [" + state + "]"
}

// planSymbols mark each kind of change like a Terraform plan does.
var planSymbols = map[string]string{"create": "+", "update": "~", "set_role": "~", "unsuspend": "~", "recover": "+", "suspend": "-", "remove": "-", "forget": "·"}

func newPlanCmd(g *globals) *cobra.Command {
	var appName, outFile string
	var full bool
	c := &cobra.Command{
		Use:   "plan --app APP [--full] [--out FILE]",
		Short: "Show what a sync would change, without changing anything",
		Long: `Shows what a sync of the app would change, without changing anything.

With --out, the plan is saved as an artifact: a file with its id, its
fingerprint and its changes. roster apply FILE applies exactly that plan, and
refuses it if what it would do changed since (a change it does not show).
Changes of the plan that a worker made meanwhile count as done.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if appName == "" {
				return usageErr("--app is required")
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if full {
				q.Set("full", "true")
			}
			var raw []byte
			if outFile != "" {
				if raw, err = savePlan(c, cl, appName, q, outFile); err != nil {
					return err
				}
			} else if err := cl.do(c.Context(), "GET", "/api/v1/apps/"+url.PathEscape(appName)+"/plan?"+q.Encode(), nil, &raw); err != nil {
				return err
			}
			if g.output == "json" {
				return printOut(c.OutOrStdout(), g, raw, nil, nil)
			}
			var p planJSON
			if err := json.Unmarshal(raw, &p); err != nil {
				return err
			}
			printPlan(c.OutOrStdout(), p)
			return nil
		},
	}
	c.Flags().StringVar(&appName, "app", "", "app instance to plan")
	c.Flags().BoolVar(&full, "full", false, "plan every user the app holds or should hold, not only queued changes")
	c.Flags().StringVar(&outFile, "out", "", "save the plan to FILE, for roster apply FILE")
	return c
}

// planFile is what roster apply sends of a saved plan.
type planFile struct {
	ID          string   `json:"id"`
	App         string   `json:"app"`
	Full        bool     `json:"full"`
	Fingerprint string   `json:"fingerprint"`
	Keys        []string `json:"keys"`
}

// savePlan makes a plan kept by the server, writes it to file and returns
// the plan's changes as shown.
func savePlan(c *cobra.Command, cl *client, appName string, q url.Values, file string) ([]byte, error) {
	var raw []byte
	if err := cl.do(c.Context(), "POST", "/api/v1/apps/"+url.PathEscape(appName)+"/plans?"+q.Encode(), nil, &raw); err != nil {
		return nil, err
	}
	var p struct {
		planFile
		Plan json.RawMessage `json:"plan"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(c.ErrOrStderr(), "Saved plan %s (fingerprint %s) to %s; apply exactly it with: roster apply %s\n", p.ID, p.Fingerprint, file, file)
	return p.Plan, nil
}

func printPlan(w io.Writer, p planJSON) {
	for _, ch := range p.Changes {
		sym := planSymbols[ch.Op]
		if ch.Skipped != "" {
			fmt.Fprintf(w, "  ! %s %s (not sent: %s)\n", ch.Op, ch.User, ch.Skipped)
			continue
		}
		irr := ""
		if ch.Irreversible {
			irr = " IRREVERSIBLE"
		}
		fmt.Fprintf(w, "  %s %s %s%s%s%s\n", sym, ch.Op, ch.User, detailText(ch.Detail), irr, stateText(ch.State, ch.Due))
		keys := make([]string, 0, len(ch.Changes))
		for k := range ch.Changes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "      %s: %q -> %q\n", k, ch.Changes[k][0], ch.Changes[k][1])
		}
	}
	ops := make([]string, 0, len(p.Summary))
	for op, n := range p.Summary {
		ops = append(ops, fmt.Sprintf("%d to %s", n, op))
	}
	sort.Strings(ops)
	if p.Scheduled > 0 {
		ops = append(ops, fmt.Sprintf("%d removal(s) scheduled after a grace period", p.Scheduled))
	}
	printUnknown(w, p)
	if len(ops) == 0 {
		if p.Reconcile != nil && len(p.Reconcile.Unknown) > 0 {
			fmt.Fprintf(w, "No changes to send. Every directory user of %s is in step; the members above are not Roster's.\n", p.App)
			return
		}
		fmt.Fprintf(w, "No changes. %s is in step with the directory.\n", p.App)
		return
	}
	fmt.Fprintf(w, "\nPlan for %s: %s.\n", p.App, strings.Join(ops, ", "))
	if p.Held > 0 {
		fmt.Fprintf(w, "Held by the deletion guard: %d off-boarding(s) wait for an admin: `roster sync --app %s --allow-deletes` releases them.\n", p.Held, p.App)
	}
	if p.Guard != nil && p.Held == 0 {
		fmt.Fprintf(w, "Deletion guard: these off-boardings would take %s past %d%% of its %d members or %d removals and wipes within %s, and would be held for an admin.\n",
			p.App, p.Guard.Percent, p.Members, p.Guard.Irreversible, p.Guard.Window)
	}
}

// printUnknown lists the members a full plan found that no directory user
// accounts for: Roster leaves them alone, and an import can adopt them.
func printUnknown(w io.Writer, p planJSON) {
	if p.Reconcile == nil || len(p.Reconcile.Unknown) == 0 {
		return
	}
	fmt.Fprintf(w, "Unknown to Roster (in %s, no directory user; left alone; `roster import run %s` can match them):\n", p.App, p.App)
	for _, u := range p.Reconcile.Unknown {
		fmt.Fprintf(w, "  ? %s (%s)\n", u.Email, u.Status)
	}
}

func detailText(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, d[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
