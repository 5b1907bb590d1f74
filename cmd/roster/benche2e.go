package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchE2ECmd() *cobra.Command {
	var users int
	var timeout time.Duration
	var databases []string
	var budget, output string
	c := &cobra.Command{
		Use:   "e2e",
		Short: "End to end: emulator and server as separate processes, users assigned through a group",
		Long: `Runs what a user runs: ` + "`roster emulate dropbox`" + ` and ` + "`roster serve`" + ` as two child
processes of this binary, loads --users users through the API (CSV, 20,000 a
request) into one group, adds a Dropbox app, assigns the group to it, and
times, through the team's own team/get_info, until every user is a member of
the team: the time to the first member, to the last, and members per second.
Setting up (users and group) is timed apart. --database is repeatable and runs
one measurement per store, one after the other: "sqlite" (temporary files) or
a postgres:// DSN (a fresh schema, dropped afterwards). --budget sets the app's
budget.calls_per_second (default: the server's own default).
Each store's line is printed as soon as it is measured.`,
		Example: `  roster bench e2e --users 20000 --database sqlite --database postgres://postgres@127.0.0.1/test`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if users < 1 {
				return usageErr("--users must be at least 1, not %d", users)
			}
			if output != "table" && output != "json" {
				return usageErr("--output %q: use table or json", output)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the roster binary: %w", err)
			}
			ctx, cancel := benchContext(c.Context(), timeout)
			defer cancel()
			out := c.OutOrStdout()
			for _, db := range databases {
				if db == "sqlite" {
					db = ""
				}
				res, err := bench.E2E(ctx, bench.E2EOptions{Exe: exe, Database: db, Users: users, Budget: budget, Progress: c.ErrOrStderr()})
				if err != nil {
					return fmt.Errorf("e2e on %s: %w", storeName(db), err)
				}
				if output == "json" {
					if err := json.NewEncoder(out).Encode(res); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(out, "e2e %s: %d users assigned through a group, budget %s: first member after %.2f s, all members after %.2f s = %.0f members/s; server peak RSS %.0f MiB (set-up through the API %.1f s, not counted)\n",
					res.Store, res.Users, res.Budget, res.FirstSeconds, res.Seconds, res.MembersPerS, res.ServerRSSMiB, res.SetupSeconds)
			}
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&users, "users", 20_000, "users in the assigned group")
	f.StringArrayVar(&databases, "database", []string{"sqlite"}, `"sqlite" or a postgres:// DSN; repeat to measure several stores in one run`)
	f.StringVar(&budget, "budget", "", "the app's budget.calls_per_second (default: the server's default)")
	timeoutFlag(c, &timeout)
	f.StringVarP(&output, "output", "o", "table", "table or json (one object per store)")
	return c
}

// storeName names a --database value without its credentials.
func storeName(db string) string {
	if db == "" {
		return "sqlite"
	}
	if i := strings.Index(db, "@"); i >= 0 {
		return "postgres://…" + db[i:]
	}
	return "postgres"
}
