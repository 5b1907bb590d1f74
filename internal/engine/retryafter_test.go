package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// Suspending 200 members at a set call rate while Dropbox answers some
// calls 429: once one worker is told Retry-After, none of the app's workers
// may call until it has passed, not even those already waiting for their
// turn. The emulator counts every call that arrives inside a Retry-After
// it announced.
func TestNoCallInsideRetryAfter(t *testing.T) {
	const users = 200
	// A mass suspension on purpose: the deletion guard is not under test.
	w := newWorld(t, storetest.OpenSQLite, func(s *app.Settings) { s.Guard.Percent, s.Guard.Min = 100, users })
	emails := make([]string, users)
	for i := range users {
		n := fmt.Sprintf("s%03d", i)
		w.user(n, nil)
		w.assign(n, "member")
		emails[i] = n + "@corp.example"
	}
	if st := w.sync(); st.Done != users {
		t.Fatalf("push: %+v", st)
	}
	w.emu.Team("acme").Activate(emails...) // only active members can be suspended
	for i := range users {
		w.status(fmt.Sprintf("s%03d", i), directory.StatusSuspended)
	}

	// Below 20 calls a second the bucket holds one token, so calls leave
	// one at a time and none is on its way when another is answered 429.
	e := engine.New(w.st, connectTo, slog.New(slog.NewTextHandler(io.Discard, nil)),
		engine.Config{RatePerApp: 19, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	w.emu.SetFaults(emu.Faults{Rate429: 0.02, RetryAfter: 1, Routes: []string{"members/suspend"}, Seed: 7})
	w.emu.ResetCalls()
	drain(t, w, e)
	w.emu.SetFaults(emu.Faults{})

	st := w.emu.Team("acme").Stats()
	if st.Got429 == 0 {
		t.Fatalf("no 429 was answered, nothing was tested: %+v", st)
	}
	if st.RetryAfterCalls != 0 {
		t.Errorf("%d calls arrived inside a Retry-After (%d answered 429): %+v", st.RetryAfterCalls, st.Got429, st)
	}
	sn := w.emu.Team("acme").Snapshot()
	for _, m := range sn.Members {
		if m.ID != sn.AdminID && m.Status != emu.StatusSuspended {
			t.Errorf("%s is %s, want suspended", m.Email, m.Status)
		}
	}
}

func connectTo(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
	return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
}

// drain syncs with e until the app has no work left.
func drain(t *testing.T, w *world, e *engine.Engine) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		a, err := w.st.GetApp(bg, "dbx")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Sync(bg, a, engine.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if left, _ := w.st.PendingWork(bg, w.app.ID, 0); len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the work did not finish")
		}
	}
}
