package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

// scimWorld is `roster serve` with its worker, in process, on one backend,
// provisioning an emulated Dropbox team, fed over SCIM.
type scimWorld struct {
	*cli
	t    *testing.T
	st   *sqlstore.DB
	emu  *emu.Server
	team string
	hc   *http.Client
}

// newSCIMWorld starts the world. The worker idles for a minute between
// passes: a SCIM change reaches Dropbox within the waits below only
// because it wakes the worker.
func newSCIMWorld(t *testing.T, backend string) *scimWorld {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "roster.db")
	if backend == "postgres" {
		db = storetest.PostgresDSN(t)
	}
	keyFile := filepath.Join(dir, "roster.key")
	t.Setenv("ROSTER_SECRET_KEY", "")
	c := &cli{t: t, dir: dir}
	out, errOut, code := c.exec(nil, "admin", "token", "create", "--name", "tester", "--database", db, "--secret-key-file", keyFile)
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	c.token = strings.TrimSpace(out)
	st, box, err := (&dbFlags{database: db, keyFile: keyFile}).open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := newServices(st, box, log, engine.Config{})
	fr, err := newFleetRole(roleAll, st, box, log, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	fr.worker = engine.NewWorker(st, newConnect(st, box, log), log, engine.WorkerConfig{
		Engine:  engine.Config{Kinds: connectors.Registry(), Idle: time.Minute, BaseBackoff: 20 * time.Millisecond},
		LaneTTL: 2 * time.Second, Tick: 100 * time.Millisecond, Cooldown: 10 * time.Millisecond, Observer: fr.metrics,
	})
	svc.runner = fr.runner(svc.engine)
	svc.wake = fr.worker.Wake
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, log, svc, "127.0.0.1:0", ready, fr) }()
	c.addr = "http://" + <-ready
	wait := fr.startWorkers(ctx)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = wait()
		st.Close()
	})
	srv, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	tokFile := filepath.Join(dir, "dropbox.token")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("apps", "add", "dbx", "--base-url", base, "--dropbox-token-file", tokFile, "provisioning=true", "features.push_groups=true")
	return &scimWorld{cli: c, t: t, st: st, emu: srv, team: "acme", hc: &http.Client{Timeout: time.Minute}}
}

// source adds a SCIM source and returns its base URL and token.
func (w *scimWorld) source(name string, flags ...string) scimClient {
	w.t.Helper()
	var made sourceTokenJSON
	if err := json.Unmarshal([]byte(w.ok(append([]string{"-o", "json", "sources", "add", "scim", name}, flags...)...)), &made); err != nil {
		w.t.Fatal(err)
	}
	return scimClient{t: w.t, base: made.BaseURL, token: made.Token, hc: w.hc}
}

// scimClient is an IdP's SCIM client.
type scimClient struct {
	t     testing.TB
	base  string
	token string
	hc    *http.Client
}

func (c scimClient) do(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	out, status, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if status != want {
		c.t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func (c scimClient) try(method, path string, body any) (map[string]any, int, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("%s %s: answer is not JSON: %s", method, path, data)
		}
	}
	return out, resp.StatusCode, nil
}

func filterQ(f string) string { return "?filter=" + url.QueryEscape(f) }

func ops(list ...map[string]any) map[string]any {
	o := make([]any, len(list))
	for i, x := range list {
		o[i] = x
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": o}
}

// eventually waits up to 10 s for what to hold in the emulator's team.
func (w *scimWorld) eventually(what string, ok func(emu.Snapshot) bool) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sn := w.emu.Team(w.team).Snapshot()
		if ok(sn) {
			return
		}
		if time.Now().After(deadline) {
			tasks, _ := w.st.ListTasks(context.Background(), 0)
			w.t.Fatalf("Dropbox never got to %s; members %+v, groups %+v, tasks %+v", what, sn.Members, sn.Groups, tasks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func member(sn emu.Snapshot, email string) (emu.Member, bool) {
	for _, m := range sn.Members {
		if strings.EqualFold(m.Email, email) {
			return m, true
		}
	}
	return emu.Member{}, false
}

func group(sn emu.Snapshot, name string) (emu.GroupSnapshot, bool) {
	for _, g := range sn.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return emu.GroupSnapshot{}, false
}

// dir reads a user from the directory.
func (w *scimWorld) dir(id string) directory.User {
	w.t.Helper()
	u, err := w.st.GetUserByExternalKey(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func e2eBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Name) })
	}
}

