package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store"
)

// E2EOptions describe an end-to-end run: the emulator and the server are
// separate processes of the roster binary Exe, as a user would run them.
type E2EOptions struct {
	Exe      string // the roster binary (os.Executable for `roster bench e2e`)
	Database string // a postgres:// DSN (a fresh schema is used), or "" for SQLite
	Users    int
	// Budget, when set, is the app's budget.calls_per_second, as a number or
	// a word the server knows; "" keeps the server's default.
	Budget string
	// Progress, when set, gets a line now and then while members arrive.
	Progress io.Writer
}

// E2EResult is what a user sees: from the assignment of a group of Users
// users to the moment the last of them is a member of the Dropbox team.
type E2EResult struct {
	Store        string  `json:"store"`
	Users        int     `json:"users"`
	Budget       string  `json:"budget"`
	SetupSeconds float64 `json:"setup_seconds"` // users (CSV) and group through the API; not counted below
	FirstSeconds float64 `json:"first_member_seconds"`
	Seconds      float64 `json:"all_members_seconds"`
	MembersPerS  float64 `json:"members_per_sec"`
	ServerRSSMiB float64 `json:"server_peak_rss_mib"` // the serve process's VmHWM at the end
}

// childProc is a started child; done is closed once it has exited.
type childProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func (c *childProc) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// e2eRig is the two child processes and what talks to them.
type e2eRig struct {
	dir, emuURL, apiURL, token string
	procs                      []*childProc
	hc                         *http.Client
	cleanup                    []func()
}

// E2E starts `roster emulate dropbox` and `roster serve`, loads Users users
// through the API as CSV into one group, assigns the group to a Dropbox app
// and times, through the team's own get_info, until every user is a member.
func E2E(ctx context.Context, o E2EOptions) (res E2EResult, err error) {
	res = E2EResult{Store: "sqlite", Users: o.Users, Budget: o.Budget}
	if o.Budget == "" {
		res.Budget = "default"
	}
	r := &e2eRig{hc: &http.Client{Timeout: 5 * time.Minute}}
	defer r.close()
	if r.dir, err = os.MkdirTemp("", "roster-e2e-"); err != nil {
		return res, err
	}
	r.cleanup = append(r.cleanup, func() { os.RemoveAll(r.dir) })
	database := filepath.Join(r.dir, "roster.db")
	if store.IsPostgres(o.Database) {
		res.Store = "postgres"
		dsn, drop, err := PostgresSchema(ctx, o.Database)
		if err != nil {
			return res, err
		}
		r.cleanup = append(r.cleanup, drop)
		database = dsn
	}
	if err := r.start(ctx, o.Exe, database); err != nil {
		return res, err
	}
	setup := time.Now()
	if err := r.seed(ctx, o); err != nil {
		return res, err
	}
	res.SetupSeconds = time.Since(setup).Seconds()
	base, err := r.provisioned(ctx)
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := r.api(ctx, "POST", "/api/v1/assignments", map[string]string{"app": "dropbox", "group": "everyone"}); err != nil {
		return res, err
	}
	if err := r.wait(ctx, o, base, start, &res); err != nil {
		return res, err
	}
	res.MembersPerS = float64(o.Users) / res.Seconds
	res.ServerRSSMiB = peakRSSMiB(r.procs[1].cmd.Process.Pid)
	return res, nil
}

