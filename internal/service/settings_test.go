package service_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// newService is a service whose connector reaches an emulated team "acme"
// (token "tok") with a member keeper@corp.example; base is its address.
func newService(t *testing.T, open func(testing.TB) *sqlstore.DB) (*service.Service, *sqlstore.DB, string) {
	svc, st, base, _ := newServiceEmu(t, open)
	return svc, st, base
}

func newServiceEmu(t *testing.T, open func(testing.TB) *sqlstore.DB) (*service.Service, *sqlstore.DB, string, *emu.Server) {
	t.Helper()
	srvEmu, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
	if _, err := srvEmu.Team("acme").Seed([]emu.SeedMember{{Email: "keeper@corp.example", GivenName: "Kee", Surname: "Per", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	box, err := secret.New(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	st := open(t)
	im := importer.New(st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return service.New(st, box, service.Options{Connect: connect, Importer: im}), st, base, srvEmu
}

func ptr(s string) *string { return &s }

func transfer(dest string) func(*app.Settings) error {
	return func(s *app.Settings) error {
		s.Deactivation = app.Deactivation{Type: app.DeactivateRemove, FileManagement: app.FilesTransfer,
			TransferDest: dest, TransferAdmin: "it@corp.example"}
		return nil
	}
}

// Creating an app validates it against the kinds and stores a token that
// came with it; Test connection then reaches the team it names.
func TestCreateAppAndTestConnection(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			svc, st, base := newService(t, b.Open)
			if _, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("boxy"), Kind: ptr("box"), BaseURL: &base}); !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("an unknown kind: %v (want invalid)", err)
			}
			if _, err := st.GetApp(ctx, "boxy"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("a refused app was stored: %v", err)
			}
			if _, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("dbx"), BaseURL: &base, Token: ptr("has space")}); !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("a bad token: %v (want invalid)", err)
			}
			a, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("dbx"), BaseURL: ptr(base + "/"), Token: ptr(" tok ")})
			if err != nil || !a.HasToken || a.BaseURL != base || a.Kind != app.KindDropbox {
				t.Fatalf("create: %+v, %v", a, err)
			}
			c, err := svc.TestConnection(ctx, by, "dbx")
			if err != nil || c.Team.Name != "acme" || c.Admin != "it@corp.example" {
				t.Fatalf("test connection: %+v, %v", c, err)
			}
		})
	}
}

// Saving settings checks transfer accounts with the app first, and a new
// base URL drops the token unless one comes with it: nothing is then sent
// to the new address, and a refused change saves nothing.
func TestUpdateApp(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			svc, st, base := newService(t, b.Open)
			if _, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("dbx"), BaseURL: &base, Token: ptr("tok")}); err != nil {
				t.Fatal(err)
			}
			_, err := svc.UpdateApp(ctx, by, "dbx", service.AppChange{Settings: transfer("nobody@corp.example")})
			if !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("transfer to a non-member: %v (want invalid)", err)
			}
			if a, _ := st.GetApp(ctx, "dbx"); a.Settings.Deactivation.FileManagement == app.FilesTransfer {
				t.Fatalf("refused settings were saved: %+v", a.Settings.Deactivation)
			}
			res, err := svc.UpdateApp(ctx, by, "dbx", service.AppChange{Settings: transfer("keeper@corp.example")})
			if err != nil || !res.OffboardingChanged || res.App.Settings.Deactivation.TransferDest != "keeper@corp.example" {
				t.Fatalf("transfer to a member: %+v, %v", res, err)
			}
			const dead = "http://127.0.0.1:9"
			if _, err := svc.UpdateApp(ctx, by, "dbx", service.AppChange{BaseURL: ptr(dead), Settings: transfer("it@corp.example")}); !errors.Is(err, service.ErrMovedTransfer) {
				t.Fatalf("new base URL with new transfer settings: %v", err)
			}
			for _, c := range []struct {
				name    string
				ch      service.AppChange
				token   bool
				testErr any
			}{
				{"moved without a token", service.AppChange{BaseURL: ptr(dead)}, false, new(*service.NotConnectedError)},
				{"moved with a token", service.AppChange{BaseURL: ptr("http://127.0.0.1:10"), Token: ptr("tok")}, true, new(*service.RemoteError)},
			} {
				res, err := svc.UpdateApp(ctx, by, "dbx", c.ch)
				if err != nil || res.App.HasToken != c.token || res.TokenDropped == c.token {
					t.Fatalf("%s: %+v, %v", c.name, res, err)
				}
				if _, err := svc.TestConnection(ctx, by, "dbx"); !errors.As(err, c.testErr) {
					t.Fatalf("%s: test connection: %v (want %T)", c.name, err, c.testErr)
				}
			}
		})
	}
}