// TestSCIMOkta replays what Okta sends: a lookup by userName before the
// create, the create, PUT for profile changes, PATCH {active:false} to
// deactivate, groups pushed with member PATCHes, a member removed by a
// filtered path and the group renamed by replace.
func TestSCIMOkta(t *testing.T) {
	e2eBackends(t, func(t *testing.T, backend string) {
		w := newSCIMWorld(t, backend)
		w.ok("apps", "set", "dbx", "deactivation.type=suspend")
		okta := w.source("okta")
		const email = "ann.lee@corp.example"

		if l := okta.do("GET", "/Users"+filterQ(`userName eq "`+email+`"`)+"&startIndex=1&count=100", nil, 200); l["totalResults"] != 0.0 {
			t.Fatalf("lookup before create: %v", l)
		}
		created := okta.do("POST", "/Users", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": email,
			"name":        map[string]any{"givenName": "Ann", "familyName": "Lee"},
			"emails":      []any{map[string]any{"primary": true, "value": email, "type": "work"}},
			"displayName": "Ann Lee", "locale": "en-US", "externalId": "00u1okta", "active": true,
			"groups": []any{}, "password": "never-kept",
		}, 201)
		id := created["id"].(string)
		if u := w.dir(id); u.Source != "okta" || u.FirstName != "Ann" || u.Status != directory.StatusActive {
			t.Fatalf("directory after create: %+v", u)
		}
		if l := okta.do("GET", "/Users"+filterQ(`userName eq "`+strings.ToUpper(email)+`"`), nil, 200); l["totalResults"] != 1.0 {
			t.Fatalf("lookup after create: %v", l)
		}
		grp := okta.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Engineering", "members": []any{}}, 201)
		gid := grp["id"].(string)
		w.ok("assign", "dbx", "--group", "Engineering")
		w.ok("groups", "push", "dbx", "--group", "Engineering")
		okta.do("PATCH", "/Groups/"+gid, ops(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id, "display": email}}}), 204)
		var memberID string
		w.eventually("ann as a member of Engineering", func(sn emu.Snapshot) bool {
			m, ok := member(sn, email)
			g, gok := group(sn, "Engineering")
			memberID = m.ID
			return ok && m.GivenName == "Ann" && gok && len(g.Members) == 1 && g.Members[0] == m.ID
		})
		w.emu.Team(w.team).Activate(email) // ann accepts the invitation: an invited member cannot be suspended, only removed

		put := map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": id, "userName": email,
			"name":   map[string]any{"givenName": "Ann", "familyName": "Lee-Smith"},
			"emails": []any{map[string]any{"primary": true, "value": email, "type": "work"}},
			"active": true,
		}
		okta.do("PUT", "/Users/"+id, put, 200)
		w.eventually("the new surname", func(sn emu.Snapshot) bool { m, _ := member(sn, email); return m.Surname == "Lee-Smith" })
		if u := w.dir(id); u.Attributes["urn:ietf:params:scim:schemas:core:2.0:User:displayName"] != "" {
			t.Fatalf("PUT without displayName kept it: %+v", u.Attributes)
		}

		okta.do("PATCH", "/Users/"+id, ops(map[string]any{"op": "replace", "value": map[string]any{"active": false}}), 200)
		if u := w.dir(id); u.Status != directory.StatusDeprovisioned {
			t.Fatalf("after active=false: %s", u.Status)
		}
		w.eventually("ann suspended (the app suspends)", func(sn emu.Snapshot) bool { m, _ := member(sn, email); return m.Status == "suspended" })
		okta.do("PATCH", "/Users/"+id, ops(map[string]any{"op": "replace", "value": map[string]any{"active": true}}), 200)
		w.eventually("ann active again", func(sn emu.Snapshot) bool { m, _ := member(sn, email); return m.Status == "active" && m.ID == memberID })

		okta.do("PATCH", "/Groups/"+gid, ops(map[string]any{"op": "replace", "value": map[string]any{"id": gid, "displayName": "Engineering EU"}}), 204)
		w.eventually("the group renamed", func(sn emu.Snapshot) bool { _, ok := group(sn, "Engineering EU"); return ok })
		okta.do("PATCH", "/Groups/"+gid, ops(map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}), 204)
		w.eventually("ann out of the group and, without an assignment, suspended", func(sn emu.Snapshot) bool {
			g, _ := group(sn, "Engineering EU")
			m, _ := member(sn, email)
			return len(g.Members) == 0 && m.Status == "suspended"
		})
		if l := okta.do("GET", "/Groups"+filterQ(`displayName eq "Engineering EU"`), nil, 200); l["totalResults"] != 1.0 {
			t.Fatalf("group lookup: %v", l)
		}

		// An admin's user of the same name: refused, then adopted once allowed.
		w.ok("users", "add", "bob@corp.example", "--email", "bob@corp.example", "--first-name", "Bob", "--last-name", "Hall")
		bob := map[string]any{"userName": "bob@corp.example", "name": map[string]any{"givenName": "Robert", "familyName": "Hall"},
			"emails": []any{map[string]any{"value": "bob@corp.example", "primary": true}}, "active": true}
		if out := okta.do("POST", "/Users", bob, 409); out["scimType"] != "uniqueness" {
			t.Fatalf("409: %v", out)
		}
		w.ok("sources", "set", "okta", "--adopt=true")
		adopted := okta.do("POST", "/Users", bob, 201)
		if u := w.dir(adopted["id"].(string)); u.Source != "okta" || u.FirstName != "Robert" {
			t.Fatalf("adopted: %+v", u)
		}
		if out := w.ok("log", "--action", "user.adopt"); !strings.Contains(out, "bob@corp.example") {
			t.Fatalf("the adoption is not in the system log: %s", out)
		}

		okta.do("DELETE", "/Users/"+id, nil, 204)
		if u := w.dir(id); u.Source != "api" || u.Status != directory.StatusDeprovisioned {
			t.Fatalf("after DELETE: %+v", u)
		}
		okta.do("GET", "/Users/"+id, nil, 404)
	})
}