// wait polls the team's member count until every user is in.
func (r *e2eRig) wait(ctx context.Context, o E2EOptions, base int, start time.Time, res *E2EResult) error {
	lastSay := start
	for {
		n, err := r.provisioned(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		if n > base && res.FirstSeconds == 0 {
			res.FirstSeconds = now.Sub(start).Seconds()
		}
		if n-base >= o.Users {
			res.Seconds = now.Sub(start).Seconds()
			return nil
		}
		if o.Progress != nil && now.Sub(lastSay) >= 10*time.Second {
			lastSay = now
			fmt.Fprintf(o.Progress, "  %s: %d of %d members after %.0f s\n", res.Store, n-base, o.Users, now.Sub(start).Seconds())
		}
		for _, p := range r.procs {
			if p.exited() {
				return fmt.Errorf("roster %s exited: %s", p.name, r.logTail(p.name))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d members after %.0f s: %w", n-base, o.Users, time.Since(start).Seconds(), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// start runs the emulator, makes the first API token and runs the server.
func (r *e2eRig) start(ctx context.Context, exe, database string) error {
	emuAddr, err := freeAddr()
	if err != nil {
		return err
	}
	r.emuURL = "http://" + emuAddr
	if err := r.child(ctx, exe, "emulate", "dropbox", "--addr", emuAddr, "--token", "tok"); err != nil {
		return err
	}
	if err := r.until(ctx, "emulate", func() bool { _, err := r.provisioned(ctx); return err == nil }); err != nil {
		return err
	}
	key := filepath.Join(r.dir, "roster.key")
	out, err := exec.CommandContext(ctx, exe, "admin", "token", "create", "--name", "bench", "--database", database, "--secret-key-file", key).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("roster admin token create: %w: %s", err, ee.Stderr)
		}
		return fmt.Errorf("roster admin token create: %w", err)
	}
	r.token = strings.TrimSpace(string(out))
	apiAddr, err := freeAddr()
	if err != nil {
		return err
	}
	r.apiURL = "http://" + apiAddr
	if err := r.child(ctx, exe, "serve", "--listen", apiAddr, "--database", database, "--secret-key-file", key); err != nil {
		return err
	}
	return r.until(ctx, "serve", func() bool {
		resp, err := r.hc.Get(r.apiURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// child starts exe with args, its output to a log file in the run's folder.
func (r *e2eRig) child(ctx context.Context, exe string, args ...string) error {
	logf, err := os.Create(filepath.Join(r.dir, args[0]+".log"))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "ROSTER_TOKEN=")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start roster %s: %w", args[0], err)
	}
	p := &childProc{name: args[0], cmd: cmd, done: make(chan struct{})}
	r.procs = append(r.procs, p)
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	return nil
}

// until waits up to a minute for ready, failing early if the child exits.
func (r *e2eRig) until(ctx context.Context, name string, ready func() bool) error {
	deadline := time.Now().Add(time.Minute)
	for !ready() {
		if r.procs[len(r.procs)-1].exited() || time.Now().After(deadline) {
			return fmt.Errorf("roster %s did not start: %s", name, r.logTail(name))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// logTail is the end of a child's log, for an error.
func (r *e2eRig) logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(r.dir, name+".log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// close stops the children (SIGTERM, then SIGKILL) and removes the run's files.
func (r *e2eRig) close() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		p := r.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	for i := len(r.cleanup) - 1; i >= 0; i-- {
		r.cleanup[i]()
	}
}

// seed makes the app, the users (CSV, 20,000 a request) and the group.
func (r *e2eRig) seed(ctx context.Context, o E2EOptions) error {
	settings := map[string]any{"provisioning": true}
	if o.Budget != "" {
		var v any = o.Budget
		if f, err := strconv.ParseFloat(o.Budget, 64); err == nil {
			v = f
		}
		settings["budget"] = map[string]any{"calls_per_second": v}
	}
	if err := r.api(ctx, "POST", "/api/v1/apps", map[string]any{"name": "dropbox", "kind": "dropbox", "base_url": r.emuURL, "token": "tok", "settings": settings}); err != nil {
		return err
	}
	if err := r.api(ctx, "POST", "/api/v1/groups", map[string]string{"name": "everyone"}); err != nil {
		return err
	}
	const chunk = 20_000
	for from := 0; from < o.Users; from += chunk {
		to := min(from+chunk, o.Users)
		var csv bytes.Buffer
		csv.WriteString("username,email,first_name,last_name\n")
		names := make([]string, 0, to-from)
		for i := from; i < to; i++ {
			fmt.Fprintf(&csv, "%s,%s,User,%d\n", userName(i), userName(i), i)
			names = append(names, userName(i))
		}
		if err := r.api(ctx, "POST", "/api/v1/users/import", csv.Bytes()); err != nil {
			return err
		}
		for i := 0; i < len(names); i += 1000 { // the most one request may add
			if err := r.api(ctx, "POST", "/api/v1/groups/everyone/members", map[string]any{"users": names[i:min(i+1000, len(names))]}); err != nil {
				return err
			}
		}
	}
	return nil
}

// api calls Roster's API; body is CSV ([]byte) or a value sent as JSON.
func (r *e2eRig) api(ctx context.Context, method, path string, body any) error {
	var data []byte
	ctype := "text/csv"
	if b, ok := body.([]byte); ok {
		data = b
	} else {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
		ctype = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, r.apiURL+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", ctype)
	resp, err := r.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4000))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// provisioned asks the team how many members it has.
func (r *e2eRig) provisioned(ctx context.Context) (int, error) {
	return emu.Provisioned(ctx, r.hc, r.emuURL, "tok")
}

// freeAddr finds a free loopback port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// peakRSSMiB reads a process's peak resident set (VmHWM) on Linux; 0 elsewhere.
func peakRSSMiB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// pushOutOfProcess is Push with the emulator in child processes of exe: one
// per ceiling run (the better of two, each on a fresh team) and one for the push.
func pushOutOfProcess(ctx context.Context, open Open, n int, exe string) (PushResult, error) {
	ceiling := 0.0
	for range 2 {
		c, err := withEmulator(ctx, exe, "ceiling", func(url string) (float64, error) { return ceilingAt(ctx, url, n, ceilingClients) })
		if err != nil {
			return PushResult{}, err
		}
		ceiling = max(ceiling, c)
	}
	var res PushResult
	_, err := withEmulator(ctx, exe, "bench", func(url string) (float64, error) {
		r, err := newRigAt(ctx, &Rig{URL: url}, open, n, 0)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		hc := &http.Client{Timeout: time.Minute}
		res, err = r.measurePush(ctx, n, ceiling, func() int64 { return teamCalls(ctx, hc, url, "bench") })
		return 0, err
	})
	return res, err
}

// withEmulator runs f against `exe emulate dropbox` serving one team (token
// "tok") in a child process, stopped afterwards.
func withEmulator(ctx context.Context, exe, team string, f func(url string) (float64, error)) (float64, error) {
	r := &e2eRig{hc: &http.Client{Timeout: time.Minute}}
	defer r.close()
	var err error
	if r.dir, err = os.MkdirTemp("", "roster-emu-"); err != nil {
		return 0, err
	}
	r.cleanup = append(r.cleanup, func() { os.RemoveAll(r.dir) })
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	r.emuURL = "http://" + addr
	if err := r.child(ctx, exe, "emulate", "dropbox", "--addr", addr, "--token", "tok", "--team", team, "--licenses", "100000000"); err != nil {
		return 0, err
	}
	if err := r.until(ctx, "emulate", func() bool { _, err := r.provisioned(ctx); return err == nil }); err != nil {
		return 0, err
	}
	return f(r.emuURL)
}

// teamCalls reads the calls a team of an emulator process received; -1 if it cannot.
func teamCalls(ctx context.Context, hc *http.Client, url, team string) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/_emulator/teams/"+team+"/stats", nil)
	if err != nil {
		return -1
	}
	resp, err := hc.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var st struct {
		Calls int64 `json:"calls"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return -1
	}
	return st.Calls
}
