package engine

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A worker that loses the app's lane (a stall: its renewal came late) stops
// its calls before they are sent. That is no failure of the items: however
// many passes meet a lost lane, no attempt is counted, no item becomes a
// task, and the change reaches the app once the lane is held again.
// (TestSCIMConcurrent lost renames this way under -race: eight stalls in a
// row made a rename a task, and Dropbox kept the old name.)
func TestLaneLostCountsNoAttempt(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			srv, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
			st := b.Open(t)
			a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
			a.Settings.Provisioning = true
			if err := st.CreateApp(ctx, "t", &a); err != nil {
				t.Fatal(err)
			}
			var lost atomic.Bool
			lim := newBudget(a.Settings.Budget)
			connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
				held := func() bool { return !lost.Load() }
				return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", PollInterval: time.Millisecond,
					Pacer: budgetPacer{Pacer: p, lim: lim, held: held}}), nil
			}
			const maxAttempts = 3
			e := New(st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)),
				Config{MaxAttempts: maxAttempts, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

			u := directory.User{Username: "ann", Email: "ann@corp.example", FirstName: "First", LastName: "Last"}
			if err := st.CreateUser(ctx, "t", &u); err != nil {
				t.Fatal(err)
			}
			if err := st.Assign(ctx, "t", &directory.Assignment{AppName: "dbx", Username: "ann", Role: "member"}); err != nil {
				t.Fatal(err)
			}
			sync := func() Stats {
				t.Helper()
				time.Sleep(5 * time.Millisecond) // past any backoff, were one counted
				s, err := e.Sync(ctx, a, SyncOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			item := func() store.WorkItem {
				t.Helper()
				left, err := st.PendingWork(ctx, a.ID, 10)
				if err != nil || len(left) != 1 {
					t.Fatalf("queue = %+v (%v), want ann's item", left, err)
				}
				return left[0]
			}
			// Several lanes lost in a row: the create and, once made, the rename.
			for _, step := range []struct {
				name string
				edit func(*directory.User) error
				want string
			}{
				{"create", nil, "First"},
				{"rename", func(u *directory.User) error { u.FirstName = "Renamed"; return nil }, "Renamed"},
			} {
				if step.edit != nil {
					if _, err := st.UpdateUser(ctx, "t", "ann", "user.update", step.edit); err != nil {
						t.Fatal(err)
					}
				}
				lost.Store(true)
				for pass := range maxAttempts + 2 {
					if s := sync(); s.Items != 1 || s.Retrying != 1 || s.Tasks != 0 || s.Done != 0 {
						t.Fatalf("%s, pass %d with the lane lost: stats %+v, want one item retrying", step.name, pass, s)
					}
					if it := item(); it.State != "queued" || it.Attempts != 0 || it.DueAt.After(time.Now()) {
						t.Fatalf("%s, pass %d with the lane lost: item %+v, want queued and due with no attempt", step.name, pass, it)
					}
				}
				lost.Store(false)
				if s := sync(); s.Done != 1 {
					t.Fatalf("%s with the lane held: stats %+v, want done", step.name, s)
				}
				m := srv.Team("acme").Snapshot().MemberByEmail("ann@corp.example")
				if m == nil || m.GivenName != step.want {
					t.Fatalf("%s: member %+v, want given name %s", step.name, m, step.want)
				}
				if left, err := st.PendingWork(ctx, a.ID, 10); err != nil || len(left) != 0 {
					t.Fatalf("%s: queue = %+v (%v), want empty", step.name, left, err)
				}
			}
			// Nothing failed at the app: the system log (and the dashboard's
			// failure count) shows no failure for the calls never sent.
			if n, err := st.CountLog(ctx, audit.Filter{Outcome: audit.Failure}); err != nil || n != 0 {
				t.Fatalf("failures logged = %d (%v), want none for a lost lane", n, err)
			}
		})
	}
}
