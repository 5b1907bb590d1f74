package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchGroupsCmd() *cobra.Command {
	var groups, size, users int
	var timeout time.Duration
	var database, output string
	c := &cobra.Command{
		Use:   "groups",
		Short: "Group push: push --groups groups of --size members to the emulator and count the API calls",
		Long: `Provisions --users users (not measured as group push), makes --groups directory
groups of --size members each drawn from them, pushes them all with one pattern
rule (its assignments queue the members, reconciled in a first sync with push
groups off) and times the sync that creates and fills the Dropbox groups, with the
number of API calls the team received. Then changes 100 groups by one added and
one removed member and times that sync too.
--database postgres://… runs on PostgreSQL (use an empty scratch database).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if groups < 1 || size < 1 || users < size {
				return usageErr("need --groups ≥ 1, --size ≥ 1 and --users ≥ --size")
			}
			ctx, cancel := benchContext(c.Context(), timeout)
			defer cancel()
			res, err := bench.Groups(ctx, bench.OpenDatabase(ctx, database), groups, size, users)
			if err != nil {
				return fmt.Errorf("group push: %w", err)
			}
			return printGroupsBench(c.OutOrStdout(), output, res)
		},
	}
	f := c.Flags()
	f.IntVar(&groups, "groups", 1000, "directory groups to push")
	f.IntVar(&size, "size", 100, "members per group")
	f.IntVar(&users, "users", 10_000, "users the members are drawn from (100000 makes every membership distinct)")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	timeoutFlag(c, &timeout)
	f.StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

func printGroupsBench(out io.Writer, output string, r bench.GroupsResult) error {
	if output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(out, "group push: %d groups × %d members (%d memberships from %d users) in %.2f s; %d API calls; peak heap %.0f MiB\n",
		r.Groups, r.Size, r.Groups*r.Size, r.Users, r.Seconds, r.Calls, r.PeakHeapMiB)
	routes := make([]string, 0, len(r.Routes))
	for k := range r.Routes {
		routes = append(routes, k)
	}
	sort.Strings(routes)
	for _, k := range routes {
		fmt.Fprintf(out, "  %-32s %d\n", k, r.Routes[k])
	}
	fmt.Fprintf(out, "incremental: %d groups changed (+1 −1 member each) in %.0f ms; %d API calls\n", r.Changed, r.IncSeconds*1000, r.IncCalls)
	fmt.Fprintf(out, "not counted above: users provisioned beforehand in %.2f s; members queued by the push's assignments reconciled in %.2f s (%d calls)\n",
		r.ProvisionSeconds, r.AssignSeconds, r.AssignCalls)
	return nil
}
