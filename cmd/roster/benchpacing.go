package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/engine/pacebench"
)

func newBenchPacingCmd() *cobra.Command {
	var limitsArg, changeArg string
	var each, changeEach time.Duration
	var maxRate float64
	var output string
	var verbose bool
	c := &cobra.Command{
		Use:   "pacing",
		Short: "How budget.calls_per_second=auto finds and follows a write limit it does not know",
		Long: `Runs the embedded emulator with a write limit Roster is not told (a token bucket
of R writes a second holding one second's worth, answering 429 with
Retry-After over it) and callers with always more work, through the Dropbox
connector and the auto pacer. For each --limits R, for --for: the seconds to
reach 0.9 R (writes answered without 429, over 5 s), the rate held from then
on and the share of writes answered 429 then. Then one run whose limit takes
each --change value in turn, for --change-for each: the seconds to follow
each change. Each run prints as it finishes.`,
		Example: "  roster bench pacing --limits 5,50,500 --for 60s --change 50,20,100 --change-for 45s",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			limits, err := floats("--limits", limitsArg)
			if err != nil {
				return err
			}
			change, err := floats("--change", changeArg)
			if err != nil {
				return err
			}
			if each < 10*time.Second || (len(change) > 0 && changeEach < 10*time.Second) {
				return usageErr("--for and --change-for must be at least 10s")
			}
			for _, l := range append(append([]float64{}, limits...), change...) {
				if l <= 0 || l > app.MaxCallsPerSecond {
					return usageErr("write limits must be above 0 and at most %d, got %v", app.MaxCallsPerSecond, l)
				}
			}
			budget := app.Budget{MaxCallsPerSecond: maxRate}
			s := app.DefaultSettings()
			s.Budget = budget
			if err := s.Validate(); err != nil {
				return usageErr("--max: %v", err)
			}
			runs := [][]pacebench.Phase{}
			for _, l := range limits {
				runs = append(runs, []pacebench.Phase{{Limit: l, For: each}})
			}
			if len(change) > 0 {
				var ph []pacebench.Phase
				for _, l := range change {
					ph = append(ph, pacebench.Phase{Limit: l, For: changeEach})
				}
				runs = append(runs, ph)
			}
			out := c.OutOrStdout()
			var all []pacebench.Result
			for _, phases := range runs {
				cfg := pacebench.Config{Phases: phases, Budget: budget}
				if verbose {
					cfg.Second = func(s pacebench.Second) {
						fmt.Fprintf(c.ErrOrStderr(), "  %3d s  limit %6.0f  ok %5d  429 %3d  rate %7.1f  %s\n", s.At, s.Limit, s.OK, s.Limited, s.Rate, s.Reason)
					}
				}
				res, err := pacebench.Run(c.Context(), cfg)
				if err != nil {
					return err
				}
				all = append(all, res)
				if output != "json" {
					printPacing(out, res)
				}
			}
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&limitsArg, "limits", "5,50,500", "write limits to find, one run each (\"\": none)")
	f.DurationVar(&each, "for", 60*time.Second, "how long each of those runs lasts")
	f.StringVar(&changeArg, "change", "50,20,100", "write limits of one run, in turn (\"\": no such run)")
	f.DurationVar(&changeEach, "change-for", 45*time.Second, "how long each of those limits lasts")
	f.Float64Var(&maxRate, "max", 0, "budget.max_calls_per_second of the auto pacer (0: none)")
	f.BoolVarP(&verbose, "verbose", "v", false, "print every second to stderr")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

// printPacing prints one run's phases against the bar: 0.9 R within
// 30 s, held with under 2 % of writes answered 429.
func printPacing(out io.Writer, res pacebench.Result) {
	for i, p := range res.Phases {
		what := fmt.Sprintf("limit %g/s", p.Limit)
		if i > 0 {
			what = fmt.Sprintf("limit %g→%g/s", res.Phases[i-1].Limit, p.Limit)
		}
		reach := "never"
		if p.Reach >= 0 {
			reach = fmt.Sprintf("%d s", p.Reach)
		}
		ok := p.Reach >= 0 && p.Reach <= 30 && p.Held >= 0.9*p.Limit && p.Share429 < 0.02
		fmt.Fprintf(out, "%-18s 0.9 R after %-6s held %7.1f/s (%.2f R), %.2f %% answered 429 (whole phase %.2f %%)  %s\n",
			what, reach, p.Held, p.Held/p.Limit, 100*p.Share429, 100*p.All429, map[bool]string{true: "ok", false: "NOT MET"}[ok])
	}
}

// floats reads a comma-separated list of numbers; "" is none.
func floats(flag, s string) ([]float64, error) {
	var out []float64
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		x, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, usageErr("%s takes numbers separated by commas, got %q", flag, part)
		}
		out = append(out, x)
	}
	return out, nil
}
