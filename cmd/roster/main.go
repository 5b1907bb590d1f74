// Command roster is the Roster identity lifecycle provisioning engine: one binary
// that serves the admin API and workers, and acts as the CLI client of that API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI and maps errors to exit codes, so that no raw error or
// panic reaches the user without a message.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "error: internal failure (%v); please report it\n", p)
			code = exitFailure
		}
	}()
	root := newRootCmd()
	refuseUnknownSubcommands(root)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	var ce *exitError
	if errors.As(err, &ce) {
		return ce.code
	}
	if cobraUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// refuseUnknownSubcommands makes a command group (such as "users") answer
// an unknown subcommand with an error, exit 2, instead of its help and 0.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() || c.Parent() == nil {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErr("unknown command %q for %q; see %s --help", args[0], c.CommandPath(), c.CommandPath())
		}
		return c.Help()
	}
}

// cobraUsage reports the command-line mistakes cobra itself finds (an
// unknown command or flag, a flag without its value): bad input, exit 2.
func cobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "unknown flag: ", "unknown shorthand flag: ", "flag needs an argument: ", "invalid argument ", "required flag(s) "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
