package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/ldapsource"
	"github.com/roster-dev/roster/internal/sourcesync"
	"github.com/roster-dev/roster/internal/store"
)

// LDAPConfig is an LDAP source's config as stored: how to read the
// directory, and the source's guard and full-read schedule.
type LDAPConfig struct {
	ldapsource.Config
	Guard sourcesync.Guard `json:"guard"`
	// FullEvery is how often a scheduled sync reads everything (noticing
	// deletions and users leaving the scope); between, it reads changes.
	FullEvery string `json:"full_every,omitempty"`
}

// defaultFullEvery: deletions and scope changes are noticed within an hour;
// disabling a user is a change, noticed at the next incremental read.
const defaultFullEvery = "1h"

// LDAPSourceKind is the LDAP and Active Directory source (MISSION D6): Roster
// reads the directory with a bind password kept sealed.
func LDAPSourceKind() SourceKind {
	return SourceKind{Kind: store.SourceLDAP, Title: "LDAP or Active Directory (Roster reads it on a schedule)", Secret: true,
		CheckConfig: checkLDAPConfig}
}

func checkLDAPConfig(raw json.RawMessage) (json.RawMessage, error) {
	var c LDAPConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%w: the ldap config is not valid JSON: %w", directory.ErrInvalid, err)
	}
	c.Normalize()
	if c.Guard == (sourcesync.Guard{}) {
		c.Guard = sourcesync.DefaultGuard
	}
	if c.FullEvery == "" {
		c.FullEvery = defaultFullEvery
	}
	errs := []error{c.Validate()}
	if c.Guard.Percent < 1 || c.Guard.Percent > 100 || c.Guard.Min < 0 {
		errs = append(errs, fmt.Errorf("guard percent must be between 1 and 100 and min not negative, got %d%% and %d", c.Guard.Percent, c.Guard.Min))
	}
	if d, err := time.ParseDuration(c.FullEvery); err != nil || d < time.Minute {
		errs = append(errs, fmt.Errorf("full_every %q must be a duration of at least 1m, such as 1h", c.FullEvery))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", directory.ErrInvalid, err)
	}
	return json.Marshal(c)
}

// SyncOptions shape one sync of a source.
type SyncOptions struct {
	Plan         bool // show what would change; change nothing
	AllowDeletes bool // apply even what the guard would hold
	Incremental  bool // read changes since the last mark (a full read when there is none)
	Scheduled    bool // the schedule: incremental unless a full read is due
}

// SourceSync is what a sync read and did.
type SourceSync struct {
	Source    string           `json:"source"`
	Full      bool             `json:"full"`
	Escalated bool             `json:"escalated,omitempty"` // an incremental read found changed groups and read everything
	Entries   int              `json:"entries_read"`
	Pages     int              `json:"pages"`
	HighWater string           `json:"high_water"`
	ReadMS    int64            `json:"read_ms"`
	Plan      *sourcesync.Plan `json:"plan"`
	Applied   int              `json:"applied"`
	DryRun    bool             `json:"dry_run"`
}

// ErrSourceRead wraps a failed read of a source: nothing was applied.
var ErrSourceRead = ldapsource.ErrRead

// ErrSourceHeld says the source's guard held a sync: nothing was applied.
var ErrSourceHeld = fmt.Errorf("%w: %w", directory.ErrConflict, sourcesync.ErrHeld)

// HeldError carries the held plan.
type HeldError struct{ Sync SourceSync }

func (e *HeldError) Error() string { return e.Sync.Plan.Held }

// Is makes errors.Is(err, ErrSourceHeld) and directory.ErrConflict true.
func (e *HeldError) Is(target error) bool {
	return target == ErrSourceHeld || target == sourcesync.ErrHeld || target == directory.ErrConflict
}

