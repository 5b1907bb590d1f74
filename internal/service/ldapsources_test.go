package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/audit"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/ldapsource/ldaptest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/sourcesync"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/store/storetest"
)

const (
	ldapPeople = "ou=people," + ldaptest.BaseDN
	ldapGroups = "ou=groups," + ldaptest.BaseDN
)

// ldapPerson is a user entry changed at second i of 2025: seeded entries
// each have their own second, as entries changed over time do, so that the
// mark's own second (read again by an incremental read) holds one entry.
func ldapPerson(uid string, i int) string {
	return fmt.Sprintf("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\ngivenName: %s\nsn: Before\nmail: %s@corp.example\nmodifyTimestamp: 20250101000%03dZ\n\n",
		uid, ldapPeople, uid, uid, uid, uid, i+1)
}

func ldapGroup(cn string, members ...string) string {
	s := fmt.Sprintf("dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\nmodifyTimestamp: 20250101000000Z\n", cn, ldapGroups, cn)
	for _, m := range members {
		if strings.HasPrefix(m, "@") {
			s += "member: cn=" + m[1:] + "," + ldapGroups + "\n"
		} else {
			s += "member: uid=" + m + "," + ldapPeople + "\n"
		}
	}
	return s + "\n"
}

// ldapWorld is a real slapd, reached through a proxy that can cut the
// connection mid-read, a Roster over a real store, and the Dropbox emulator
// with an app whose directory group "eng" is assigned.
type ldapWorld struct {
	t     *testing.T
	slapd *ldaptest.Server
	proxy *cutProxy
	st    *sqlstore.DB
	svc   *service.Service
	emu   *emu.Server
	eng   *engine.Engine
	admin *ldap.Conn
}

var users12 = []string{"ann", "bob", "cid", "dan", "eve", "fay", "gus", "hal", "ida", "jon", "kim", "lea"}

