package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Measure Roster against the built-in Dropbox emulator"}
	var users, changes, rateSeconds int
	var rate float64
	var timeout time.Duration
	var database, output string
	var emuProcess bool
	var stages string
	push := &cobra.Command{
		Use:   "push",
		Short: "Initial push, incremental change and rate-limited push, with the emulator's own ceiling",
		Long: `Runs three measurements in one process, on the embedded emulator:
  (a) initial push of --users users: users per second, peak Go heap, and the
      ratio of the emulator's own add_v2 ceiling (measured in the same run) to Roster;
  (b) changing --changes users in an app of 1,000 users and in one of --users;
  (c) a push against a team limited to --rate writes per second, with Roster
      paced at the same rate: the share of the limit achieved and of 429 answers.
Each stage is printed as soon as it finishes (with -o json, one JSON object
per line). --emulator-process serves (a) from ` + "`roster emulate dropbox`" + ` child
processes of this binary, so that the peak heap is Roster's own. --database postgres://… runs on PostgreSQL: each stage in a fresh
schema of that database, dropped afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.Trim(stages, "abc") != "" || stages == "" {
				return usageErr("--stages %q: name stages among a, b and c, such as ab", stages)
			}
			if users < 1000 || changes < 1 || changes > users || rate <= 0 || rateSeconds < 1 {
				return usageErr("need --users ≥ 1000, 1 ≤ --changes ≤ --users, --rate > 0 and --rate-seconds ≥ 1")
			}
			if output != "table" && output != "json" {
				return usageErr("--output %q: use table or json", output)
			}
			ctx, cancel := benchContext(c.Context(), timeout)
			defer cancel()
			var po bench.PushOptions
			if emuProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find the roster binary: %w", err)
				}
				po.EmulatorExe = exe
			}
			return runBench(ctx, c.OutOrStdout(), output, bench.OpenDatabase(ctx, database), po, stages, users, changes, rate, rateSeconds)
		},
	}
	f := push.Flags()
	f.IntVar(&users, "users", 100_000, "users in the initial push")
	f.IntVar(&changes, "changes", 100, "users changed in the incremental measurement")
	f.Float64Var(&rate, "rate", 50, "write limit in calls per second for the rate measurement")
	f.IntVar(&rateSeconds, "rate-seconds", 10, "how many seconds of writes the rate measurement needs")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	f.StringVar(&stages, "stages", "abc", "which stages to run: any of a, b and c")
	f.BoolVar(&emuProcess, "emulator-process", false, "run the emulator of (a) as a separate process, so the peak heap is Roster's alone")
	timeoutFlag(push, &timeout)
	f.StringVarP(&output, "output", "o", "table", "table or json")
	c.AddCommand(push)
	c.AddCommand(newBenchGroupsCmd())
	c.AddCommand(newBenchImportCmd())
	c.AddCommand(newBenchPacingCmd())
	c.AddCommand(newBenchE2ECmd())
	c.AddCommand(newBenchSCIMCmd())
	c.AddCommand(newBenchLDAPCmd())
	return c
}

// timeoutFlag adds --timeout: a benchmark of a million users runs for as
// long as it needs unless asked otherwise.
func timeoutFlag(c *cobra.Command, d *time.Duration) {
	c.Flags().DurationVar(d, "timeout", 0, "stop the run after this long (e.g. 30m); 0: no limit")
}

// benchContext bounds ctx by timeout, if there is one.
func benchContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return context.WithCancel(ctx)
}

// runBench runs the stages in turn and prints each as it finishes, so that a
// long run that fails or is stopped late keeps what it measured.
func runBench(ctx context.Context, out io.Writer, output string, open bench.Open, po bench.PushOptions, stages string, users, changes int, rate float64, rateSeconds int) error {
	emit := emitter(func(stage string, v any, table func()) error {
		if output != "json" {
			table()
			return nil
		}
		return json.NewEncoder(out).Encode(map[string]any{stage: v})
	})
	if strings.Contains(stages, "a") {
		if err := benchPush(ctx, out, emit, open, po, users); err != nil {
			return err
		}
	}
	if strings.Contains(stages, "b") {
		if err := benchIncremental(ctx, out, emit, open, users, changes); err != nil {
			return err
		}
	}
	if !strings.Contains(stages, "c") {
		return nil
	}
	r, err := bench.RateLimited(ctx, open, rate, rateSeconds)
	if err != nil {
		return fmt.Errorf("(c) rate limited: %w", err)
	}
	return emit("rate_limited", r, func() {
		fmt.Fprintf(out, "(c) limit %.0f writes/s: achieved %.1f/s (%.0f%% of the limit) over %.1f s; %d of %d calls answered 429 (%.2f%%); busiest second %d calls\n",
			r.Rate, r.Achieved, r.Share*100, r.Seconds, r.Got429, r.Calls, r.Share429*100, r.MaxObserved)
	})
}

// emitter prints one stage's result: a table line, or a JSON object.
type emitter func(stage string, v any, table func()) error

func benchPush(ctx context.Context, out io.Writer, emit emitter, open bench.Open, po bench.PushOptions, users int) error {
	p, err := bench.PushWith(ctx, open, users, po)
	if err != nil {
		return fmt.Errorf("(a) initial push: %w", err)
	}
	where := "in process"
	if po.EmulatorExe != "" {
		where = "in its own process"
	}
	return emit("push", p, func() {
		fmt.Fprintf(out, "(a) initial push: %d users in %.2f s = %.0f users/s; peak heap %.0f MiB (emulator %s); emulator ceiling %.0f members/s (%.2fx Roster); %d API calls\n",
			p.Users, p.Seconds, p.UsersPerSec, p.PeakHeapMiB, where, p.CeilingPS, p.Ratio, p.Calls)
	})
}

func benchIncremental(ctx context.Context, out io.Writer, emit emitter, open bench.Open, users, changes int) error {
	inc, err := bench.Incremental(ctx, open, []int{1000, users}, changes)
	if err != nil {
		return fmt.Errorf("(b) incremental: %w", err)
	}
	return emit("incremental", inc, func() {
		fmt.Fprintf(out, "(b) %d changes, median of %d rounds: %.0f ms in a 1,000-user app (%d calls), %.0f ms in a %d-user app (%d calls), %.2fx; rounds: %s and %s ms\n",
			changes, inc.Rounds, inc.Seconds[1000]*1000, inc.Calls[1000], inc.Seconds[users]*1000, users, inc.Calls[users],
			inc.Seconds[users]/inc.Seconds[1000], millis(inc.Each[1000]), millis(inc.Each[users]))
	})
}

// millis lists durations in seconds as whole milliseconds: "12/15/13".
func millis(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x*1000)
	}
	return strings.Join(parts, "/")
}
