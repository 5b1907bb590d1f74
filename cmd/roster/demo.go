package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/demo"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/httplimit"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store/sqlite"
)

type demoFlags struct {
	dir    string
	users  int
	once   bool
	listen string
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "See Roster work: a sample company provisioned into the built-in Dropbox emulator",
		Long: `Starts everything on the embedded defaults: a fresh SQLite database in --dir,
the built-in Dropbox Team API emulator, and a generated company. It provisions
the company, off-boards a leaver and moves a mover, prints a summary, then keeps
serving the admin API (unless --once) with its address and an admin token.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDemo(c.Context(), c.OutOrStdout(), f) },
	}
	c.Flags().StringVar(&f.dir, "dir", "roster-demo", "folder for the demo's database and key (its database is replaced)")
	c.Flags().IntVar(&f.users, "users", 300, "people in the generated company")
	c.Flags().BoolVar(&f.once, "once", false, "exit after the summary")
	c.Flags().StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the admin API")
	return c
}

func runDemo(ctx context.Context, out io.Writer, f demoFlags) error {
	if f.users < 1 || f.users > 200_000 {
		return usageErr("--users must be between 1 and 200000")
	}
	start := time.Now()
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	dbPath := filepath.Join(f.dir, "roster.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(dbPath + suffix) // a demo starts from scratch each time
	}
	box, err := secret.Load(func(string) string { return "" }, filepath.Join(f.dir, "roster.key"))
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	dropbox, dropboxURL, teamToken, stopEmu, err := startDemoEmulator()
	if err != nil {
		return err
	}
	defer stopEmu()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := newServices(st, box, log, engine.Config{})
	fmt.Fprintf(out, "Roster demo: database %s, Dropbox emulator at %s\n", dbPath, dropboxURL)

	company := demo.Generate(f.users, "corp.example", 2026)
	a, err := seedDemo(ctx, svc, box, company, dropboxURL, teamToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Directory: %d people in %d departments; app %q assigned to every department.\n", len(company.Users), len(company.Groups), a.Name)

	progress := progressPrinter(out)
	st1, err := svc.engine.Sync(ctx, a, engine.SyncOptions{Progress: progress})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nProvisioned: %d members created in %s.\n", st1.Ops["account.create"], time.Since(start).Round(time.Millisecond))

	if err := demoMoversAndLeavers(ctx, svc, a, company, dropbox, out); err != nil {
		return err
	}
	printDemoSummary(out, dropbox.Team("demo-corp").Snapshot(), st1)
	if f.once {
		return nil
	}
	return serveDemo(ctx, out, svc, f.listen)
}

// startDemoEmulator runs the emulator on a free loopback port and returns it,
// its URL and the team token Roster will store (encrypted) as the app's credential.
func startDemoEmulator() (*emu.Server, string, string, func(), error) {
	tok := "demo-" + fmt.Sprint(time.Now().UnixNano())
	s, err := emu.New(emu.Options{Teams: []emu.TeamConfig{{Name: "demo-corp", Token: tok, AdminEmail: "it-admin@corp.example"}}})
	if err != nil {
		return nil, "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", "", nil, err
	}
	hs := httplimit.Default().Server(s)
	go func() { _ = hs.Serve(ln) }()
	return s, "http://" + ln.Addr().String(), tok, func() { _ = hs.Close(); _ = s.Close() }, nil
}

func seedDemo(ctx context.Context, svc *services, box *secret.Box, c demo.Company, dropboxURL, teamToken string) (app.Instance, error) {
	const by = "demo"
	if err := svc.st.CreateUsers(ctx, by, c.Users); err != nil {
		return app.Instance{}, err
	}
	a := app.Instance{Name: "dropbox", Kind: app.KindDropbox, BaseURL: dropboxURL, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	a.Settings.Deactivation.Type = app.DeactivateSuspend // the product's recommendation
	if err := svc.st.CreateApp(ctx, by, &a); err != nil {
		return a, err
	}
	sealed, err := box.Seal([]byte(teamToken), credential.AppSecretContext(a.ID))
	if err != nil {
		return a, err
	}
	if err := svc.st.SetAppCredential(ctx, by, a.Name, sealed); err != nil {
		return a, err
	}
	depts := make([]string, 0, len(c.Groups))
	for d := range c.Groups {
		depts = append(depts, d)
	}
	sort.Strings(depts)
	for _, d := range depts {
		g := directory.Group{Name: d, Description: d + " department"}
		if err := svc.st.CreateGroup(ctx, by, &g); err != nil {
			return a, err
		}
		if err := svc.st.AddGroupMembers(ctx, by, d, c.Groups[d]); err != nil {
			return a, err
		}
		if err := svc.st.Assign(ctx, by, &directory.Assignment{AppName: a.Name, GroupName: d}); err != nil {
			return a, err
		}
	}
	for user, role := range c.Roles {
		if err := svc.st.Assign(ctx, by, &directory.Assignment{AppName: a.Name, Username: user, Role: role}); err != nil {
			return a, err
		}
	}
	return svc.st.GetApp(ctx, a.Name)
}

// progressPrinter redraws one line on a terminal, and prints nothing otherwise.
func progressPrinter(out io.Writer) func(engine.Stats) {
	f, ok := out.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return nil
	}
	return func(s engine.Stats) {
		fmt.Fprintf(out, "\rProvisioning… %d done, %d retrying, %d tasks", s.Done, s.Retrying, s.Tasks)
	}
}

// demoMoversAndLeavers shows a leaver suspended and a mover renamed in Dropbox.
func demoMoversAndLeavers(ctx context.Context, svc *services, a app.Instance, c demo.Company, dbx *emu.Server, out io.Writer) error {
	if len(c.Users) < 3 {
		return nil
	}
	leaver, mover := c.Users[1].Username, c.Users[2].Username
	dbx.Team("demo-corp").Activate(leaver) // as if the leaver had accepted the invitation
	if _, err := svc.st.UpdateUser(ctx, "demo", leaver, "user.deactivate", func(u *directory.User) error {
		next, err := directory.Deactivate.Apply(u.Status)
		u.Status = next
		return err
	}); err != nil {
		return err
	}
	if _, err := svc.st.UpdateUser(ctx, "demo", mover, "user.update", func(u *directory.User) error {
		u.LastName += "-Married"
		return nil
	}); err != nil {
		return err
	}
	st, err := svc.engine.Sync(ctx, a, engine.SyncOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Leaver %s: suspended in Dropbox (files kept). Mover %s: surname updated. (%d calls)\n",
		leaver, mover, st.Ops["account.suspend"]+st.Ops["account.update"])
	return nil
}

func printDemoSummary(out io.Writer, sn emu.Snapshot, st engine.Stats) {
	status := map[string]int{}
	for _, m := range sn.Members {
		status[m.Status]++
	}
	fmt.Fprintf(out, "Dropbox team %q now has %d invited, %d active, %d suspended members; %d welcome emails sent.\n",
		sn.Name, status["invited"], status["active"], status["suspended"], len(sn.Welcome))
	if st.Tasks > 0 {
		fmt.Fprintf(out, "%d item(s) need attention: roster tasks list\n", st.Tasks)
	}
}

func serveDemo(ctx context.Context, out io.Writer, svc *services, listen string) error {
	tok, hash, err := credential.NewToken()
	if err != nil {
		return err
	}
	if _, err := svc.st.CreateToken(ctx, "demo", "demo", hash); err != nil {
		return err
	}
	ready := make(chan string, 1)
	go func() {
		addr := <-ready
		fmt.Fprintf(out, "\nAdmin API at http://%s. Try:\n  export ROSTER_ADDR=http://%s ROSTER_TOKEN=%s\n  roster users list\n  roster log --app dropbox\n  roster plan --app dropbox --full\n", addr, addr, tok)
		fmt.Fprintf(out, "Admin web UI at http://%s/ (sign in with the token above).\nCtrl-C stops the demo.\n", addr)
	}()
	go func() { _ = svc.engine.Run(ctx) }()
	return serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), svc, listen, ready, nil)
}
