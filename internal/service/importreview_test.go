package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/importer"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// An import downloads the emulated team and matches it (a plan writes
// nothing); review confirms, links and ignores what it found without
// calling Dropbox, and each row names its directory user.
func TestImportReview(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			svc, st, base, srvEmu := newServiceEmu(t, b.Open)
			if _, err := srvEmu.Team("acme").Seed([]emu.SeedMember{{Email: "nia@corp.example", GivenName: "Nia", Surname: "New"}}); err != nil {
				t.Fatal(err)
			}
			for _, u := range []directory.User{{Username: "kee", Email: "keeper@corp.example", FirstName: "Kee", LastName: "Per"},
				{Username: "itadmin", Email: "itadmin@corp.example"}} {
				if err := st.CreateUser(ctx, by, &u); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("bare"), BaseURL: &base}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.RunImport(ctx, by, "bare", importer.Options{}); !errors.As(err, new(*service.NotConnectedError)) {
				t.Fatalf("import without a token: %v", err)
			}
			a, err := svc.CreateApp(ctx, by, service.AppChange{Name: ptr("dbx"), BaseURL: &base, Token: ptr("tok")})
			if err != nil {
				t.Fatal(err)
			}
			if res, err := svc.RunImport(ctx, by, "dbx", importer.Options{Plan: true}); err != nil || !res.Plan || res.Members != 3 {
				t.Fatalf("plan: %+v, %v", res, err)
			}
			if rows, err := svc.ImportRows(ctx, a, "", store.Page{}); err != nil || len(rows) != 0 {
				t.Fatalf("a plan stored app users: %+v, %v", rows, err)
			}
			if res, err := svc.RunImport(ctx, by, "dbx", importer.Options{}); err != nil || res.Exact != 1 || res.Unmatched != 2 {
				t.Fatalf("import: %+v, %v", res, err)
			}
			rows, err := svc.ImportRows(ctx, a, store.AppUserMatched, store.Page{})
			if err != nil || len(rows) != 1 || rows[0].Email != "keeper@corp.example" || rows[0].Username != "kee" {
				t.Fatalf("matched: %+v, %v", rows, err)
			}
			if rv, err := svc.ConfirmImport(ctx, by, "dbx", []string{"keeper@corp.example"}); err != nil || rv.Linked != 1 {
				t.Fatalf("confirm: %+v, %v", rv, err)
			}
			row, err := svc.LinkImport(ctx, by, "dbx", "it@corp.example", "itadmin")
			if err != nil || row.State != store.AppUserConfirmed || row.Username != "itadmin" {
				t.Fatalf("link: %+v, %v", row, err)
			}
			if n, err := svc.IgnoreImport(ctx, by, "dbx", []string{"nia@corp.example"}); err != nil || n != 1 {
				t.Fatalf("ignore: %d, %v", n, err)
			}
			if row, err := svc.ImportRow(ctx, "dbx", "nia@corp.example"); err != nil || row.State != store.AppUserIgnored {
				t.Fatalf("ignored row: %+v, %v", row, err)
			}
			if c := srvEmu.Calls()["team/members/add_v2"]; c != 0 {
				t.Fatalf("review reached Dropbox: %d adds", c)
			}
			bare := service.New(st, (*secret.Box)(nil), service.Options{})
			if _, err := bare.ConfirmImport(ctx, by, "dbx", []string{"nia@corp.example"}); !errors.Is(err, service.ErrNoImporter) {
				t.Fatalf("review without an importer: %v", err)
			}
		})
	}
}
