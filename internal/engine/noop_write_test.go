package engine_test

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// TestConfirmingSyncWritesNoAccount: a sync that finds every account as
// stored (here, every user queued again with nothing changed) rewrites none
// of them, while one whose account did change still records it.
func TestConfirmingSyncWritesNoAccount(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newWorld(t, b.Open, nil)
			for _, n := range []string{"ann", "bob"} {
				w.user(n, nil)
				w.assign(n, "member")
			}
			w.sync()
			before := accountsByUser(t, w)
			time.Sleep(2 * time.Millisecond) // a rewrite would carry a later updated_at
			if _, err := w.st.EnqueueAll(bg, w.app.ID, "full"); err != nil {
				t.Fatal(err)
			}
			w.change("bob", "user.update", func(u *directory.User) error { u.LastName = "Changed"; return nil })
			if st := w.sync(); st.Done != 2 || st.Ops["account.update"] != 1 {
				t.Fatalf("confirming sync: %+v", st)
			}
			after := accountsByUser(t, w)
			var ann, bob int64
			for id, a := range after {
				switch a.Email {
				case "ann@corp.example":
					ann = id
				case "bob@corp.example":
					bob = id
				}
			}
			if !after[ann].UpdatedAt.Equal(before[ann].UpdatedAt) {
				t.Fatalf("ann's unchanged account was rewritten: %v -> %v", before[ann].UpdatedAt, after[ann].UpdatedAt)
			}
			if after[bob].Surname != "Changed" || !after[bob].UpdatedAt.After(before[bob].UpdatedAt) {
				t.Fatalf("bob's changed account: %+v (was %+v)", after[bob], before[bob])
			}
		})
	}
}

func accountsByUser(t *testing.T, w *world) map[int64]store.Account {
	t.Helper()
	list, err := w.st.ListAccounts(bg, w.app.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.Account{}
	for _, a := range list {
		out[a.UserID] = a
	}
	return out
}
