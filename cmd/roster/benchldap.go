package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchLDAPCmd() *cobra.Command {
	var users, changes int
	var database, output string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "ldap",
		Short: "Full and incremental sync of an LDAP source against a real slapd",
		Long: `Starts Debian's slapd (apt-get install slapd ldap-utils) in a temporary folder,
seeds it with --users inetOrgPerson entries and groups of 10,000 nested in one,
and measures (a) a full sync into an empty directory: time, entries read in
pages of 1,000 (AD's largest) and the peak Go heap; (b) an incremental sync
after --changes users changed: time, and how many entries it read (the
changed ones, and the one changed in the mark's own second, which is read
again). --database postgres://… runs on PostgreSQL (an empty scratch database).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if users < 100 || changes < 1 || changes > users/2 {
				return usageErr("need --users ≥ 100 and 1 ≤ --changes ≤ --users/2")
			}
			ctx, cancel := benchContext(c.Context(), timeout)
			defer cancel()
			res, err := bench.LDAP(ctx, bench.OpenDatabase(ctx, database), users, changes)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(out, "slapd seeded with %d users and %d groups in %.1f s (not counted)\n", res.Users, res.Groups, res.SeedSeconds)
			fmt.Fprintf(out, "(a) full sync: %.2f s (read %.2f s: %d entries in %d pages), %d changes applied; peak Go heap %.0f MiB\n",
				res.FullSeconds, res.FullReadSeconds, res.FullEntries, res.FullPages, res.FullApplied, res.PeakHeapMiB)
			kind := "incremental"
			if res.IncFull {
				kind = "FULL (escalated)"
			}
			fmt.Fprintf(out, "(b) %s sync after %d changes: %.3f s (read %.3f s), %d entries read, %d changes applied\n",
				kind, res.Changes, res.IncSeconds, res.IncReadSeconds, res.IncEntries, res.IncApplied)
			return nil
		},
	}
	timeoutFlag(c, &timeout)
	f := c.Flags()
	f.IntVar(&users, "users", 100_000, "users in the directory")
	f.IntVar(&changes, "changes", 100, "users changed before the incremental sync")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	return c
}