// TestSCIMEntra replays what Microsoft Entra ID sends: lookups by userName
// and by externalId, capitalised ops, filtered and enterprise paths, active
// as the string "False", member removal with a value list, and DELETE after
// the soft delete.
func TestSCIMEntra(t *testing.T) {
	e2eBackends(t, func(t *testing.T, backend string) {
		w := newSCIMWorld(t, backend)
		w.ok("apps", "set", "dbx", "deactivation.type=remove", "deactivation.wipe_data=false")
		entra := w.source("entra")
		const email = "cara@corp.example"
		const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

		for _, f := range []string{`userName eq "` + email + `"`, `externalId eq "e-4711"`} {
			if l := entra.do("GET", "/Users"+filterQ(f), nil, 200); l["totalResults"] != 0.0 {
				t.Fatalf("lookup %s: %v", f, l)
			}
		}
		created := entra.do("POST", "/Users", map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:schemas:core:2.0:User", ent},
			"externalId": "e-4711", "userName": email, "active": true, "displayName": "Cara Diaz",
			"emails": []any{map[string]any{"primary": true, "type": "work", "value": email}},
			"name":   map[string]any{"formatted": "Cara Diaz", "familyName": "Diaz", "givenName": "Cara"},
			"title":  "Analyst", "preferredLanguage": "en-US",
			"phoneNumbers": []any{map[string]any{"type": "work", "value": "+1 555 0100"}},
			ent:            map[string]any{"department": "Sales", "employeeNumber": "4711", "manager": map[string]any{"value": "boss-id"}},
		}, 201)
		id := created["id"].(string)
		if l := entra.do("GET", "/Users"+filterQ(`externalId eq "e-4711"`), nil, 200); l["totalResults"] != 1.0 {
			t.Fatalf("lookup by externalId: %v", l)
		}
		grp := entra.do("POST", "/Groups", map[string]any{"displayName": "Sales", "externalId": "g-1", "members": []any{map[string]any{"value": id}}}, 201)
		gid := grp["id"].(string)
		w.ok("assign", "dbx", "--group", "Sales")
		w.ok("groups", "push", "dbx", "--group", "Sales")
		w.eventually("cara in Sales", func(sn emu.Snapshot) bool {
			m, ok := member(sn, email)
			g, _ := group(sn, "Sales")
			return ok && len(g.Members) == 1 && g.Members[0] == m.ID
		})
		w.emu.Team(w.team).Activate(email)

		entra.do("PATCH", "/Users/"+id, ops(
			map[string]any{"op": "Replace", "path": "name.givenName", "value": "Carla"},
			map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "carla@corp.example"},
			map[string]any{"op": "Add", "path": ent + ":department", "value": "Finance"},
			map[string]any{"op": "Replace", "path": ent + ":manager", "value": "boss-2"},
			map[string]any{"op": "Remove", "path": "title"},
		), 200)
		u := w.dir(id)
		if u.FirstName != "Carla" || u.Email != "carla@corp.example" || u.Attributes[ent+":department"] != "Finance" ||
			u.Attributes[ent+":manager"] != "boss-2" || u.Attributes[ent+":employeeNumber"] != "4711" || u.Attributes["urn:ietf:params:scim:schemas:core:2.0:User:title"] != "" {
			t.Fatalf("directory after the Entra PATCH: %+v", u)
		}
		w.eventually("the new given name", func(sn emu.Snapshot) bool {
			m, _ := member(sn, "carla@corp.example")
			return m.GivenName == "Carla"
		})

		entra.do("PATCH", "/Users/"+id, ops(map[string]any{"op": "Replace", "path": "active", "value": "False"}), 200)
		if u := w.dir(id); u.Status != directory.StatusDeprovisioned {
			t.Fatalf("after active \"False\": %s", u.Status)
		}
		w.eventually("carla removed (the app removes)", func(sn emu.Snapshot) bool {
			m, _ := member(sn, "carla@corp.example")
			return m.Status == "removed"
		})
		entra.do("PATCH", "/Users/"+id, ops(map[string]any{"op": "Replace", "path": "active", "value": "True"}), 200)
		w.eventually("carla back", func(sn emu.Snapshot) bool {
			m, _ := member(sn, "carla@corp.example")
			return m.Status == "active"
		})

		entra.do("PATCH", "/Groups/"+gid, ops(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": id}}}), 204)
		w.eventually("Sales empty", func(sn emu.Snapshot) bool { g, _ := group(sn, "Sales"); return len(g.Members) == 0 })
		entra.do("PATCH", "/Groups/"+gid, ops(map[string]any{"op": "Add", "path": "members", "value": []any{map[string]any{"value": id}}}), 204)
		w.eventually("carla in Sales again", func(sn emu.Snapshot) bool { g, _ := group(sn, "Sales"); return len(g.Members) == 1 })

		// Soft delete, then DELETE: the user stays in the directory, detached.
		entra.do("PATCH", "/Users/"+id, ops(map[string]any{"op": "Replace", "path": "active", "value": false}), 200)
		entra.do("DELETE", "/Users/"+id, nil, 204)
		if u := w.dir(id); u.Source != "api" || u.Status != directory.StatusDeprovisioned {
			t.Fatalf("after DELETE: %+v", u)
		}
		entra.do("DELETE", "/Users/"+id, nil, 404)
		entra.do("DELETE", "/Groups/"+gid, nil, 204)
		if _, err := w.st.GetGroup(context.Background(), "Sales"); err == nil {
			t.Fatal("the group is still in the directory")
		}
	})
}