func newLDAPWorld(t *testing.T, open func(testing.TB) *sqlstore.DB) *ldapWorld {
	seed := ""
	for i, u := range users12 {
		seed += ldapPerson(u, i)
	}
	// staff (the scope) > eng > platform > eng: a cycle; staff also holds
	// everyone but lea, who is outside the scope.
	seed += ldapGroup("eng", "ann", "@platform") + ldapGroup("platform", "bob", "cid", "@eng") +
		ldapGroup("staff", append([]string{"@eng"}, users12[3:11]...)...)
	// A size limit of 4 with pages of 4: 12 users are read past it.
	s := ldaptest.StartT(t, ldaptest.Options{SizeLimit: 4, Seed: seed})
	w := &ldapWorld{t: t, slapd: s, proxy: startCutProxy(t, s.Addr)}
	w.admin = s.AdminT(t)
	e, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	w.emu = e
	w.st = open(t)
	key := make([]byte, 32)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	a := app.Instance{Name: "dbx", Kind: app.KindDropbox, BaseURL: base, Settings: app.DefaultSettings()}
	a.Settings.Provisioning = true
	if err := w.st.CreateApp(context.Background(), by, &a); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		return dropbox.New(dropbox.Options{BaseURL: a.BaseURL, Token: "tok", Pacer: p, PollInterval: time.Millisecond}), nil
	}
	w.eng = engine.New(w.st, connect, slog.New(slog.NewTextHandler(io.Discard, nil)), engine.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	w.svc = service.New(w.st, box, service.Options{Engine: w.eng})
	cfg := map[string]any{"url": "ldap://" + w.proxy.addr, "bind_dn": ldaptest.BindDN, "base_dn": ldaptest.BaseDN,
		"scope_group": "cn=staff," + ldapGroups, "start_tls": true, "ca": string(s.CA), "preset": "openldap",
		"disabled_filter": "(employeeType=disabled)", "page_size": 4}
	raw, _ := json.Marshal(cfg)
	// The certificate names 127.0.0.1, which the proxy's address is too.
	if _, _, err := w.svc.AddSource(context.Background(), by, service.NewSource{Kind: store.SourceLDAP, Name: "corp", Config: raw, Secret: ldaptest.BindPassword}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *ldapWorld) sync(opt service.SyncOptions) service.SourceSync {
	w.t.Helper()
	res, err := w.svc.SyncSource(context.Background(), by, "corp", opt)
	if err != nil {
		w.t.Fatalf("sync: %v", err)
	}
	return res
}

// engine runs the provisioning engine until its queue is empty.
func (w *ldapWorld) engine() {
	w.t.Helper()
	a, err := w.st.GetApp(context.Background(), "dbx")
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.eng.Sync(context.Background(), a, engine.SyncOptions{AllowDeletes: true}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ldapWorld) modify(dn string, edit func(*ldap.ModifyRequest)) {
	w.t.Helper()
	m := ldap.NewModifyRequest(dn, nil)
	edit(m)
	if err := w.admin.Modify(m); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ldapWorld) user(name string) directory.User {
	w.t.Helper()
	u, err := w.st.GetUser(context.Background(), name)
	if err != nil {
		w.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// member is the Dropbox member with the user's email, or a zero one.
func (w *ldapWorld) member(name string) emu.Member {
	for _, m := range w.emu.Team("acme").Snapshot().Members {
		if m.Email == name+"@corp.example" {
			return m
		}
	}
	return emu.Member{}
}

func (w *ldapWorld) groupMembers(group string) []string {
	w.t.Helper()
	us, err := w.st.ListUsers(context.Background(), store.UserFilter{Group: group})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, u := range us {
		out = append(out, u.Username)
	}
	return out
}

func (w *ldapWorld) ownedCount() int {
	w.t.Helper()
	n := 0
	for _, src := range must(w.svc.Sources(context.Background())) {
		n += src.Users
	}
	return n
}

func auditFilter(action string) audit.Filter { return audit.Filter{Action: action} }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestLDAPSourceLifecycleReachesDropbox(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			w := newLDAPWorld(t, b.Open)
			ctx := context.Background()

			// Plan first: nothing changes.
			res := w.sync(service.SyncOptions{Plan: true})
			if res.Plan.Counts[sourcesync.OpCreate] != 11 || w.ownedCount() != 0 {
				t.Fatalf("plan: %v, owned %d", res.Plan.Counts, w.ownedCount())
			}
			// Initial sync: 11 users in scope (lea is not), read in pages
			// past the size limit over StartTLS; nested groups resolved
			// through the cycle.
			res = w.sync(service.SyncOptions{})
			if !res.Full || res.Pages < 4 || res.Plan.Counts[sourcesync.OpCreate] != 11 || res.Plan.Counts[sourcesync.OpGroupCreate] != 3 {
				t.Fatalf("initial: full %v pages %d counts %v", res.Full, res.Pages, res.Plan.Counts)
			}
			if _, err := w.st.GetUser(ctx, "lea"); !errors.Is(err, directory.ErrNotFound) {
				t.Fatalf("lea is outside the scope group, got %v", err)
			}
			if got := strings.Join(w.groupMembers("eng"), ","); got != "ann,bob,cid" {
				t.Fatalf("eng members %s, want ann,bob,cid (platform nested, with a cycle)", got)
			}
			if u := w.user("ann"); u.Source != "corp" || u.Status != directory.StatusActive {
				t.Fatalf("ann %+v", u)
			}
			// eng (with platform's members, nested) goes to Dropbox, and dan
			// on his own.
			for _, a := range []directory.Assignment{{AppName: "dbx", GroupName: "eng"}, {AppName: "dbx", Username: "dan"}} {
				if err := w.svc.Assign(ctx, by, &a); err != nil {
					t.Fatal(err)
				}
			}
			w.engine()
			for _, n := range []string{"ann", "bob", "cid", "dan"} {
				if m := w.member(n); m.Status == "" || m.Surname != "Before" {
					t.Fatalf("Dropbox member %s: %+v", n, m)
				}
			}
			if m := w.member("eve"); m.Status != "" {
				t.Fatalf("eve is assigned nothing but has a Dropbox member %+v", m)
			}

			// Attribute change, read incrementally.
			w.modify("uid=ann,"+ldapPeople, func(m *ldap.ModifyRequest) { m.Replace("sn", []string{"After"}) })
			res = w.sync(service.SyncOptions{Incremental: true})
			if res.Full || res.Entries > 3 || w.user("ann").LastName != "After" {
				t.Fatalf("incremental: full %v entries %d ann %+v", res.Full, res.Entries, w.user("ann"))
			}
			w.engine()
			if m := w.member("ann"); m.Surname != "After" {
				t.Fatalf("Dropbox ann surname %q", m.Surname)
			}

			// Disable and re-enable.
			w.modify("uid=bob,"+ldapPeople, func(m *ldap.ModifyRequest) { m.Replace("employeeType", []string{"disabled"}) })
			w.sync(service.SyncOptions{Incremental: true})
			if w.user("bob").Status != directory.StatusDeprovisioned {
				t.Fatalf("bob %s after disable", w.user("bob").Status)
			}
			w.engine()
			if m := w.member("bob"); m.Status != "removed" {
				t.Fatalf("Dropbox bob %q after disable, want removed (the app's deactivation type)", m.Status)
			}
			w.modify("uid=bob,"+ldapPeople, func(m *ldap.ModifyRequest) { m.Delete("employeeType", nil) })
			w.sync(service.SyncOptions{Incremental: true})
			if w.user("bob").Status != directory.StatusActive {
				t.Fatalf("bob %s after re-enable", w.user("bob").Status)
			}
			w.engine()
			if m := w.member("bob"); m.Status == "removed" || m.Status == "" {
				t.Fatalf("Dropbox bob %q after re-enable", m.Status)
			}

			// Deletion and leaving the scope group: a full read notices both.
			if err := w.admin.Del(ldap.NewDelRequest("uid=cid,"+ldapPeople, nil)); err != nil {
				t.Fatal(err)
			}
			w.modify("cn=staff,"+ldapGroups, func(m *ldap.ModifyRequest) { m.Delete("member", []string{"uid=dan," + ldapPeople}) })
			res = w.sync(service.SyncOptions{})
			if res.Plan.Counts[sourcesync.OpGone] != 2 || w.user("cid").Status != directory.StatusDeprovisioned || w.user("dan").Status != directory.StatusDeprovisioned {
				t.Fatalf("full after delete: %v; cid %s dan %s", res.Plan.Counts, w.user("cid").Status, w.user("dan").Status)
			}
			w.engine()
			if m := w.member("cid"); m.Status != "removed" {
				t.Fatalf("Dropbox cid %q after deletion", m.Status)
			}
			if m := w.member("dan"); m.Status != "removed" {
				t.Fatalf("Dropbox dan %q after leaving the scope group", m.Status)
			}

			// Renames: ann's uid and platform's cn change (with the member
			// DNs that name them, as the refint overlay or AD would); their
			// entry UUIDs do not, so they are renamed, not replaced.
			annID, annMember := w.user("ann").ID, w.member("ann").ID
			for _, r := range []struct{ dn, rdn string }{{"uid=ann," + ldapPeople, "uid=anna"}, {"cn=platform," + ldapGroups, "cn=platform-team"}} {
				if err := w.admin.ModifyDN(ldap.NewModifyDNRequest(r.dn, r.rdn, true, "")); err != nil {
					t.Fatal(err)
				}
			}
			w.modify("cn=eng,"+ldapGroups, func(m *ldap.ModifyRequest) {
				m.Delete("member", []string{"uid=ann," + ldapPeople, "cn=platform," + ldapGroups})
				m.Add("member", []string{"uid=anna," + ldapPeople, "cn=platform-team," + ldapGroups})
			})
			w.modify("cn=platform-team,"+ldapGroups, func(m *ldap.ModifyRequest) {
				m.Replace("member", []string{"uid=bob," + ldapPeople, "cn=eng," + ldapGroups})
			})
			res = w.sync(service.SyncOptions{Incremental: true})
			if !res.Escalated || res.Plan.Counts[sourcesync.OpGone] != 0 || res.Plan.Counts[sourcesync.OpGroupRename] != 1 || w.user("anna").ID != annID {
				t.Fatalf("renames: escalated %v counts %v", res.Escalated, res.Plan.Counts)
			}
			if got := strings.Join(w.groupMembers("platform-team"), ","); got != "anna,bob" {
				t.Fatalf("platform-team members %s", got)
			}
			w.engine()
			if m := w.member("ann"); m.ID != annMember || m.Status == "removed" {
				t.Fatalf("Dropbox ann after the rename: %+v", m)
			}

			// Failures apply nothing: a change waits in LDAP while the
			// reads fail.
			w.modify("uid=anna,"+ldapPeople, func(m *ldap.ModifyRequest) { m.Replace("sn", []string{"Pending"}) })
			wrong := "not-the-password"
			if _, err := w.svc.UpdateSource(ctx, by, "corp", service.SourceUpdate{Secret: &wrong}); err != nil {
				t.Fatal(err)
			}
			_, err := w.svc.SyncSource(ctx, by, "corp", service.SyncOptions{})
			if err == nil || !strings.Contains(err.Error(), "wrong DN or password") || !strings.Contains(err.Error(), "nothing was applied") || strings.Contains(err.Error(), wrong) {
				t.Fatalf("wrong password: %v", err)
			}
			right := ldaptest.BindPassword
			if _, err := w.svc.UpdateSource(ctx, by, "corp", service.SourceUpdate{Secret: &right}); err != nil {
				t.Fatal(err)
			}
			if src := must(w.svc.Source(ctx, "corp")); src.LastError == "" || src.Errors == 0 {
				t.Fatalf("the failure is not on the source: %+v", src)
			}

			// The server killed mid-read: the proxy kills slapd once some
			// of the answer has passed.
			w.proxy.killAfter(1<<40, nil)
			w.sync(service.SyncOptions{Plan: true})
			whole := w.proxy.seen.Load()
			w.proxy.killAfter(whole/2, w.slapd.Kill)
			_, err = w.svc.SyncSource(ctx, by, "corp", service.SyncOptions{})
			if err == nil || !strings.Contains(err.Error(), "nothing was applied") || !strings.Contains(err.Error(), "search") {
				t.Fatalf("killed mid-read: %v, want a failed search", err)
			}
			t.Logf("killed after %d of %d bytes: %v", w.proxy.seen.Load(), whole, err)
			if w.user("anna").LastName != "After" || w.user("eve").Status != directory.StatusActive {
				t.Fatalf("a failed read changed the directory: anna %+v", w.user("anna"))
			}
			w.engine()
			if m := w.member("ann"); m.Surname != "After" || m.Status == "removed" {
				t.Fatalf("Dropbox ann after the failed reads: %+v", m)
			}
		})
	}
}

func TestLDAPEmptyReadIsHeldByTheGuard(t *testing.T) {
	w := newLDAPWorld(t, storetest.OpenSQLite)
	ctx := context.Background()
	w.sync(service.SyncOptions{})
	if err := w.svc.Assign(ctx, by, &directory.Assignment{AppName: "dbx", GroupName: "staff"}); err != nil {
		t.Fatal(err)
	}
	w.engine()
	// A wrong user filter: the read succeeds and finds nobody.
	raw := must(w.svc.Source(ctx, "corp")).Config
	var cfg map[string]any
	_ = json.Unmarshal(raw, &cfg)
	cfg["user_filter"] = "(uid=nobody-matches)"
	raw, _ = json.Marshal(cfg)
	if _, err := w.svc.UpdateSource(ctx, by, "corp", service.SourceUpdate{Config: raw}); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.SyncSource(ctx, by, "corp", service.SyncOptions{})
	var held *service.HeldError
	if !errors.As(err, &held) || !errors.Is(err, directory.ErrConflict) || held.Sync.Plan.Deactivations != 11 || held.Sync.Plan.Limit != 5 {
		t.Fatalf("empty read: %v", err)
	}
	if !strings.Contains(err.Error(), "--allow-deletes") || w.user("ann").Status != directory.StatusActive {
		t.Fatalf("held: %v; ann %s", err, w.user("ann").Status)
	}
	w.engine()
	if m := w.member("ann"); m.Status == "removed" {
		t.Fatal("Dropbox ann removed after a held read")
	}
	log, err := w.st.ListLog(ctx, auditFilter("source.sync.held"))
	if err != nil || len(log) != 1 {
		t.Fatalf("held sync in the log: %v %v", log, err)
	}
	// The admin meant it.
	res := w.sync(service.SyncOptions{AllowDeletes: true})
	if res.Applied < 11 || w.user("ann").Status != directory.StatusDeprovisioned {
		t.Fatalf("allow-deletes: applied %d, ann %s", res.Applied, w.user("ann").Status)
	}
}

// cutProxy forwards TCP to slapd and can run a function once a number of
// bytes of answers have passed: to kill the server in the middle of a read.
type cutProxy struct {
	addr  string
	to    string
	mu    sync.Mutex
	limit int64
	fn    func()
	seen  atomic.Int64
}

func startCutProxy(t *testing.T, to string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &cutProxy{addr: l.Addr().String(), to: to}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) killAfter(n int64, fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen.Store(0)
	p.limit, p.fn = n, fn
}

func (p *cutProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.to)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	buf := make([]byte, 512)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			seen := p.seen.Add(int64(n))
			p.mu.Lock()
			if p.fn != nil && seen >= p.limit {
				fn := p.fn
				p.fn = nil
				p.mu.Unlock()
				fn()
				continue
			}
			p.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func adEntry(sam string, i, uac, usn int) string {
	guid := make([]byte, 16)
	guid[0], guid[15] = byte(i), 0xad
	return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: user\ncn: %s\nsn: %s\ngivenName: %s\nmail: %s@corp.example\nsAMAccountName: %s\nuserAccountControl: %d\nuSNChanged: %d\nobjectGUID:: %s\n\n",
		sam, ldapPeople, sam, sam, sam, sam, sam, uac, usn, base64.StdEncoding.EncodeToString(guid))
}

