package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/emulator/dropbox"
)

func newEmulateCmd() *cobra.Command {
	c := &cobra.Command{Use: "emulate", Short: "Run an emulator of an app's API, for tests and demos"}
	c.AddCommand(newEmulateDropboxCmd())
	return c
}

// emulateDropboxFlags are the flags of `roster emulate dropbox`.
type emulateDropboxFlags struct {
	addr, token, team, adminToken, state, faults, adminEmail string
	scopes, clients                                          []string
	licenses                                                 int
	everyone                                                 bool
	saveEvery                                                time.Duration
	writeLimit                                               float64
}

func newEmulateDropboxCmd() *cobra.Command {
	f := &emulateDropboxFlags{}
	d := &cobra.Command{
		Use:   "dropbox",
		Short: "Run the Dropbox Team API v2 emulator",
		Long: `Runs an emulator of the Dropbox Team API v2 (members, groups, team info, OAuth 2)
with per-team state, async jobs, cursor paging and fault injection. Point a
Team API client at base URL http://ADDR (routes under /2/team/). Seed and
inspect state under http://ADDR/_emulator/ (GET /_emulator/ lists the routes;
see internal/emulator/dropbox/README.md). That endpoint is open unless
--admin-token is given, so an --addr beyond loopback needs --admin-token.

Faults, comma separated (all optional):
  latency=5ms jitter=20ms rate429=0.05 plain429=0.5 retry_after=1 rate5xx=0.02
  code5xx=503 lost=0.01 writes_per_sec=100 write_burst=10 routes=members/add_v2|members/remove
  async_add=10 job_polls=1 job_fail=0.1 seed=42`,
		Example: `  roster emulate dropbox --addr 127.0.0.1:8765 --token tok --state emu.json \
    --faults latency=5ms,rate429=0.05,writes_per_sec=100,seed=1`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runEmulateDropbox(c, f) },
	}
	fl := d.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8765", "address to listen on; one beyond loopback needs --admin-token")
	fl.StringVar(&f.token, "token", "test-token", "team access token the emulator accepts")
	fl.StringVar(&f.team, "team", "default", "name of the team")
	fl.StringSliceVar(&f.scopes, "scopes", nil, "limit the token to these scopes (default: all)")
	fl.IntVar(&f.licenses, "licenses", 0, "purchased licences (default 1,000,000)")
	fl.BoolVar(&f.everyone, "everyone-group", true, "create the system-managed \"Everyone\" group")
	fl.StringVar(&f.adminEmail, "admin-email", "", "email of the team admin the token acts for")
	fl.StringVar(&f.adminToken, "admin-token", "", "bearer token required on /_emulator/ (default: open, loopback only)")
	fl.StringVar(&f.state, "state", "", "JSON file to keep state in across restarts")
	fl.DurationVar(&f.saveEvery, "save-interval", time.Second, "longest delay between a change and its save to --state")
	fl.StringVar(&f.faults, "faults", "", "faults to inject (see above)")
	fl.Float64Var(&f.writeLimit, "write-limit", 0, "limit each team's writes to R a second, with a one-second burst, answering 429 with Retry-After over it\n(as writes_per_sec=R; change it mid-run with PUT /_emulator/write_limit {\"writes_per_second\": R})")
	fl.StringArrayVar(&f.clients, "oauth-client", nil, "OAuth client as ID:SECRET (repeatable)")
	return d
}

func runEmulateDropbox(c *cobra.Command, f *emulateDropboxFlags) error {
	if f.adminToken == "" && !mayBeLoopback(f.addr) {
		return usageErr("--addr %s is reachable from other hosts: give --admin-token too, since /_emulator/ can rewrite any team's state", f.addr)
	}
	faults, err := dropbox.ParseFaults(f.faults)
	if err != nil {
		return usageErr("--faults: %v", err)
	}
	switch {
	case f.writeLimit < 0 || math.IsNaN(f.writeLimit) || math.IsInf(f.writeLimit, 0):
		return usageErr("--write-limit must be a number of writes a second above 0, got %v", f.writeLimit)
	case f.writeLimit > 0 && faults.WritesPerSec > 0:
		return usageErr("--write-limit and writes_per_sec in --faults set the same limit: give one")
	case f.writeLimit > 0:
		faults.WritesPerSec = f.writeLimit
	}
	clients := map[string]string{}
	for _, cs := range f.clients {
		id, secret, ok := strings.Cut(cs, ":")
		if !ok || id == "" || secret == "" {
			return usageErr("--oauth-client must be ID:SECRET, got %q", cs)
		}
		clients[id] = secret
	}
	emu, err := dropbox.New(dropbox.Options{
		Teams: []dropbox.TeamConfig{{Name: f.team, Token: f.token, Scopes: f.scopes, Licenses: f.licenses,
			EveryoneGroup: f.everyone, AdminEmail: f.adminEmail}},
		AdminToken: f.adminToken, Faults: faults, StateFile: f.state, SaveInterval: f.saveEvery, OAuthClients: clients,
		Logger: slog.New(slog.NewTextHandler(c.ErrOrStderr(), nil)),
	})
	if err != nil {
		return usageErr("%v", err)
	}
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return serveEmulator(ctx, c, emu, f)
}

// serveEmulator serves until ctx ends, then drains requests and closes the
// emulator, whose final save then holds every answered write.
func serveEmulator(ctx context.Context, c *cobra.Command, emu *dropbox.Server, f *emulateDropboxFlags) error {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = emu.Close()
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	// A host name is known only once bound: check where it landed.
	if ta, ok := ln.Addr().(*net.TCPAddr); f.adminToken == "" && (!ok || !ta.IP.IsLoopback()) {
		_ = ln.Close()
		_ = emu.Close()
		return usageErr("--addr %s listens on %s, reachable from other hosts: give --admin-token too", f.addr, ln.Addr())
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	printEmulatorBanner(c.OutOrStdout(), ln.Addr(), emu, f)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shut)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, emu.Close())
}

// mayBeLoopback reports whether addr's host is a loopback IP or a name; a
// name is checked once bound. An empty host means every interface.
func mayBeLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host != ""
}

// printEmulatorBanner says where the emulator listens and how it is set up.
func printEmulatorBanner(out io.Writer, addr net.Addr, emu *dropbox.Server, f *emulateDropboxFlags) {
	fmt.Fprintf(out, "Dropbox Team API emulator listening on http://%s\n", addr)
	fmt.Fprintf(out, "  team %q, token from --token; admin endpoint http://%s/_emulator/", f.team, addr)
	if f.adminToken == "" {
		fmt.Fprint(out, " (open: no --admin-token)")
	}
	fmt.Fprintln(out)
	if f.state != "" {
		fmt.Fprintf(out, "  state kept in %s\n", f.state)
	}
	if spec := emu.Faults().String(); spec != "" {
		fmt.Fprintf(out, "  faults: %s\n", spec)
	}
}
