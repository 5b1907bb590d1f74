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
		Long:  emulateDropboxHelp(),
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

// emulateDropboxHelp is the emulator's manual, reachable from the binary:
// the faults, the admin endpoint's routes (from the emulator's own table)
// and how to seed a team.
func emulateDropboxHelp() string {
	var b strings.Builder
	b.WriteString(`Runs an emulator of the Dropbox Team API v2 (members, groups, team info, OAuth 2)
with per-team state, async jobs, cursor paging and fault injection, for trying
Roster, or any other Team API client, without a real team.

Point Roster at it: roster apps add dropbox --base-url http://ADDR --dropbox-token-file FILE
(FILE holds the --token value), or roster apps set APP base_url=http://ADDR with
the token. Team API routes are under /2/team/, OAuth under /oauth2/.

Admin endpoint: seed and inspect state under http://ADDR/_emulator/, never under
/2/. It is open unless --admin-token is given; then send
"Authorization: Bearer ADMIN-TOKEN". An --addr beyond loopback needs --admin-token.
Team tokens never open it. Bodies are JSON; the fields are in braces:
`)
	for _, r := range dropbox.AdminRoutes() {
		fmt.Fprintf(&b, "  %-46s %s\n", r[0], r[1])
	}
	b.WriteString(`
Seeding, for example (B=http://127.0.0.1:8765):
  curl -X POST $B/_emulator/teams/default/members -d '{"members":[
    {"email":"ann@corp.example","given_name":"Ann","surname":"Lee","status":"active"},
    {"email":"bob@corp.example","given_name":"Bob","surname":"Stone"}]}'
  curl -X POST $B/_emulator/teams/default/activate -d '{"emails":["bob@corp.example"]}'
  curl $B/_emulator/teams/default/stats

Faults: --faults SPEC at start, or at any time
  curl -X PUT $B/_emulator/faults -d '{"spec":"rate429=0.05,writes_per_sec=100"}'
SPEC is comma-separated key=value, all optional:
  latency=5ms         fixed delay before every Team API call
  jitter=20ms         extra random delay in [0, jitter)
  rate429=0.05        share of calls answered 429 too_many_requests with Retry-After
  plain429=0.5        share of those 429s with a plain-text body
  retry_after=1       seconds in Retry-After (default 1)
  rate5xx=0.02        share of calls answered 500 or 503
  code5xx=503         always this 5xx status
  lost=0.01           share of writes committed, then the connection closed unanswered
  writes_per_sec=100  per-team token bucket for writes; over it: 429 with Retry-After
  write_burst=10      bucket size (default max(1, writes_per_sec))
  routes=members/add_v2|members/remove   limit rate429, rate5xx and lost to these routes
  async_add=10        add_v2 batches this large answer with an async job
  job_polls=1         in_progress answers before a job completes
  job_fail=0.1        share of jobs ending in internal_error (the change is made)
  seed=42             random seed for repeatable runs
Injected 429s and 5xx happen before any state change.`)
	return b.String()
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
