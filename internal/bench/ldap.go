package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/roster-dev/roster/internal/ldapsource/ldaptest"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// LDAPResult is what `roster bench ldap` measures.
type LDAPResult struct {
	Users       int     `json:"users"`
	Groups      int     `json:"groups"`
	SeedSeconds float64 `json:"seed_seconds"` // slapadd and start, not counted

	// The full sync: read and apply into an empty directory.
	FullSeconds     float64 `json:"full_seconds"`
	FullReadSeconds float64 `json:"full_read_seconds"`
	FullEntries     int     `json:"full_entries_read"`
	FullPages       int     `json:"full_pages"`
	FullApplied     int     `json:"full_applied"`
	PeakHeapMiB     float64 `json:"peak_heap_mib"`

	// The incremental sync after Changes users changed in the directory.
	Changes        int     `json:"changes"`
	IncSeconds     float64 `json:"incremental_seconds"`
	IncReadSeconds float64 `json:"incremental_read_seconds"`
	IncEntries     int     `json:"incremental_entries_read"`
	IncApplied     int     `json:"incremental_applied"`
	IncFull        bool    `json:"incremental_was_full"`
}

// ldapGroupSize is how many users each benchmark group holds; a group
// "everyone" nests all of them.
const ldapGroupSize = 10_000

// LDAP measures an LDAP source against a real slapd (Debian's, started in a
// temporary folder): a full sync of users entries and groups of
// ldapGroupSize nested in one, then an incremental sync after changes users
// changed. The server serves at most 1,000 entries a page, as AD does.
func LDAP(ctx context.Context, open Open, users, changes int) (LDAPResult, error) {
	res := LDAPResult{Users: users, Changes: changes}
	dir, err := os.MkdirTemp("", "roster-bench-ldap-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	seed := filepath.Join(dir, "seed.ldif")
	if res.Groups, err = writeLDAPSeed(seed, users); err != nil {
		return res, err
	}
	srv, err := ldaptest.Start(ctx, filepath.Join(dir, "slapd"), ldaptest.Options{SizeLimit: 1000, SeedFile: seed})
	if err != nil {
		return res, err
	}
	defer srv.Kill()
	res.SeedSeconds = time.Since(start).Seconds()

	st, closeDB, err := open()
	if err != nil {
		return res, err
	}
	defer closeDB()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		return res, err
	}
	svc := service.New(st, box, service.Options{})
	cfg, _ := json.Marshal(map[string]any{"url": srv.URL, "bind_dn": ldaptest.BindDN, "base_dn": ldaptest.BaseDN, "page_size": 1000})
	if _, _, err := svc.AddSource(ctx, "bench", service.NewSource{Kind: store.SourceLDAP, Name: "bench", Config: cfg, Secret: ldaptest.BindPassword}); err != nil {
		return res, err
	}

	stop := HeapPeak()
	t0 := time.Now()
	full, err := svc.SyncSource(ctx, "bench", "bench", service.SyncOptions{})
	res.FullSeconds = time.Since(t0).Seconds()
	res.PeakHeapMiB = stop()
	if err != nil {
		return res, fmt.Errorf("full sync: %w", err)
	}
	res.FullReadSeconds, res.FullEntries, res.FullPages, res.FullApplied = float64(full.ReadMS)/1000, full.Entries, full.Pages, full.Applied

	if err := changeLDAPUsers(srv, users, changes); err != nil {
		return res, err
	}
	t0 = time.Now()
	inc, err := svc.SyncSource(ctx, "bench", "bench", service.SyncOptions{Incremental: true})
	res.IncSeconds = time.Since(t0).Seconds()
	if err != nil {
		return res, fmt.Errorf("incremental sync: %w", err)
	}
	res.IncReadSeconds, res.IncEntries, res.IncApplied, res.IncFull = float64(inc.ReadMS)/1000, inc.Entries, inc.Applied, inc.Full
	return res, nil
}

// writeLDAPSeed writes users entries, each changed at its own second of
// 2024 as a directory's entries are over time, and the groups (older).
func writeLDAPSeed(path string, users int) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range users {
		fmt.Fprintf(w, "dn: uid=u%06d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: u%06d\ncn: User %d\ngivenName: User\nsn: N%d\nmail: u%06d@corp.example\nmodifyTimestamp: %s\n\n",
			i, ldaptest.BaseDN, i, i, i, i, base.Add(time.Duration(i+1)*time.Second).Format("20060102150405Z"))
	}
	groups := (users + ldapGroupSize - 1) / ldapGroupSize
	old := base.Add(-time.Hour).Format("20060102150405Z")
	for g := range groups {
		fmt.Fprintf(w, "dn: cn=team-%d,ou=groups,%s\nobjectClass: groupOfNames\ncn: team-%d\nmodifyTimestamp: %s\n", g, ldaptest.BaseDN, g, old)
		for i := g * ldapGroupSize; i < min(users, (g+1)*ldapGroupSize); i++ {
			fmt.Fprintf(w, "member: uid=u%06d,ou=people,%s\n", i, ldaptest.BaseDN)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "dn: cn=everyone,ou=groups,%s\nobjectClass: groupOfNames\ncn: everyone\nmodifyTimestamp: %s\n", ldaptest.BaseDN, old)
	for g := range groups {
		fmt.Fprintf(w, "member: cn=team-%d,ou=groups,%s\n", g, ldaptest.BaseDN)
	}
	fmt.Fprintln(w)
	return groups + 1, w.Flush()
}

// changeLDAPUsers changes the surname of n users spread over the directory.
func changeLDAPUsers(srv *ldaptest.Server, users, n int) error {
	c, err := srv.Admin()
	if err != nil {
		return err
	}
	defer c.Close()
	for k := range n {
		i := k * (users / n)
		m := ldap.NewModifyRequest(fmt.Sprintf("uid=u%06d,ou=people,%s", i, ldaptest.BaseDN), nil)
		m.Replace("sn", []string{fmt.Sprintf("Changed%d", i)})
		if err := c.Modify(m); err != nil {
			return fmt.Errorf("change u%06d: %w", i, err)
		}
	}
	return nil
}
