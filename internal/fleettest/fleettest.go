// Package fleettest sets up and checks fleet runs: apps on the Dropbox
// emulator with a directory to push, worker processes, and the state the
// emulator must end in. The fleet test and `roster bench fleet` share it.
package fleettest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// Setup sizes a run: Users spread evenly over Apps, each app paced to Budget.
type Setup struct {
	Apps   int
	Users  int
	Budget float64 // calls per second per app
}

// AppName is the name of app i, and of its emulator team.
func AppName(i int) string { return fmt.Sprintf("app%02d", i) }

// Email is user i's address.
func Email(i int) string { return fmt.Sprintf("u%06d@corp.example", i) }

// Teams configures one emulator team per app, with the token Connect uses.
func Teams(apps int) []emu.TeamConfig {
	out := make([]emu.TeamConfig, apps)
	for i := range out {
		out[i] = emu.TeamConfig{Name: AppName(i), Token: "tok-" + AppName(i)}
	}
	return out
}

// Connect builds connectors to the emulator, with each team's token.
func Connect(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
	return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok-" + a.Name, Pacer: p, PollInterval: 5 * time.Millisecond}), nil
}

// Open opens the store at dsn: PostgreSQL for a postgres:// DSN, else SQLite.
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	if store.IsPostgres(dsn) {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}

// Seed creates the apps (provisioning off until Enable) and the users, user
// i assigned to app i%Apps through a group per app.
func Seed(ctx context.Context, st *sqlstore.DB, base string, s Setup) error {
	users := make([]directory.User, s.Users)
	for i := range users {
		users[i] = directory.User{Username: fmt.Sprintf("u%06d", i), Email: Email(i), FirstName: "U", LastName: strconv.Itoa(i)}
	}
	if err := st.CreateUsers(ctx, "fleettest", users); err != nil {
		return fmt.Errorf("create users: %w", err)
	}
	for i := range s.Apps {
		a := app.Instance{Name: AppName(i), Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
		a.Settings.Budget.CallsPerSecond = s.Budget
		if err := st.CreateApp(ctx, "fleettest", &a); err != nil {
			return fmt.Errorf("create app: %w", err)
		}
		// Workers only run apps with a token; Connect brings its own.
		if err := st.SetAppCredential(ctx, "fleettest", a.Name, []byte("sealed")); err != nil {
			return err
		}
		if err := seedGroup(ctx, st, a.Name, users, i, s.Apps); err != nil {
			return err
		}
	}
	return nil
}

func seedGroup(ctx context.Context, st *sqlstore.DB, appName string, users []directory.User, i, apps int) error {
	g := directory.Group{Name: "g-" + appName}
	if err := st.CreateGroup(ctx, "fleettest", &g); err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	var names []string
	for j := i; j < len(users); j += apps {
		names = append(names, users[j].Username)
	}
	if err := st.AddGroupMembers(ctx, "fleettest", g.Name, names); err != nil {
		return fmt.Errorf("add group members: %w", err)
	}
	return st.Assign(ctx, "fleettest", &directory.Assignment{AppName: appName, GroupName: g.Name, Role: "member"})
}

// StartTest starts an emulator with a team per app, answering with faults,
// and seeds st for setup; the emulator stops with the test.
func StartTest(t testing.TB, st *sqlstore.DB, setup Setup, faults emu.Faults) *emu.Server {
	t.Helper()
	s, base := emu.StartTest(t, emu.Options{Teams: Teams(setup.Apps), Faults: faults})
	if err := Seed(context.Background(), st, base, setup); err != nil {
		t.Fatal(err)
	}
	return s
}

// Enable switches provisioning on for every app, so workers start on them.
func Enable(ctx context.Context, st *sqlstore.DB, apps int) error {
	for i := range apps {
		if _, err := st.UpdateApp(ctx, "fleettest", AppName(i), func(a *app.Instance) error { a.Settings.Provisioning = true; return nil }); err != nil {
			return err
		}
	}
	return nil
}

// Remaining counts the queued work items of every app.
func Remaining(ctx context.Context, st *sqlstore.DB) (int, error) {
	qs, err := st.QueueStats(ctx)
	n := 0
	for _, q := range qs {
		n += q.Queued + q.Tasks
	}
	return n, err
}

// Check compares every team with the desired state: each of its users
// exactly once, invited, named and keyed by Roster; nobody else but the
// team's own admin.
func Check(s *emu.Server, setup Setup) error {
	for i := range setup.Apps {
		sn := s.Team(AppName(i)).Snapshot()
		seen := map[string]int{}
		for _, m := range sn.Members {
			seen[strings.ToLower(m.Email)]++
			if m.ID == sn.AdminID {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m.Email, "u"), "@corp.example"))
			if err != nil || n%setup.Apps != i || m.Status != "invited" || m.Surname != strconv.Itoa(n) || !strings.HasPrefix(m.ExternalID, "roster:") {
				return fmt.Errorf("team %s: unexpected member %+v", sn.Name, m)
			}
		}
		for j := i; j < setup.Users; j += setup.Apps {
			if c := seen[Email(j)]; c != 1 {
				return fmt.Errorf("team %s: %s is there %d times, want once", sn.Name, Email(j), c)
			}
		}
	}
	return nil
}

// Counter is an engine.Observer that counts the items a process finished
// and writes the count to a file after each batch, so a process killed with
// SIGKILL still leaves its share of the work behind.
type Counter struct {
	engine.NopObserver
	Path string
	mu   sync.Mutex // keeps the file's count rising
	done atomic.Int64
}

// Items implements engine.Observer.
func (c *Counter) Items(_, result string, n int) {
	if result != engine.ResultDone {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.done.Add(int64(n))
	tmp := c.Path + ".tmp"
	if os.WriteFile(tmp, []byte(strconv.FormatInt(v, 10)), 0o600) == nil {
		_ = os.Rename(tmp, c.Path)
	}
}

// Done reads the count a process left in path.
func Done(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(string(b))
	return n
}
