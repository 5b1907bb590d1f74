package storetest

import (
	"errors"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

func importTests() []struct {
	name string
	fn   func(*testing.T, *sqlstore.DB)
} {
	return []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"ImportSaveKeepsIgnored", testImportSave},
		{"ImportConfirmLinks", testImportConfirm},
	}
}

func appUser(appID int64, member, email, state string) store.AppUser {
	return store.AppUser{AppID: appID, MemberID: member, Email: email, GivenName: "G", Surname: "S", Status: "active", Role: "member", State: state, Match: "none"}
}

func testImportSave(t *testing.T, s *sqlstore.DB) {
	a := mustApp(t, s, "dbx")
	first := []store.AppUser{appUser(a.ID, "m1", "one@x.io", "unmatched"), appUser(a.ID, "m2", "two@x.io", "unmatched"), appUser(a.ID, "m3", "three@x.io", "unmatched")}
	if err := s.SaveImport(ctx, actor, a.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, "TWO@x.io"); err != nil {
		t.Fatal(err)
	}
	if err := s.IgnoreAppUser(ctx, actor, a.ID, "nobody"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("ignore unknown: %v", err)
	}
	// Next import: m2 is still there (and stays ignored), m3 left Dropbox, m4 is new.
	second := []store.AppUser{appUser(a.ID, "m1", "one@x.io", "matched"), appUser(a.ID, "m2", "two@x.io", "unmatched"), appUser(a.ID, "m4", "four@x.io", "unmatched")}
	if err := s.SaveImport(ctx, actor, a.ID, second); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListAppUsers(ctx, a.ID, "", store.Page{})
	if err != nil || len(all) != 3 {
		t.Fatalf("app users = %+v, %v", all, err)
	}
	states := map[string]string{}
	for _, au := range all {
		states[au.MemberID] = au.State
	}
	if states["m1"] != "matched" || states["m2"] != "ignored" || states["m4"] != "unmatched" || states["m3"] != "" {
		t.Fatalf("states = %v", states)
	}
	ignored, _ := s.ListAppUsers(ctx, a.ID, store.AppUserIgnored, store.Page{})
	if len(ignored) != 1 || ignored[0].MemberID != "m2" {
		t.Fatalf("ignored = %+v", ignored)
	}
}

func testImportConfirm(t *testing.T, s *sqlstore.DB) {
	a := mustApp(t, s, "dbx")
	u := mustUser(t, s, "linkme")
	other := mustUser(t, s, "other")
	au := appUser(a.ID, "dbmid:9", "linkme@example.com", "matched")
	au.Role, au.UserID = "team_admin", u.ID
	if err := s.SaveImport(ctx, actor, a.ID, []store.AppUser{au}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{au}); err != nil {
		t.Fatal(err)
	}
	accts, _ := s.Accounts(ctx, a.ID, []int64{u.ID})
	if accts[u.ID].MemberID != "dbmid:9" || accts[u.ID].Role != "team_admin" {
		t.Fatalf("account = %+v", accts)
	}
	as, _ := s.ListAssignments(ctx, store.AssignmentFilter{App: "dbx", User: "linkme"})
	if len(as) != 1 || as[0].Role != directory.RoleTeamAdmin {
		t.Fatalf("assignment = %+v", as)
	}
	got, _ := s.GetAppUser(ctx, a.ID, "dbmid:9")
	if got.State != store.AppUserConfirmed || got.UserID != u.ID {
		t.Fatalf("app user = %+v", got)
	}
	// Another directory user cannot take the same member.
	au.UserID = other.ID
	if err := s.ConfirmAppUsers(ctx, actor, []store.AppUser{au}); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("double link: %v", err)
	}
	if err := s.MarkVanished(ctx, actor, a.ID, []int64{u.ID}); err != nil {
		t.Fatal(err)
	}
	accts, _ = s.Accounts(ctx, a.ID, []int64{u.ID})
	if accts[u.ID].Status != "removed" {
		t.Fatalf("vanished account = %+v", accts[u.ID])
	}
	if w, _ := s.PendingWork(ctx, a.ID, 0); len(w) != 1 || w[0].Reason != "import.vanished" {
		t.Fatalf("vanished user not queued: %+v", w)
	}
}