// SyncSource reads an LDAP source and applies what changed: a read that
// fails applies nothing, and a plan the source's guard holds applies
// nothing until a sync with AllowDeletes.
func (s *Service) SyncSource(ctx context.Context, by store.Actor, name string, opt SyncOptions) (SourceSync, error) {
	st, err := s.sources()
	if err != nil {
		return SourceSync{}, err
	}
	marks, ok := s.st.(store.SourceMarks)
	dir, ok2 := s.st.(sourcesync.Store)
	if !ok || !ok2 {
		return SourceSync{}, ErrNoSources
	}
	if err := s.allow(ctx, by, "source.sync", name); err != nil {
		return SourceSync{}, err
	}
	src, err := st.GetSource(ctx, name)
	if err != nil {
		return SourceSync{}, err
	}
	if _, busy := s.syncing.LoadOrStore(src.ID, true); busy {
		return SourceSync{}, fmt.Errorf("%w: source %s is being synced already; try again when that sync ends", directory.ErrConflict, src.Name)
	}
	defer s.syncing.Delete(src.ID)
	if src.Kind != store.SourceLDAP {
		return SourceSync{}, fmt.Errorf("%w: source %s is a %s source: it calls Roster, Roster does not read it", directory.ErrInvalid, src.Name, src.Kind)
	}
	var cfg LDAPConfig
	if err := json.Unmarshal(src.Config, &cfg); err != nil {
		return SourceSync{}, fmt.Errorf("decode the config of source %s: %w", src.Name, err)
	}
	password, err := s.SourceSecret(ctx, src)
	if err != nil {
		return SourceSync{}, err
	}
	mark, err := marks.SourceMark(ctx, src.ID)
	if err != nil {
		return SourceSync{}, err
	}
	since := ""
	if (opt.Incremental || opt.Scheduled && !fullDue(cfg, mark, s.opt.Now())) && mark.HighWater != "" {
		since = mark.HighWater
	}
	out := SourceSync{Source: src.Name, DryRun: opt.Plan}
	started := time.Now()
	snap, err := ldapsource.Read(ctx, cfg.Config, password, ldapsource.ReadOptions{Since: since})
	out.ReadMS = time.Since(started).Milliseconds()
	if err != nil {
		err = fmt.Errorf("source %s: %w; nothing was applied", src.Name, err)
		s.sourceFailed(ctx, by, src, "source.sync", err, nil)
		return out, err
	}
	out.Full, out.Escalated, out.Entries, out.Pages, out.HighWater = snap.Full, snap.Escalated, snap.Entries, snap.Pages, snap.HighWater
	plan, err := sourcesync.Compute(ctx, dir, toSnapshot(snap, cfg), sourcesync.Options{Source: src.Name, Adopt: src.Settings.Adopt,
		DeactivateAs: deactivateAs(src.Settings), Guard: cfg.Guard, AllowDeletes: opt.AllowDeletes})
	if err != nil {
		return out, err
	}
	out.Plan = plan
	if opt.Plan {
		return out, nil
	}
	if plan.Held != "" {
		s.sourceFailed(ctx, by, src, "source.sync.held", errors.New(plan.Held), map[string]any{"deactivations": plan.Deactivations, "owned_active": plan.Owned, "limit": plan.Limit})
		return out, &HeldError{Sync: out}
	}
	out.Applied, err = plan.Apply(ctx, dir, by)
	if err != nil {
		err = fmt.Errorf("source %s: %w (%d changes applied before it)", src.Name, err, out.Applied)
		s.sourceFailed(ctx, by, src, "source.sync", err, nil)
		return out, err
	}
	m := store.SourceMark{HighWater: snap.HighWater}
	if snap.Full {
		m.FullSyncAt = s.opt.Now()
	}
	if err := marks.SetSourceMark(ctx, src.ID, m); err != nil {
		return out, err
	}
	_ = s.RecordSourceActivity(ctx, src, store.Activity{Run: true})
	_ = s.st.AppendLog(context.WithoutCancel(ctx), audit.Entry{At: s.opt.Now(), Actor: string(by), Action: "source.sync", TargetKind: "source",
		Target: src.Name, Outcome: audit.Success, Message: plan.Summary(),
		Detail: map[string]any{"full": snap.Full, "entries_read": snap.Entries, "applied": out.Applied, "high_water": snap.HighWater}})
	return out, nil
}

// sourceFailed records a failed or held sync for the Sources page and the
// system log; the message names no secret (errors never carry the password).
func (s *Service) sourceFailed(ctx context.Context, by store.Actor, src store.Source, action string, err error, detail map[string]any) {
	ctx = context.WithoutCancel(ctx)
	_ = s.RecordSourceActivity(ctx, src, store.Activity{Run: true, Err: err.Error()})
	outcome := audit.Failure
	if action == "source.sync.held" {
		outcome = audit.Skipped
	}
	_ = s.st.AppendLog(ctx, audit.Entry{At: s.opt.Now(), Actor: string(by), Action: action, TargetKind: "source", Target: src.Name,
		Outcome: outcome, Message: err.Error(), Detail: detail})
}

func fullDue(cfg LDAPConfig, m store.SourceMark, now time.Time) bool {
	every, err := time.ParseDuration(cfg.FullEvery)
	if err != nil || every <= 0 {
		every = time.Hour
	}
	return m.FullSyncAt.IsZero() || now.Sub(m.FullSyncAt) >= every
}

func deactivateAs(s store.SourceSettings) directory.Status {
	if s.DeactivateAs == store.DeactivateAsSuspend {
		return directory.StatusSuspended
	}
	return directory.StatusDeprovisioned
}

func toSnapshot(snap *ldapsource.Snapshot, cfg LDAPConfig) sourcesync.Snapshot {
	out := sourcesync.Snapshot{Full: snap.Full, CreateNew: cfg.ScopeGroup == "",
		Users: make([]sourcesync.User, len(snap.Users)), Groups: make([]sourcesync.Group, len(snap.Groups))}
	for i, u := range snap.Users {
		out.Users[i] = sourcesync.User{Key: u.ID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Disabled: u.Disabled}
	}
	for i, g := range snap.Groups {
		out.Groups[i] = sourcesync.Group{Key: g.ID, Name: g.Name, Members: g.Members}
	}
	return out
}

// RunSourceSchedule syncs every LDAP source whose interval (every) has
// passed since its last run, until ctx ends; a failure is recorded on the
// source and the schedule carries on.
func (s *Service) RunSourceSchedule(ctx context.Context, log *slog.Logger, tick time.Duration) {
	if tick <= 0 {
		tick = 30 * time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		s.syncDueSources(ctx, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) syncDueSources(ctx context.Context, log *slog.Logger) {
	srcs, err := s.Sources(ctx)
	if err != nil {
		return
	}
	for _, src := range srcs {
		if src.Kind != store.SourceLDAP || ctx.Err() != nil {
			continue
		}
		var cfg LDAPConfig
		if json.Unmarshal(src.Config, &cfg) != nil || cfg.Interval() <= 0 {
			continue
		}
		if src.LastRun != nil && s.opt.Now().Sub(*src.LastRun) < cfg.Interval() {
			continue
		}
		res, err := s.SyncSource(ctx, "schedule", src.Name, SyncOptions{Scheduled: true})
		if err != nil {
			log.Warn("source sync", "source", src.Name, "err", err)
			continue
		}
		log.Info("source sync", "source", src.Name, "full", res.Full, "entries", res.Entries, "applied", res.Applied, "changes", res.Plan.Summary())
	}
}
