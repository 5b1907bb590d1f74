package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Measure Roster against the built-in Dropbox emulator"}
	var users, changes, rateSeconds int
	var rate float64
	var database, output string
	push := &cobra.Command{
		Use:   "push",
		Short: "Initial push, incremental change and rate-limited push, with the emulator's own ceiling",
		Long: `Runs three measurements in one process, on the embedded emulator:
  (a) initial push of --users users: users per second, peak Go heap, and the
      ratio of the emulator's own add_v2 ceiling (measured in the same run) to Roster;
  (b) changing --changes users in an app of 1,000 users and in one of --users;
  (c) a push against a team limited to --rate writes per second, with Roster
      paced at the same rate: the share of the limit achieved and of 429 answers.
--database postgres://… runs on PostgreSQL (use an empty scratch database).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if users < 1000 || changes < 1 || changes > users || rate <= 0 || rateSeconds < 1 {
				return usageErr("need --users ≥ 1000, 1 ≤ --changes ≤ --users, --rate > 0 and --rate-seconds ≥ 1")
			}
			ctx, cancel := context.WithTimeout(c.Context(), bench.Timeout)
			defer cancel()
			return runBench(ctx, c.OutOrStdout(), output, bench.OpenDatabase(ctx, database), users, changes, rate, rateSeconds)
		},
	}
	f := push.Flags()
	f.IntVar(&users, "users", 100_000, "users in the initial push")
	f.IntVar(&changes, "changes", 100, "users changed in the incremental measurement")
	f.Float64Var(&rate, "rate", 50, "write limit in calls per second for the rate measurement")
	f.IntVar(&rateSeconds, "rate-seconds", 10, "how many seconds of writes the rate measurement needs")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	c.AddCommand(push)
	c.AddCommand(newBenchGroupsCmd())
	c.AddCommand(newBenchImportCmd(), newBenchSCIMCmd(), newBenchLDAPCmd())
	return c
}

func runBench(ctx context.Context, out io.Writer, output string, open bench.Open, users, changes int, rate float64, rateSeconds int) error {
	p, err := bench.Push(ctx, open, users)
	if err != nil {
		return fmt.Errorf("initial push: %w", err)
	}
	inc, err := bench.Incremental(ctx, open, []int{1000, users}, changes)
	if err != nil {
		return fmt.Errorf("incremental: %w", err)
	}
	r, err := bench.RateLimited(ctx, open, rate, rateSeconds)
	if err != nil {
		return fmt.Errorf("rate limited: %w", err)
	}
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"push": p, "incremental": inc, "rate_limited": r})
	}
	fmt.Fprintf(out, "(a) initial push: %d users in %.2f s = %.0f users/s; peak heap %.0f MiB; emulator ceiling %.0f members/s (%.2fx Roster); %d API calls\n",
		p.Users, p.Seconds, p.UsersPerSec, p.PeakHeapMiB, p.CeilingPS, p.Ratio, p.Calls)
	fmt.Fprintf(out, "(b) %d changes, median of %d rounds: %.0f ms in a 1,000-user app (%d calls), %.0f ms in a %d-user app (%d calls); rounds: %s and %s ms\n",
		changes, inc.Rounds, inc.Seconds[1000]*1000, inc.Calls[1000], inc.Seconds[users]*1000, users, inc.Calls[users],
		millis(inc.Each[1000]), millis(inc.Each[users]))
	fmt.Fprintf(out, "(c) limit %.0f writes/s: achieved %.1f/s (%.0f%% of the limit) over %.1f s; %d of %d calls answered 429 (%.2f%%); busiest second %d calls\n",
		r.Rate, r.Achieved, r.Share*100, r.Seconds, r.Got429, r.Calls, r.Share429*100, r.MaxObserved)
	return nil
}

// millis lists durations in seconds as whole milliseconds: "12/15/13".
func millis(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x*1000)
	}
	return strings.Join(parts, "/")
}
