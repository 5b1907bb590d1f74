package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/csvload"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

const by store.Actor = "admin:test"

// fixture is a service over a real store with one app, dbx, that
// provisions and pushes deactivation.
type fixture struct {
	t   *testing.T
	st  *sqlstore.DB
	svc *service.Service
	app app.Instance
}

func newFixture(t *testing.T, open func(testing.TB) *sqlstore.DB) *fixture {
	t.Helper()
	st := open(t)
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: "http://127.0.0.1:1", Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	a.Settings.Features.PushDeactivation = true
	if err := st.CreateApp(context.Background(), by, &a); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, svc: service.New(st, nil, service.Options{}), app: a}
}

func (f *fixture) user(name string) directory.User {
	f.t.Helper()
	u := directory.User{Username: name, Email: name + "@corp.example", FirstName: "F", LastName: name}
	if err := f.svc.CreateUser(context.Background(), by, &u); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// provisioned assigns the user to dbx and records an active account, so
// taking it away off-boards someone.
func (f *fixture) provisioned(u directory.User) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.svc.Assign(ctx, by, &directory.Assignment{AppName: "dbx", Username: u.Username}); err != nil {
		f.t.Fatal(err)
	}
	acct := store.Account{AppID: f.app.ID, UserID: u.ID, MemberID: "dbmid:" + u.Username, Email: u.Email, Status: "active"}
	if err := f.st.CorrectAccounts(ctx, f.app.ID, []store.Account{acct}, nil, nil); err != nil {
		f.t.Fatal(err)
	}
}

// confirmed runs a guarded use case unconfirmed, wants it refused with
// nothing changed (checked by unchanged), then runs it with the token shown.
func confirmed(t *testing.T, run func(service.Confirm) error, unchanged func() bool) {
	t.Helper()
	err := run(service.Confirm{})
	var ce *service.ConfirmError
	if !errors.As(err, &ce) || ce.Reason != service.NotConfirmed || ce.Impact.Count != 1 {
		t.Fatalf("unconfirmed: %v, want a confirmation error for one account", err)
	}
	if !unchanged() {
		t.Fatal("the unconfirmed change was made")
	}
	if err := run(service.Confirm{Token: ce.Impact.Confirm}); err != nil {
		t.Fatalf("confirmed: %v", err)
	}
}

// TestUserUseCases: create, update, a plain and a guarded lifecycle action,
// delete and CSV import, each through the service on a real store.
func TestUserUseCases(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			ann := f.user("ann")
			if ann.Status != directory.StatusActive {
				t.Fatalf("created %+v, want active", ann)
			}
			if err := f.svc.CreateUser(ctx, by, &directory.User{Username: "ANN", Email: "x@corp.example"}); !errors.Is(err, directory.ErrConflict) {
				t.Fatalf("duplicate: %v", err)
			}
			u, err := f.svc.UpdateUser(ctx, by, "ann", func(u *directory.User) error { u.FirstName = "Anne"; return nil })
			if err != nil || u.FirstName != "Anne" {
				t.Fatalf("update = %+v, %v", u, err)
			}
			f.provisioned(ann)
			confirmed(t, func(cf service.Confirm) error {
				u, _, err = f.svc.Transition(ctx, by, "ann", directory.Deactivate, cf)
				return err
			}, func() bool { cur, _ := f.st.GetUser(ctx, "ann"); return cur.Status == directory.StatusActive })
			if u.Status != directory.StatusDeprovisioned {
				t.Fatalf("deactivated %+v", u)
			}
			if u, _, err = f.svc.Transition(ctx, by, "ann", directory.Reactivate, service.Confirm{}); err != nil || u.Status != directory.StatusActive {
				t.Fatalf("reactivate (needs no confirmation) = %+v, %v", u, err)
			}
			if _, _, err = f.svc.Transition(ctx, by, "ann", directory.Activate, service.Confirm{}); !errors.Is(err, directory.ErrInvalidTransition) {
				t.Fatalf("activate an active user: %v", err)
			}
			confirmed(t, func(cf service.Confirm) error {
				_, _, err := f.svc.Transition(ctx, by, "ann", directory.Deactivate, cf)
				return err
			}, func() bool { cur, _ := f.st.GetUser(ctx, "ann"); return cur.Status == directory.StatusActive })
			if _, err = f.svc.DeleteUser(ctx, by, "ann", service.Confirm{}); err != nil {
				t.Fatalf("delete a deactivated user: %v", err)
			}
			if _, err = f.st.GetUser(ctx, "ann"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
			n, err := f.svc.ImportUsers(ctx, by, strings.NewReader("username,email\nbo,bo@corp.example\ncy,cy@corp.example\n"))
			if err != nil || n != 2 {
				t.Fatalf("import = %d, %v", n, err)
			}
			_, err = f.svc.ImportUsers(ctx, by, strings.NewReader("username,email\ndi,not-an-email\n"))
			var rows *csvload.Errors
			if !errors.As(err, &rows) {
				t.Fatalf("bad import: %v, want row errors", err)
			}
		})
	}
}

