package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/store/postgres"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A process that queued work wakes the listening processes of its schema
// at once, and only those: another schema's notice wakes nobody here.
func TestNotifyWorkWakesListeners(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := storetest.PostgresDSN(t)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := postgres.Open(ctx, storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	woken := make(chan struct{}, 16)
	go postgres.ListenWork(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), dsn, 50*time.Millisecond, func() { woken <- struct{}{} })
	wait := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake: %s", what)
		}
	}
	wait("when listening starts") // work queued before it listened is looked for
	if err := other.NotifyWork(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.NotifyWork(ctx); err != nil {
		t.Fatal(err)
	}
	wait("after this schema's notice")
	select {
	case <-woken:
		t.Fatal("another schema's notice woke this schema's listener")
	case <-time.After(300 * time.Millisecond):
	}
}
