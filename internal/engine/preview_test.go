package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

var bg = context.Background()

// noCalls is a Connect that fails the test: plans and guarded syncs must not reach the app.
func noCalls(t *testing.T) engine.Connect {
	return func(context.Context, app.Instance, connector.Pacer) (connector.Connector, error) {
		t.Error("the app was contacted")
		return nil, errors.New("no calls allowed")
	}
}

// seedGroup makes an app, a group of n active users assigned to it, and known
// active accounts for all of them, as if they had been provisioned.
func seedGroup(t *testing.T, s *sqlstore.DB, n int) app.Instance {
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	if err := s.CreateApp(bg, "t", &a); err != nil {
		t.Fatal(err)
	}
	g := directory.Group{Name: "staff"}
	if err := s.CreateGroup(bg, "t", &g); err != nil {
		t.Fatal(err)
	}
	users := make([]directory.User, n)
	names := make([]string, n)
	for i := range users {
		names[i] = fmt.Sprintf("u%03d", i)
		users[i] = directory.User{Username: names[i], Email: names[i] + "@x.io", FirstName: "U", LastName: fmt.Sprint(i)}
	}
	if err := s.CreateUsers(bg, "t", users); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMembers(bg, "t", "staff", names); err != nil {
		t.Fatal(err)
	}
	if err := s.Assign(bg, "t", &directory.Assignment{AppName: "dbx", GroupName: "staff"}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimWork(bg, a.ID, "seed", 60e9, n, time.Time{})
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	outs := make([]store.Outcome, n)
	for i, c := range claimed {
		u, _ := s.GetUserByID(bg, c.RefID)
		outs[i] = store.Outcome{Item: c, Account: &store.Account{AppID: a.ID, UserID: u.ID, MemberID: fmt.Sprint("dbmid:", u.ID),
			Email: u.Email, GivenName: u.FirstName, Surname: u.LastName, ExternalID: engine.ExternalID(u.ID), Role: "member", Status: "active"}}
	}
	if err := s.FinishWork(bg, "seed", outs); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPlanAndGuard(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := b.Open(t)
			a := seedGroup(t, s, 50)
			e := engine.New(s, noCalls(t), slog.New(slog.NewTextHandler(io.Discard, nil)), engine.Config{})

			// (A full plan lists the team: see the reconciliation tests.)
			p, err := e.Plan(bg, a, false)
			if err != nil || len(p.Changes) != 0 || p.Members != 50 {
				t.Fatalf("in-step plan = %+v, %v", p, err)
			}
			// A mover and a role change show as updates with old and new values.
			if _, err := s.UpdateUser(bg, "t", "u001", "user.update", func(u *directory.User) error { u.LastName = "Moved"; return nil }); err != nil {
				t.Fatal(err)
			}
			p, _ = e.Plan(bg, a, false)
			if len(p.Changes) != 1 || p.Changes[0].Op != engine.OpUpdate || p.Changes[0].Changes["surname"] != [2]string{"1", "Moved"} {
				t.Fatalf("mover plan = %+v", p.Changes)
			}

			// Emptying the group by mistake: 50 of 50 would be removed.
			names := make([]string, 50)
			for i := range names {
				names[i] = fmt.Sprintf("u%03d", i)
			}
			if err := s.RemoveGroupMembers(bg, "t", "staff", names); err != nil {
				t.Fatal(err)
			}
			p, err = e.Plan(bg, a, false)
			if err != nil || p.Summary[engine.OpRemove] != 50 || p.Guard == nil || p.Offboard != 50 {
				t.Fatalf("mass-unassign plan = %+v, %v", p.Summary, err)
			}
			if p.Changes[0].Detail["wipe_data"] != true {
				t.Fatalf("remove detail = %+v", p.Changes[0].Detail)
			}
			_, err = e.Sync(bg, a, engine.SyncOptions{})
			var g *engine.GuardError
			if !errors.As(err, &g) || g.Offboard != 50 || g.Members != 50 || !errors.Is(err, engine.ErrGuard) {
				t.Fatalf("sync past the guard: %v", err)
			}
			if left, _ := s.PendingWork(bg, a.ID, 0); len(left) != 50 {
				t.Fatalf("the guard must leave the work queued: %d left", len(left))
			}
			logs, _ := s.ListLog(bg, audit.Filter{Action: "sync.guard"})
			if len(logs) != 1 || logs[0].Outcome != audit.Failure {
				t.Fatalf("guard trip not logged: %+v", logs)
			}
			_, _ = e.Sync(bg, a, engine.SyncOptions{})
			if logs, _ := s.ListLog(bg, audit.Filter{Action: "sync.guard"}); len(logs) != 1 {
				t.Fatalf("the same trip was logged again: %d", len(logs))
			}
		})
	}
}

func TestGuardThresholds(t *testing.T) {
	s := storetest.OpenSQLite(t)
	a := seedGroup(t, s, 100)
	e := engine.New(s, noCalls(t), slog.New(slog.NewTextHandler(io.Discard, nil)), engine.Config{})
	deactivate := func(n int) {
		for i := range n {
			if _, err := s.UpdateUser(bg, "t", fmt.Sprintf("u%03d", i), "user.deactivate", func(u *directory.User) error {
				u.Status = directory.StatusDeprovisioned
				return nil
			}); err != nil && !errors.Is(err, directory.ErrInvalidTransition) {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		deactivated int
		trips       bool
	}{{9, false}, {20, false}, {21, true}}
	for _, c := range cases {
		deactivate(c.deactivated)
		p, err := e.Plan(bg, a, false)
		if err != nil || p.Offboard != c.deactivated || (p.Guard != nil) != c.trips {
			t.Errorf("%d of 100 off-boarded: guard %v (offboard %d), want trip=%v", c.deactivated, p.Guard, p.Offboard, c.trips)
		}
	}
}
