package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/bench"
)

func newBenchSCIMCmd() *cobra.Command {
	var cfg bench.SCIMConfig
	var database, output string
	c := &cobra.Command{
		Use:   "scim",
		Short: "SCIM requests per second and the latency from a deactivating PATCH to Dropbox, with a worker running",
		Long: `Provisions --users users owned by a SCIM source into the embedded emulator,
then, with a worker running (idle for a minute between passes, so only the
wake a SCIM change sends brings it in time), measures:
  creates per second (--creates POST /Users from --clients clients),
  PATCHes per second (--patches name changes of provisioned users),
  the latency from a deactivating PATCH's answer to the Dropbox suspend
  call acting on it, p50 and p99 over --deactivations users.
--database postgres://… runs on PostgreSQL (use an empty scratch database).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if cfg.Users < 100 || cfg.Clients < 1 || cfg.Creates < 1 || cfg.Patches < 1 || cfg.Deactivations < 1 || cfg.Patches+cfg.Deactivations > cfg.Users {
				return usageErr("need --users ≥ 100, --clients, --creates, --patches and --deactivations ≥ 1, and --patches + --deactivations ≤ --users")
			}
			ctx, cancel := context.WithTimeout(c.Context(), bench.Timeout)
			defer cancel()
			r, err := bench.SCIM(ctx, bench.OpenDatabase(ctx, database), cfg)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			fmt.Fprintf(out, "%d users provisioned in %.1f s; %d SCIM clients\n", r.Users, r.ProvisionSecs, r.Clients)
			fmt.Fprintf(out, "creates: %d at %.0f requests/s\n", r.Creates, r.CreatesPerSec)
			fmt.Fprintf(out, "PATCHes: %d at %.0f requests/s\n", r.Patches, r.PatchesPerSec)
			fmt.Fprintf(out, "deactivating PATCH answered -> Dropbox suspend call: p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d users\n",
				r.LatencyP50Milli, r.LatencyP99Milli, r.LatencyMaxMilli, r.Deactivations)
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&cfg.Users, "users", 100_000, "users provisioned before the measurements")
	f.IntVar(&cfg.Creates, "creates", 2000, "users created over SCIM")
	f.IntVar(&cfg.Patches, "patches", 2000, "PATCHes of provisioned users")
	f.IntVar(&cfg.Deactivations, "deactivations", 200, "deactivating PATCHes timed to their Dropbox call")
	f.IntVar(&cfg.Clients, "clients", 16, "concurrent SCIM clients")
	f.StringVar(&database, "database", "", "PostgreSQL DSN; default: temporary SQLite files")
	f.StringVarP(&output, "output", "o", "table", "table or json")
	return c
}
