package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// BenchmarkQueue measures the store's side of an initial push without the
// app: claim a batch, record each user's new account and log entry, finish.
// One op is one user; lanes claim and finish side by side as the engine does.
// go test -run '^$' -bench Queue -benchtime 100000x ./internal/store
func BenchmarkQueue(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := be.Open(b)
			ctx := context.Background()
			a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
			if err := s.CreateApp(ctx, "bench", &a); err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, b.N)
			for i := range ids {
				ids[i] = int64(i + 1)
			}
			if err := s.EnqueueUsers(ctx, a.ID, ids, "bench"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() { errs <- drain(ctx, s, a.ID) })
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			if n, err := s.CountAccounts(ctx, a.ID); err != nil || n != b.N {
				b.Fatalf("%d accounts of %d, %v", n, b.N, err)
			}
		})
	}
}

// drain claims and finishes batches of 2,000 (the engine's batch) until the queue is empty.
func drain(ctx context.Context, s *sqlstore.DB, appID int64) error {
	owner := fmt.Sprintf("w%d", rand.Int())
	for {
		items, err := s.ClaimWork(ctx, store.Claim{AppID: appID, Kinds: []string{store.WorkUser}, Owner: owner, Lease: time.Minute, Limit: 2000})
		if err != nil || len(items) == 0 {
			return err
		}
		outs := make([]store.Outcome, len(items))
		for i, it := range items {
			mid := fmt.Sprintf("dbmid:AAH%032x", rand.Uint64())
			email := fmt.Sprintf("u%06d@corp.example", it.RefID)
			outs[i] = store.Outcome{Item: it,
				User: store.UserResult{Account: &store.Account{AppID: appID, UserID: it.RefID, MemberID: mid, Email: email, GivenName: "User",
					Surname: fmt.Sprint(it.RefID), ExternalID: fmt.Sprintf("roster:%d", it.RefID), Role: "member", Status: "invited"}},
				Logs: []audit.Entry{{Actor: "engine", Action: "account.create", TargetKind: "user", Target: email, App: "dbx",
					Outcome: audit.Success, Detail: map[string]any{"member_id": mid, "email": email, "role": "member", "welcome_email": true}}}}
		}
		if err := s.FinishWork(ctx, owner, outs); err != nil {
			return err
		}
	}
}
