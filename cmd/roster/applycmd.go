package main

import (
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newApplyCmd(g *globals) *cobra.Command {
	var appName string
	var allowDeletes bool
	c := &cobra.Command{
		Use:   "apply PLAN_FILE | apply --app APP PLAN_ID",
		Short: "Apply exactly a saved plan (roster plan --out), or refuse it if it changed",
		Long: `Applies a plan saved with roster plan --out FILE (or kept by the server, by
its id with --app). Roster recomputes the plan first: if it now holds a change
the saved plan does not show, nothing is applied and the new changes are
listed (exit 4); plan again, review, apply. Changes of the saved plan that a
worker made meanwhile count as done. A plan file that was edited is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var p planFile
			var body any
			if data, err := os.ReadFile(args[0]); err == nil {
				if err := json.Unmarshal(data, &p); err != nil || p.ID == "" {
					return usageErr("%s is not a plan saved with roster plan --out", args[0])
				}
				body = p
			} else if appName == "" || strings.ContainsAny(args[0], `/\.`) {
				return usageErr("%s: no such plan file (to apply a plan kept by the server by id, pass --app)", args[0])
			} else {
				p = planFile{ID: args[0], App: appName}
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if allowDeletes {
				q.Set("allow_deletes", "true")
			}
			var raw []byte
			path := "/api/v1/apps/" + url.PathEscape(p.App) + "/plans/" + url.PathEscape(p.ID) + "/apply?" + q.Encode()
			if err := cl.do(c.Context(), "POST", path, body, &raw); err != nil {
				return err
			}
			var res struct {
				Made []struct{ User, Op string } `json:"made"`
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				return err
			}
			pairs := [][2]string{{"Plan", p.ID}, {"Already made by a worker", strconv.Itoa(len(res.Made))}}
			return printSynced(c, g, raw, pairs)
		},
	}
	c.Flags().StringVar(&appName, "app", "", "app of a plan given by id")
	c.Flags().BoolVar(&allowDeletes, "allow-deletes", false, "release what the deletion guard holds")
	return c
}
