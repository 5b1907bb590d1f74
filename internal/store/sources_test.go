package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

func TestSources(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			testSources(t, b.Open(t))
		})
	}
}

func testSources(t *testing.T, st interface {
	store.Store
	store.Sources
}) {
	ctx := context.Background()
	const by store.Actor = "test"
	okta := store.Source{Name: "okta", Kind: store.SourceSCIM}
	if err := st.CreateSource(ctx, by, &okta, nil, []byte("hash-1")); err != nil {
		t.Fatalf("create: %v", err)
	}
	if okta.ID == 0 || !okta.HasToken || okta.HasSecret || okta.Settings.DeactivateAs != store.DeactivateAsDeactivate {
		t.Fatalf("created source = %+v", okta)
	}
	ldap := store.Source{Name: "corp-ad", Kind: store.SourceLDAP, Config: json.RawMessage(`{"url":"ldaps://dc"}`),
		Settings: store.SourceSettings{Adopt: true, DeactivateAs: store.DeactivateAsSuspend}}
	if err := st.CreateSource(ctx, by, &ldap, []byte("sealed"), nil); err != nil {
		t.Fatalf("create ldap: %v", err)
	}
	// Refused: a taken name in any case, a reserved or malformed name, a bad setting.
	for _, bad := range []store.Source{
		{Name: "OKTA", Kind: store.SourceSCIM},
		{Name: "api", Kind: store.SourceSCIM},
		{Name: "Has Space", Kind: store.SourceSCIM},
		{Name: "x", Kind: store.SourceSCIM, Settings: store.SourceSettings{DeactivateAs: "delete"}},
		{Name: "y", Kind: store.SourceSCIM, Config: json.RawMessage(`{`)},
	} {
		err := st.CreateSource(ctx, by, &bad, nil, nil)
		if !errors.Is(err, directory.ErrInvalid) && !errors.Is(err, directory.ErrConflict) {
			t.Errorf("create %+v: err = %v, want invalid or conflict", bad, err)
		}
	}
	// A token of another source, or a secret, is found by its hash only.
	got, err := st.SourceByTokenHash(ctx, []byte("hash-1"))
	if err != nil || got.Name != "okta" {
		t.Fatalf("by token = %+v, %v", got, err)
	}
	if _, err := st.SourceByTokenHash(ctx, []byte("nope")); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := st.SetSourceToken(ctx, by, "okta", []byte("hash-2")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SourceByTokenHash(ctx, []byte("hash-1")); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("old token still works after rotation: %v", err)
	}
	if sealed, err := st.SourceSecret(ctx, ldap.ID); err != nil || string(sealed) != "sealed" {
		t.Fatalf("secret = %q, %v", sealed, err)
	}

	// Ownership: counts, adoption and detachment.
	u := directory.User{Username: "ann", Email: "ann@example.com", Source: "okta"}
	if err := st.CreateUser(ctx, by, &u); err != nil {
		t.Fatal(err)
	}
	bob := directory.User{Username: "bob", Email: "bob@example.com"}
	if err := st.CreateUser(ctx, by, &bob); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetUserSource(ctx, by, "bob", "corp-ad", "okta", "user.adopt"); !errors.Is(err, directory.ErrConflict) {
		t.Fatalf("adopting from the wrong source: %v", err)
	}
	if got, err := st.SetUserSource(ctx, by, "bob", directory.SourceAPI, "okta", "user.adopt"); err != nil || got.Source != "okta" {
		t.Fatalf("adopt = %+v, %v", got, err)
	}
	g := directory.Group{Name: "eng", Source: "okta"}
	if err := st.CreateGroup(ctx, by, &g); err != nil {
		t.Fatal(err)
	}
	got, err = st.GetSource(ctx, "OKTA")
	if err != nil || got.Users != 2 || got.Groups != 1 {
		t.Fatalf("get = %+v, %v; want 2 users and 1 group", got, err)
	}

	// Activity: an error always, a request at most every few seconds.
	now := time.Now()
	if err := st.RecordSourceActivity(ctx, okta.ID, store.Activity{At: now, Err: "bad filter"}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSourceActivity(ctx, okta.ID, store.Activity{At: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetSource(ctx, "okta")
	if got.Errors != 1 || got.LastError != "bad filter" || got.LastRequest == nil || !got.LastRequest.Equal(now.UTC()) {
		t.Fatalf("activity = errors %d %q, last request %v", got.Errors, got.LastError, got.LastRequest)
	}
	if err := st.RecordSourceActivity(ctx, okta.ID, store.Activity{At: now.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetSource(ctx, "okta")
	if !got.LastRequest.Equal(now.Add(10 * time.Second).UTC()) {
		t.Fatalf("last request = %v, want the later one", got.LastRequest)
	}

	// Settings change; the name and kind do not.
	up, err := st.UpdateSource(ctx, by, "okta", func(s *store.Source) error {
		s.Settings.Adopt, s.Kind, s.Name = true, "ldap", "renamed"
		return nil
	})
	if err != nil || !up.Settings.Adopt || up.Kind != store.SourceSCIM || up.Name != "okta" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	list, err := st.ListSources(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "corp-ad" || list[1].Name != "okta" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	// Removal detaches what the source owned to api: nothing is deleted.
	nu, ng, err := st.DeleteSource(ctx, by, "okta")
	if err != nil || nu != 2 || ng != 1 {
		t.Fatalf("delete = %d users, %d groups, %v", nu, ng, err)
	}
	if u, err := st.GetUser(ctx, "ann"); err != nil || u.Source != directory.SourceAPI {
		t.Fatalf("ann after removal = %+v, %v", u, err)
	}
	if _, err := st.GetSource(ctx, "okta"); !errors.Is(err, directory.ErrNotFound) {
		t.Fatalf("get removed: %v", err)
	}
	logs, err := st.ListLog(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range logs {
		seen[e.Action] = true
	}
	for _, a := range []string{"source.create", "source.token.rotate", "source.update", "source.delete", "user.adopt"} {
		if !seen[a] {
			t.Errorf("no %s in the system log", a)
		}
	}
}
