package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/credential"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store/storetest"
)

type staleErr struct {
	Error struct {
		Code    string `json:"code"`
		Details struct {
			Plan service.Plan    `json:"plan"`
			New  []engine.Change `json:"new"`
			Made []service.Made  `json:"made"`
		} `json:"details"`
	} `json:"error"`
}

// TestApplyPlanRefusesAStalePlan: a plan made with POST .../plans has an id
// and a fingerprint; applying it after the directory changed what it would
// do is refused with 409 plan_stale, naming the new change, and nothing is
// applied; the current plan it returns applies, by id or as a file.
func TestApplyPlanRefusesAStalePlan(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srvEmu, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok", AdminEmail: "it@corp.example"}}})
			st := b.Open(t)
			box, err := secret.New(bytes.Repeat([]byte{9}, 32))
			if err != nil {
				t.Fatal(err)
			}
			connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
				return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			eng := engine.New(st, connect, log, engine.Config{})
			srv := httptest.NewServer(api.New(st, box, log, api.Options{Engine: eng, Connect: connect}).Handler())
			t.Cleanup(srv.Close)
			tok, hash, err := credential.NewToken()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateToken(context.Background(), "test", "admin", hash); err != nil {
				t.Fatal(err)
			}
			e := &env{t, srv, st, box, tok, &bytes.Buffer{}}
			e.call("POST", "/api/v1/apps", map[string]any{"name": "dbx", "base_url": base, "token": "tok",
				"settings": map[string]any{"provisioning": true}}, http.StatusCreated, nil)
			for _, n := range []string{"ann", "bob"} {
				e.call("POST", "/api/v1/users", map[string]any{"username": n, "email": n + "@corp.example", "first_name": "A", "last_name": n}, http.StatusCreated, nil)
			}
			e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "user": "ann"}, http.StatusOK, nil)

			var p service.Plan
			e.call("POST", "/api/v1/apps/dbx/plans", nil, http.StatusCreated, &p)
			if p.ID == "" || p.Fingerprint == "" || len(p.Keys) != 1 || len(p.Preview.Changes) != 1 {
				t.Fatalf("plan: %+v", p)
			}
			var got service.Plan
			e.call("GET", "/api/v1/apps/dbx/plans/"+p.ID, nil, http.StatusOK, &got)
			if got.Fingerprint != p.Fingerprint {
				t.Fatalf("kept plan %s, made %s", got.Fingerprint, p.Fingerprint)
			}

			// bob is assigned after the plan was made: the plan is stale.
			e.call("POST", "/api/v1/assignments", map[string]any{"app": "dbx", "user": "bob"}, http.StatusOK, nil)
			var se staleErr
			e.call("POST", "/api/v1/apps/dbx/plans/"+p.ID+"/apply", nil, http.StatusConflict, &se)
			if se.Error.Code != "plan_stale" || len(se.Error.Details.New) != 1 || se.Error.Details.New[0].User != "bob" {
				t.Fatalf("stale apply: %+v", se)
			}
			if n := len(srvEmu.Team("acme").Snapshot().Members); n != 1 {
				t.Fatalf("a stale plan was applied: %d members", n)
			}

			// An edited plan file is refused; the current one applies from its file.
			cur := se.Error.Details.Plan
			edited := cur
			edited.Keys = edited.Keys[:1]
			e.call("POST", "/api/v1/apps/dbx/plans/"+cur.ID+"/apply", edited, http.StatusBadRequest, nil)
			var out map[string]any
			file, _ := json.Marshal(cur)
			e.call("POST", "/api/v1/apps/dbx/plans/"+cur.ID+"/apply", json.RawMessage(file), http.StatusOK, &out)
			if out["plan"] != cur.ID {
				t.Fatalf("apply: %v", out)
			}
			for _, who := range []string{"ann", "bob"} {
				if _, ok := srvEmu.Team("acme").Member(who + "@corp.example"); !ok {
					t.Fatalf("%s not in the team after apply", who)
				}
			}
		})
	}
}
