package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, so scripts can tell failures apart.
const (
	exitFailure      = 1 // server unreachable, internal error
	exitUsage        = 2 // bad flags or invalid input
	exitNotFound     = 3
	exitConflict     = 4 // already exists, or not allowed in the current state
	exitUnauthorized = 5
)

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

// globals are the flags every client command shares.
type globals struct {
	addr   string
	token  string
	output string
	yes    bool // --yes: confirm an off-boarding impact without asking
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "roster",
		Short:         "Identity lifecycle provisioning: keep SaaS accounts in step with your directory",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v (see %s --help)", err, c.CommandPath()) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.addr, "addr", envOr("ROSTER_ADDR", "http://127.0.0.1:8080"), "Roster API address (env ROSTER_ADDR)")
	pf.StringVar(&g.token, "token", "", "admin API token (env ROSTER_TOKEN; prefer the environment, flags show in ps)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if g.token == "" {
			g.token = os.Getenv("ROSTER_TOKEN")
		}
		if g.output != "table" && g.output != "json" {
			return usageErr("--output must be table or json, got %q", g.output)
		}
		return nil
	}
	root.AddCommand(newServeCmd(), newAdminCmd(), newUsersCmd(g), newGroupsCmd(g), newAppsCmd(g),
		newAssignCmd(g, true), newAssignCmd(g, false), newLogCmd(g),
		newSyncCmd(g), newPlanCmd(g), newApplyCmd(g), newTasksCmd(g), newEmulateCmd(), newDemoCmd(), newBenchCmd())
	root.AddCommand(newImportCmd(g), newSourcesCmd(g))
	return root
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