// AD's dialect, from entries of the test schema in slapd: objectGUID,
// sAMAccountName, userAccountControl and uSNChanged; an API user of the same
// name is a conflict until the source may adopt; the schedule reads
// incrementally.
func TestADSourceDisablesByUserAccountControlAndAdopts(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			seed := adEntry("alice", 1, 512, 10) + adEntry("bert", 2, 512, 11) + adEntry("carla", 3, 66048, 12) + adEntry("admin", 4, 512, 13)
			s := ldaptest.StartT(t, ldaptest.Options{Seed: seed})
			st := b.Open(t)
			box, _ := secret.New(make([]byte, 32))
			svc := service.New(st, box, service.Options{})
			ctx := context.Background()
			local := directory.User{Username: "admin", Email: "admin@corp.example", FirstName: "A", LastName: "Dmin"}
			if err := svc.CreateUser(ctx, by, &local); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(map[string]any{"url": s.URL, "bind_dn": ldaptest.BindDN, "base_dn": ldaptest.BaseDN, "preset": "ad", "every": "1m"})
			if _, _, err := svc.AddSource(ctx, by, service.NewSource{Kind: store.SourceLDAP, Name: "ad", Config: raw, Secret: ldaptest.BindPassword}); err != nil {
				t.Fatal(err)
			}
			res, err := svc.SyncSource(ctx, by, "ad", service.SyncOptions{})
			if err != nil || res.Plan.Counts[sourcesync.OpCreate] != 3 || res.Plan.Counts[sourcesync.OpConflict] != 1 || res.HighWater != "13" {
				t.Fatalf("first sync: %+v %v", res.Plan, err)
			}
			if u, _ := st.GetUser(ctx, "admin"); u.Source != directory.SourceAPI {
				t.Fatalf("the API's admin passed to the source without adopt: %+v", u)
			}
			u, _ := st.GetUser(ctx, "alice")
			if u.ExternalKey != "00000001-0000-0000-0000-0000000000ad" || u.Source != "ad" {
				t.Fatalf("alice %+v: want objectGUID as the external key", u)
			}
			// Disable bert in AD (ACCOUNTDISABLE) and let the schedule run:
			// it reads incrementally since the last full read is recent.
			admin := s.AdminT(t)
			m := ldap.NewModifyRequest("cn=bert,"+ldapPeople, nil)
			m.Replace("userAccountControl", []string{"514"})
			m.Replace("uSNChanged", []string{"14"})
			if err := admin.Modify(m); err != nil {
				t.Fatal(err)
			}
			sctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				svc.RunSourceSchedule(sctx, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
				close(done)
			}()
			// The first sync was a run: the schedule waits for "every" after it.
			time.Sleep(100 * time.Millisecond)
			if u, _ := st.GetUser(ctx, "bert"); u.Status != directory.StatusActive {
				t.Fatalf("the schedule ran before its interval: bert %s", u.Status)
			}
			cancel()
			<-done
			now := time.Now().Add(2 * time.Minute)
			svc = service.New(st, box, service.Options{Now: func() time.Time { return now }})
			sctx, cancel = context.WithCancel(ctx)
			done = make(chan struct{})
			go func() {
				svc.RunSourceSchedule(sctx, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
				close(done)
			}()
			deadline := time.Now().Add(10 * time.Second)
			for {
				if u, _ := st.GetUser(ctx, "bert"); u.Status == directory.StatusDeprovisioned {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the schedule did not deactivate bert")
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			<-done
			// Adopt: the API's admin becomes the source's.
			adopt := true
			if _, err := svc.UpdateSource(ctx, by, "ad", service.SourceUpdate{Adopt: &adopt}); err != nil {
				t.Fatal(err)
			}
			res, err = svc.SyncSource(ctx, by, "ad", service.SyncOptions{})
			if err != nil || res.Plan.Counts[sourcesync.OpAdopt] != 1 {
				t.Fatalf("adopt: %+v %v", res.Plan, err)
			}
			if u, _ := st.GetUser(ctx, "admin"); u.Source != "ad" || u.LastName != "admin" {
				t.Fatalf("admin after adopt: %+v", u)
			}
		})
	}
}
