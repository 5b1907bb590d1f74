package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/engine"
)

func newSyncCmd(g *globals) *cobra.Command {
	var appName string
	var full, allowDeletes bool
	c := &cobra.Command{
		Use:   "sync --app APP [--full] [--allow-deletes]",
		Short: "Provision an app now: process its queued changes",
		Long: `Processes every queued change of the app now, instead of waiting for the
workers of roster serve. With --full, Roster first lists the whole team and
repairs drift: members changed, suspended or removed in Dropbox directly are put
back as the directory says; attributes whose source is the app are imported;
members no directory user accounts for are reported and left alone.

A sync that would suspend or remove more than the app's deletion guard allows
(default 20% of its members, at least 10) changes nothing and says so; review
it with roster plan, then pass --allow-deletes if it is intended.`,
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
			if allowDeletes {
				q.Set("allow_deletes", "true")
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", "/api/v1/apps/"+url.PathEscape(appName)+"/sync?"+q.Encode(), nil, &raw); err != nil {
				return err
			}
			return printSynced(c, g, raw, nil)
		},
	}
	c.Flags().StringVar(&appName, "app", "", "app instance to sync")
	c.Flags().BoolVar(&full, "full", false, "list the whole team first and repair drift")
	c.Flags().BoolVar(&allowDeletes, "allow-deletes", false, "proceed even if the deletion guard trips")
	return c
}

func newTasksCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "tasks", Short: "Work that failed and waits for an admin"}
	var appName string
	list := &cobra.Command{
		Use:   "list [--app APP]",
		Short: "List open tasks",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/tasks?"+url.Values{"app": {appName}}.Encode(), nil, &raw); err != nil {
				return err
			}
			var l struct {
				Items []struct {
					App       string `json:"app"`
					User      string `json:"user"`
					Group     string `json:"group"`
					Attempts  int    `json:"attempts"`
					LastError string `json:"last_error"`
				}
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			rows := make([][]string, len(l.Items))
			for i, t := range l.Items {
				target := t.User
				if t.Group != "" {
					target = "group " + t.Group
				}
				rows[i] = []string{t.App, target, strconv.Itoa(t.Attempts), t.LastError}
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"APP", "TARGET", "ATTEMPTS", "LAST ERROR"}, rows)
		},
	}
	list.Flags().StringVar(&appName, "app", "", "only this app")
	act := func(verb, short string) *cobra.Command {
		var group bool
		c := &cobra.Command{
			Use:   verb + " APP USERNAME | " + verb + " APP --group GROUP",
			Short: short,
			Args:  exactArgs(2, "APP and USERNAME (or GROUP with --group)"),
			RunE: func(c *cobra.Command, args []string) error {
				cl, err := g.client()
				if err != nil {
					return err
				}
				body, what := map[string]string{"app": args[0], "user": args[1]}, args[1]
				if group {
					body, what = map[string]string{"app": args[0], "group": args[1]}, "group "+args[1]
				}
				if err := cl.do(c.Context(), "POST", "/api/v1/tasks/"+verb, body, nil); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "%s: task of %s in %s\n", verb, what, args[0])
				return nil
			},
		}
		c.Flags().BoolVar(&group, "group", false, "the task is a pushed group's, not a user's")
		return c
	}
	c.AddCommand(list, act("retry", "Queue a task again with fresh attempts"), act("dismiss", "Drop a task; the next change to the user queues it again"))
	return c
}

func appsTestCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Test the connection to the app's Dropbox team",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", "/api/v1/apps/"+url.PathEscape(args[0])+"/test", nil, &raw); err != nil {
				return err
			}
			var r struct {
				Team     string `json:"team"`
				TeamID   string `json:"team_id"`
				Licensed int    `json:"licensed_users"`
				Used     int    `json:"provisioned_users"`
				Admin    string `json:"authenticated_admin"`
			}
			_ = json.Unmarshal(raw, &r)
			return fields(c.OutOrStdout(), g, raw, [][2]string{{"Connection", "ok"}, {"Team", r.Team}, {"Team ID", r.TeamID},
				{"Licences", fmt.Sprintf("%d provisioned of %d", r.Used, r.Licensed)}, {"Authenticated admin", r.Admin}})
		},
	}
}

func appsPendingCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "pending-activation NAME",
		Short: "List silently provisioned users who still have to activate through the Dropbox SSO page",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/apps/"+url.PathEscape(args[0])+"/pending-activation", nil, &raw); err != nil {
				return err
			}
			var l struct {
				Items []struct {
					User  string `json:"user"`
					Email string `json:"email"`
				}
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			rows := make([][]string, len(l.Items))
			for i, a := range l.Items {
				rows[i] = []string{a.User, a.Email}
			}
			if g.output != "json" {
				fmt.Fprintf(c.OutOrStdout(), "%d user(s) must activate by signing in at https://www.dropbox.com/sso (or through the app tile):\n", len(rows))
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"USER", "EMAIL"}, rows)
		},
	}
}

// waitingText says what the workers still have for the app.
func waitingText(queued, retrying, inFlight int) string {
	parts := []string{fmt.Sprintf("%d change(s)", queued)}
	if retrying > 0 {
		parts = append(parts, fmt.Sprintf("%d retrying after an error (the workers try again after a backoff; roster plan shows when)", retrying))
	}
	if inFlight > 0 {
		parts = append(parts, fmt.Sprintf("%d in a worker's hands now", inFlight))
	}
	return strings.Join(parts, ": ")
}

// printSynced prints what a sync or an apply did, after pairs.
func printSynced(c *cobra.Command, g *globals, raw []byte, pairs [][2]string) error {
	var res struct {
		Stats struct {
			Items, Done, Retrying, Tasks int
			Ops                          map[string]int
		}
		OpenTasks int    `json:"open_tasks"`
		Queued    int    `json:"queued"`
		Message   string `json:"message"` // 202: another worker does it
		Waiting   *struct {
			Queued   int `json:"queued"`
			Due      int `json:"due"`
			InFlight int `json:"in_flight"`
			Retrying int `json:"retrying"`
		} `json:"waiting"`
		Reconcile *struct {
			Members  int
			Drifted  []struct{ User string }
			Vanished []struct{ User string }
			Unknown  []struct{ Email, Status string }
		}
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if res.Message != "" && g.output != "json" {
		fmt.Fprintln(c.OutOrStdout(), res.Message)
		return nil
	}
	st := res.Stats
	processed := strconv.Itoa(st.Items)
	if w := res.Waiting; st.Items == 0 && w != nil && w.Queued > 0 {
		processed = "nothing due now"
	}
	pairs = append(pairs, [][2]string{{"Processed", processed}, {"Done", strconv.Itoa(st.Done)},
		{"Retrying", strconv.Itoa(st.Retrying)}, {"New tasks", strconv.Itoa(st.Tasks)}, {"Open tasks", strconv.Itoa(res.OpenTasks)}}...)
	if w := res.Waiting; w != nil && w.Queued > 0 {
		pairs = append(pairs, [2]string{"Still queued", waitingText(w.Queued, w.Retrying, w.InFlight)})
	}
	if rc := res.Reconcile; rc != nil {
		pairs = append(pairs, [2]string{"Team members", strconv.Itoa(rc.Members)}, [2]string{"Drifted", strconv.Itoa(len(rc.Drifted))},
			[2]string{"Gone from the team", strconv.Itoa(len(rc.Vanished))}, [2]string{"Queued to repair", strconv.Itoa(res.Queued)})
		for _, u := range rc.Unknown {
			pairs = append(pairs, [2]string{"Unknown member (left alone)", u.Email + " (" + u.Status + ")"})
		}
	}
	ops := make([]string, 0, len(st.Ops))
	for k := range st.Ops {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	for _, k := range ops {
		pairs = append(pairs, [2]string{"  " + engine.OpLabel(k), strconv.Itoa(st.Ops[k])})
	}
	return fields(c.OutOrStdout(), g, raw, pairs)
}
