package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// A name or email already taken is a conflict that names the field and the
// value, on every backend, never the database's own words.
func TestConflictsNameFieldAndValue(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, b.Open)
			f.user("ann")
			f.user("bob")
			if err := f.svc.CreateGroup(ctx, by, &directory.Group{Name: "Sales"}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.CreateGroup(ctx, by, &directory.Group{Name: "Ops"}); err != nil {
				t.Fatal(err)
			}
			_, renameErr := f.svc.RenameGroup(ctx, by, "Ops", "SALES")
			_, updateErr := f.svc.UpdateUser(ctx, by, "bob", func(u *directory.User) error { u.Email = "ANN@corp.example"; return nil })
			for _, tc := range []struct {
				name string
				err  error
				want string
			}{
				{"group", f.svc.CreateGroup(ctx, by, &directory.Group{Name: "sales"}), `group name "sales" is already taken`},
				{"group rename", renameErr, `group name "SALES" is already taken`},
				{"username", f.svc.CreateUser(ctx, by, &directory.User{Username: "ANN", Email: "x@corp.example"}), `username "ANN" is already taken`},
				{"email", f.svc.CreateUser(ctx, by, &directory.User{Username: "cy", Email: "Ann@corp.example"}), `email "Ann@corp.example" is already taken`},
				{"email update", updateErr, `email "ANN@corp.example" is already taken`},
			} {
				msg := ""
				if tc.err != nil {
					msg = tc.err.Error()
				}
				if !errors.Is(tc.err, directory.ErrConflict) || !strings.Contains(msg, tc.want) ||
					strings.Contains(msg, "constraint") || strings.Contains(msg, "name_key") {
					t.Errorf("%s: %v, want a conflict saying %q", tc.name, tc.err, tc.want)
				}
			}
		})
	}
}

// import-csv --update: new usernames are created, existing ones updated
// (empty cells keep the value), all in one transaction; a refused file
// changes nothing and lists each problem once, in line order.
func TestUpsertUsersFromCSV(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, b.Open)
			f.user("ann")
			f.user("bob")
			good := "username,email,first_name,last_name,department\n" +
				"ann,ann.lee@corp.example,Ann,,Sales\n" + // email and department change; last name kept
				"bob,bob@corp.example,F,bob,\n" + // as it is
				"cy,cy@corp.example,Cy,Young,Ops\n" // new
			got, err := f.svc.UpsertUsers(ctx, by, strings.NewReader(good))
			if err != nil || got.Created != 1 || got.Updated != 1 || got.Unchanged != 1 {
				t.Fatalf("upsert: %+v %v", got, err)
			}
			ann, _ := f.st.GetUser(ctx, "ann")
			if ann.Email != "ann.lee@corp.example" || ann.LastName != "ann" || ann.Attributes["department"] != "Sales" {
				t.Fatalf("ann: %+v", ann)
			}
			if again, err := f.svc.UpsertUsers(ctx, by, strings.NewReader(good)); err != nil || again.Unchanged != 3 {
				t.Fatalf("again: %+v %v", again, err)
			}
			bad := "username,email,status\n" +
				"dee,dee@corp.example,\n" + // fine alone
				"bob,bob@corp.example,deprovisioned\n" + // a status change
				"eve,cy@corp.example,\n" + // another user's email
				"eve,eve@corp.example,\n" // twice in the file
			_, err = f.svc.UpsertUsers(ctx, by, strings.NewReader(bad))
			var rows *csvload.Errors
			if !errors.As(err, &rows) || len(rows.Rows) != 3 {
				t.Fatalf("bad file: %v", err)
			}
			for i, want := range []struct {
				line int
				text string
			}{{3, "status"}, {4, "already belongs"}, {5, "also on line 4"}} {
				if r := rows.Rows[i]; r.Line != want.line || !strings.Contains(r.Message, want.text) {
					t.Errorf("problem %d: %+v, want line %d %q", i, r, want.line, want.text)
				}
			}
			if _, err := f.st.GetUser(ctx, "dee"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("a refused file created dee: %v", err)
			}
		})
	}
}

// A file imported twice is a conflict (exit 4), not invalid input.
func TestImportTwiceIsAConflict(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	csv := "username,email\nann,ann@corp.example\n"
	if _, err := f.svc.ImportUsers(context.Background(), by, strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.ImportUsers(context.Background(), by, strings.NewReader(csv))
	if !errors.Is(err, directory.ErrConflict) || errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("%v", err)
	}
}
