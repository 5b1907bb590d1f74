package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/storetest"
)

type confirmErr struct {
	Error struct {
		Code    string        `json:"code"`
		Message string        `json:"message"`
		Details engine.Impact `json:"details"`
	} `json:"error"`
}

// TestOffboardingNeedsConfirmation: unassigning a 38-member group, or
// deactivating one user, changes nothing until the request carries the
// confirmation its impact named; confirmed, it is done, and the deletion
// guard does not hold what the admin confirmed.
func TestOffboardingNeedsConfirmation(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e, srvEmu := newImportEnv(t, b.Open)
			team := srvEmu.Team("acme")
			e.call("PATCH", "/api/v1/apps/dbx", map[string]any{"settings": map[string]any{"provisioning": true}}, http.StatusOK, nil)
			e.call("POST", "/api/v1/groups", map[string]any{"name": "Sales"}, http.StatusCreated, nil)
			var names []string
			for i := range 40 {
				n := fmt.Sprintf("s%02d", i)
				e.call("POST", "/api/v1/users", map[string]any{"username": n, "email": n + "@corp.example", "first_name": "S", "last_name": n}, http.StatusCreated, nil)
				if i < 38 {
					names = append(names, n)
				} else {
					e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "user": n}, http.StatusOK, nil)
				}
			}
			e.call("POST", "/api/v1/groups/Sales/members", map[string]any{"users": names}, http.StatusOK, nil)
			e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "group": "Sales"}, http.StatusOK, nil)
			eng := engine.New(e.st, func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
				return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
			}, slog.New(slog.NewTextHandler(io.Discard, nil)), engine.Config{})
			sync := func() error {
				a, err := e.st.GetApp(context.Background(), "dbx")
				if err != nil {
					t.Fatal(err)
				}
				_, err = eng.Sync(context.Background(), a, engine.SyncOptions{})
				return err
			}
			if err := sync(); err != nil {
				t.Fatal(err)
			}
			for i := range 40 {
				team.Activate(fmt.Sprintf("s%02d@corp.example", i))
			}
			active := func() int {
				n := 0
				for _, m := range team.Snapshot().Members {
					if m.Status == "active" && m.Email != "it@corp.example" {
						n++
					}
				}
				return n
			}
			if n := active(); n < 40 {
				t.Fatalf("%d active members, want 40", n)
			}

			// One click: refused with the impact, nothing changed.
			var refused confirmErr
			path := "/api/v1/assignments?app=dbx&group=Sales"
			e.call("DELETE", path, nil, http.StatusConflict, &refused)
			im := refused.Error.Details
			if refused.Error.Code != "confirmation_required" || im.Count != 38 || im.Irreversible != 38 || im.TypeToConfirm != "Sales" || im.Confirm == "" {
				t.Fatalf("refusal = %+v", refused.Error)
			}
			if o := im.Offboardings[0]; o.App != "dbx" || o.Action != "remove" || !o.Wipe {
				t.Fatalf("impact entry = %+v", o)
			}
			e.call("DELETE", path+"&confirm=0000", nil, http.StatusConflict, nil)
			if err := sync(); err != nil {
				t.Fatal(err)
			}
			if n := active(); n != 40 {
				t.Fatalf("unconfirmed unassign changed the team: %d active", n)
			}

			// Confirmed: done, past the deletion guard (38 > 10 removals).
			e.call("DELETE", path+"&confirm="+url.QueryEscape(im.Confirm), nil, http.StatusNoContent, nil)
			if err := sync(); err != nil {
				t.Fatalf("confirmed unassign: %v", err)
			}
			if n := active(); n != 2 {
				t.Fatalf("%d active after the confirmed unassign, want 2", n)
			}

			// A deactivation is confirmed the same way; a lifecycle action
			// that off-boards nobody needs no confirmation.
			e.call("POST", "/api/v1/users/s38/deactivate", nil, http.StatusConflict, &refused)
			if refused.Error.Details.Count != 1 || refused.Error.Details.TypeToConfirm != "1" {
				t.Fatalf("deactivate refusal = %+v", refused.Error)
			}
			e.call("POST", "/api/v1/users/s38/deactivate?confirm="+refused.Error.Details.Confirm, nil, http.StatusOK, nil)
			e.call("POST", "/api/v1/users/s00/deactivate", nil, http.StatusOK, nil) // s00 has no account any more
			if err := sync(); errors.Is(err, engine.ErrGuard) || err != nil {
				t.Fatal(err)
			}
			if n := active(); n != 1 {
				t.Fatalf("%d active, want 1", n)
			}
		})
	}
}
