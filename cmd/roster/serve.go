package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/sqlite"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/web"
)

// dbFlags locate the database and the secret key.
type dbFlags struct {
	database string
	keyFile  string
}

func (f *dbFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.database, "database", envOr("ROSTER_DATABASE", "roster.db"),
		"SQLite file, or postgres://user@host/db (env ROSTER_DATABASE)")
	c.Flags().StringVar(&f.keyFile, "secret-key-file", "",
		"file holding the key that encrypts stored credentials, created if missing while none are stored (default: roster.key beside a SQLite file, ./roster.key for PostgreSQL; ROSTER_SECRET_KEY overrides)")
}

func (f *dbFlags) open(ctx context.Context) (*sqlstore.DB, *secret.Box, error) {
	st, err := f.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	box, err := openKey(ctx, st, os.Getenv, f.keyPath())
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, box, nil
}

func (f *dbFlags) openStore(ctx context.Context) (*sqlstore.DB, error) {
	if store.IsPostgres(f.database) {
		return postgres.Open(ctx, f.database)
	}
	if err := checkFolder(f.database); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, f.database)
}

// checkFolder refuses a SQLite file whose folder does not exist: a typo in
// --database must not leave an empty database somewhere unexpected. A new
// file in an existing folder is fine.
func checkFolder(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &exitError{exitNotFound, fmt.Errorf("--database %s: the folder %s does not exist; create it first (Roster creates the database file, not its folder)", path, dir)}
	case err != nil:
		return &exitError{exitFailure, fmt.Errorf("--database %s: %w", path, err)}
	case !fi.IsDir():
		return &exitError{exitUsage, fmt.Errorf("--database %s: %s is not a folder", path, dir)}
	}
	return nil
}

// keyPath is the key file, absolute so that messages say where it is.
func (f *dbFlags) keyPath() string {
	keyFile := f.keyFile
	if keyFile == "" {
		keyFile = "roster.key"
		if !store.IsPostgres(f.database) {
			keyFile = filepath.Join(filepath.Dir(f.database), "roster.key")
		}
	}
	if abs, err := filepath.Abs(keyFile); err == nil {
		return abs
	}
	return keyFile
}

// newLogger logs text on a terminal and JSON otherwise, for log collectors.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func newServeCmd() *cobra.Command {
	var db dbFlags
	var listen, metricsListen string
	var debug, noWorkers bool
	var publicURL, role string
	var secureCookies bool
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the admin API, the admin web UI and the provisioning workers",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			log := newLogger(c.ErrOrStderr(), level)
			st, box, err := db.open(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			svc := newServices(st, box, log, engine.Config{})
			svc.ui = web.Options{PublicURL: publicURL, SecureCookies: secureCookies || strings.HasPrefix(publicURL, "https://")}
			if noWorkers {
				role = roleAPI
			}
			fr, err := newFleetRole(role, st, box, log, engine.Config{})
			if err != nil {
				return err
			}
			if metricsListen != "" {
				if fr.metricsLn, err = net.Listen("tcp", metricsListen); err != nil {
					return fmt.Errorf("listen on %s: %w", metricsListen, err)
				}
			}
			// Listen before any worker starts: a busy port fails at once.
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			svc.runner = fr.runner(svc.engine)
			if fr.worker != nil {
				svc.wake = fr.worker.Wake // a SCIM change is claimed at once
				if store.IsPostgres(db.database) {
					// ... and so is one another process of the fleet made.
					go postgres.ListenWork(c.Context(), log, db.database, 5*time.Second, fr.worker.Wake)
				}
			}
			wait := fr.startWorkers(c.Context())
			if fr.worker != nil {
				// LDAP sources with --every are read by the processes that
				// provision, so that what a read changes is pushed there too.
				go svc.service().RunSourceSchedule(c.Context(), log, 30*time.Second)
			}
			return errors.Join(serveOn(c.Context(), log, svc, ln, nil, fr), wait())
		},
	}
	db.register(c)
	c.Flags().StringVar(&listen, "listen", envOr("ROSTER_LISTEN", "127.0.0.1:8080"), "address to serve on (env ROSTER_LISTEN)")
	c.Flags().StringVar(&metricsListen, "metrics-listen", envOr("ROSTER_METRICS_LISTEN", ""),
		"also serve /metrics on this address, without a token, for Prometheus (env ROSTER_METRICS_LISTEN; on --listen /metrics needs an admin API token)")
	c.Flags().BoolVar(&debug, "debug", false, "log every request")
	c.Flags().BoolVar(&noWorkers, "no-workers", false, "serve the API only; run no provisioning workers (same as --role api)")
	c.Flags().StringVar(&role, "role", envOr("ROSTER_ROLE", roleAll), "api, worker or all: what this process runs (env ROSTER_ROLE); see docs/fleet.md")
	c.Flags().StringVar(&publicURL, "public-url", envOr("ROSTER_PUBLIC_URL", ""),
		"address browsers use to reach Roster, such as https://roster.corp.example; sets the OAuth redirect URI (default: taken from each request; env ROSTER_PUBLIC_URL)")
	c.Flags().BoolVar(&secureCookies, "secure-cookies", false, "mark web UI cookies Secure although Roster serves plain HTTP (behind a TLS proxy); automatic with --public-url https://…")
	return c
}

// serve runs the API until ctx ends, then drains requests for up to 10 s.
// ready, if set, receives the bound address once the server listens.
// fr, if set, adds /metrics and the fleet's health checks, and restricts the
// routes to its role.
func serve(ctx context.Context, log *slog.Logger, svc *services, listen string, ready chan<- string, fr *fleetRole) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	return serveOn(ctx, log, svc, ln, ready, fr)
}

// serveOn is serve on a listener already bound.
func serveOn(ctx context.Context, log *slog.Logger, svc *services, ln net.Listener, ready chan<- string, fr *fleetRole) error {
	h, ui, err := svc.handler(log)
	if err != nil {
		return err
	}
	if fr != nil {
		h = fr.handler(h)
	}
	srv := svc.limits.Server(h)
	go ui.SweepSessions(ctx, time.Hour)
	if toks, err := svc.st.ListTokens(ctx); err == nil && len(toks) == 0 {
		log.Warn("no admin API token exists yet; create one with: roster admin token create --name admin")
	}
	if admins, err := svc.st.ListAdmins(ctx); err == nil && len(admins) == 0 {
		log.Warn("no admin account for the web UI exists yet; create one with: roster admin user create NAME")
	}
	log.Info("roster serving", "addr", "http://"+ln.Addr().String(), "web_ui", "http://"+ln.Addr().String()+"/")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	servers := map[*http.Server]net.Listener{srv: ln}
	if fr != nil && fr.metricsLn != nil {
		servers[svc.limits.Server(fr.metricsHandler())] = fr.metricsLn
		log.Info("metrics serving", "addr", "http://"+fr.metricsLn.Addr().String()+"/metrics")
	}
	return serveUntil(ctx, log, servers)
}

// serveUntil runs the servers until one fails or ctx ends, then drains
// requests for up to 10 s.
func serveUntil(ctx context.Context, log *slog.Logger, servers map[*http.Server]net.Listener) error {
	errc := make(chan error, len(servers))
	for srv, ln := range servers {
		go func() { errc <- srv.Serve(ln) }()
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{failed}
	for srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
