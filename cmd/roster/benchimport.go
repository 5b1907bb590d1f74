package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/importer/importbench"
)

func newBenchImportCmd() *cobra.Command {
	var members int
	var timeout time.Duration
	var database, output, cpuProfile, memProfile string
	c := &cobra.Command{
		Use:   "import",
		Short: "Import and match a large team against a large directory",
		Long: `Seeds the embedded emulator with --members members and the directory with as
many users (80% match by email, 10% by first and last name, 10% are new), then
measures one import with exact matches auto-confirmed: the download, the
matching, the stored app users and the confirmations. Prints the time, members
per second and the peak Go heap (emulator included); measure peak RSS with
/usr/bin/time -v. --database postgres://… runs on PostgreSQL (use an empty
scratch database).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if members < 10 {
				return usageErr("--members must be at least 10")
			}
			ctx, cancel := benchContext(c.Context(), timeout)
			defer cancel()
			res, err := importbench.RunWith(ctx, bench.OpenDatabase(ctx, database), members, importbench.Options{CPUProfile: cpuProfile, MemProfile: memProfile})
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			r := res.Import
			fmt.Fprintf(out, "import of %d members against %d directory users: %.2f s = %.0f members/s; peak Go heap %.0f MiB (set-up %.1f s, not counted)\n",
				res.Members, res.Users, res.Seconds, res.MembersPerSec, res.PeakHeapMiB, res.SetupSeconds)
			fmt.Fprintf(out, "import CPU %.2f s (emulator included); Go heap before the import %.0f MiB; peak RSS %.0f MiB before the import, %.0f MiB after\n",
				res.CPUSeconds, res.BaseHeapMiB, res.SetupRSSMiB, res.PeakRSSMiB)
			fmt.Fprintf(out, "exact %d (confirmed %d), partial %d, unmatched %d\n", r.Exact, r.Confirmed, r.Partial, r.Unmatched)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&members, "members", 100_000, "members in the team and users in the directory")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the import alone (not the set-up) to this file")
	f.StringVar(&memProfile, "memprofile", "", "write heap profiles before (FILE.base) and after the import to this file; compare with go tool pprof -diff_base")
	timeoutFlag(c, &timeout)
	f.StringVarP(&output, "output", "o", "table", "table or json")
	return c
}