// TestGroupUseCases: create, add and remove members (the removal that
// off-boards needs confirmation), rename and delete a group.
func TestGroupUseCases(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			g := directory.Group{Name: "Sales"}
			if err := f.svc.CreateGroup(ctx, by, &g); err != nil || g.ID == 0 {
				t.Fatalf("create = %+v, %v", g, err)
			}
			bo := f.user("bo")
			if err := f.svc.AddMembers(ctx, by, "Sales", nil); !errors.Is(err, service.ErrMembers) {
				t.Fatalf("add nobody: %v", err)
			}
			if err := f.svc.AddMembers(ctx, by, "Sales", []string{"bo"}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Assign(ctx, by, &directory.Assignment{AppName: "dbx", GroupName: "Sales"}); err != nil {
				t.Fatal(err)
			}
			acct := store.Account{AppID: f.app.ID, UserID: bo.ID, MemberID: "dbmid:bo", Email: bo.Email, Status: "active"}
			if err := f.st.CorrectAccounts(ctx, f.app.ID, []store.Account{acct}, nil, nil); err != nil {
				t.Fatal(err)
			}
			members := func() int {
				us, err := f.st.ListUsers(ctx, store.UserFilter{Group: "Sales", Page: store.Page{Limit: 10}})
				if err != nil {
					t.Fatal(err)
				}
				return len(us)
			}
			confirmed(t, func(cf service.Confirm) error {
				_, err := f.svc.RemoveMembers(ctx, by, "Sales", []string{"bo"}, cf)
				return err
			}, func() bool { return members() == 1 })
			if members() != 0 {
				t.Fatal("bo is still a member")
			}
			r, err := f.svc.RenameGroup(ctx, by, "Sales", "Field Sales")
			if err != nil || r.Name != "Field Sales" || r.ID != g.ID {
				t.Fatalf("rename = %+v, %v", r, err)
			}
			if _, err := f.svc.DeleteGroup(ctx, by, "Field Sales", service.Confirm{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := f.st.GetGroup(ctx, "Field Sales"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
		})
	}
}

// TestAssignmentUseCases: assigning gives access; unassigning a provisioned
// user needs the impact confirmed.
func TestAssignmentUseCases(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			f.provisioned(f.user("cy"))
			if err := f.svc.Assign(ctx, by, &directory.Assignment{AppName: "nope", Username: "cy"}); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("assign to a missing app: %v", err)
			}
			assigned := func() bool {
				as, err := f.st.ListAssignments(ctx, store.AssignmentFilter{User: "cy"})
				if err != nil {
					t.Fatal(err)
				}
				return len(as) == 1
			}
			confirmed(t, func(cf service.Confirm) error {
				_, err := f.svc.Unassign(ctx, by, "dbx", "cy", "", cf)
				return err
			}, assigned)
			if assigned() {
				t.Fatal("cy is still assigned")
			}
		})
	}
}

// TestTaskUseCases: tasks list by app with their user named, and retry and
// dismiss find them by name; a target naming no user or group is refused.
func TestTaskUseCases(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			if _, err := f.svc.Tasks(ctx, "nope"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("tasks of a missing app: %v", err)
			}
			tasks, err := f.svc.Tasks(ctx, "dbx")
			if err != nil || len(tasks) != 0 {
				t.Fatalf("tasks = %+v, %v", tasks, err)
			}
			f.user("di")
			if err := f.svc.RetryTask(ctx, by, service.TaskTarget{App: "dbx"}); !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("retry naming nobody: %v", err)
			}
			if err := f.svc.DismissTask(ctx, by, service.TaskTarget{App: "dbx", User: "nobody"}); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("dismiss for a missing user: %v", err)
			}
		})
	}
}

// TestTokenUseCases: a token's secret is returned once and never listed;
// deleting it removes it from the list.
func TestTokenUseCases(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx, f := context.Background(), newFixture(t, b.Open)
			tok, secret, err := f.svc.CreateToken(ctx, by, "ci")
			if err != nil || tok.ID == 0 || secret == "" {
				t.Fatalf("create = %+v, %q, %v", tok, secret, err)
			}
			ts, err := f.svc.Tokens(ctx)
			if err != nil || len(ts) != 1 || ts[0].Name != "ci" {
				t.Fatalf("tokens = %+v, %v", ts, err)
			}
			if err := f.svc.DeleteToken(ctx, by, tok.ID); err != nil {
				t.Fatal(err)
			}
			if ts, err = f.svc.Tokens(ctx); err != nil || len(ts) != 0 {
				t.Fatalf("after delete = %+v, %v", ts, err)
			}
		})
	}
}

// TestUseCasesAuthorize: each use case asks the Authorizer first; refused,
// nothing changes.
func TestUseCasesAuthorize(t *testing.T) {
	st := storetest.OpenSQLite(t)
	deny := denyAll{}
	svc := service.New(st, nil, service.Options{Auth: deny})
	ctx := context.Background()
	for name, run := range map[string]func() error{
		"create user":  func() error { return svc.CreateUser(ctx, by, &directory.User{Username: "x", Email: "x@corp.example"}) },
		"create group": func() error { return svc.CreateGroup(ctx, by, &directory.Group{Name: "G"}) },
		"assign":       func() error { return svc.Assign(ctx, by, &directory.Assignment{AppName: "dbx", Username: "x"}) },
		"create token": func() error { _, _, err := svc.CreateToken(ctx, by, "t"); return err },
		"retry task":   func() error { return svc.RetryTask(ctx, by, service.TaskTarget{App: "dbx", User: "x"}) },
	} {
		if err := run(); !errors.Is(err, errDenied) {
			t.Errorf("%s: %v, want denied", name, err)
		}
	}
	if us, _ := st.ListUsers(ctx, store.UserFilter{Page: store.Page{Limit: 10}}); len(us) != 0 {
		t.Fatalf("a denied create made %+v", us)
	}
}

var errDenied = errors.New("denied")

type denyAll struct{}

func (denyAll) Authorize(context.Context, store.Actor, string, string) error { return errDenied }
