package ldapsource

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/roster-dev/roster/internal/ldapsource/ldaptest"
)

const people, groups = "ou=people," + ldaptest.BaseDN, "ou=groups," + ldaptest.BaseDN

func personLDIF(uid string, extra ...string) string {
	s := fmt.Sprintf("dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\ngivenName: %s\nsn: Test\nmail: %s@example.org\n", uid, people, uid, uid, strings.ToUpper(uid[:1])+uid[1:], uid)
	for _, e := range extra {
		s += e + "\n"
	}
	return s + "\n"
}

func groupLDIF(cn string, members ...string) string {
	s := fmt.Sprintf("dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, groups, cn)
	for _, m := range members {
		s += "member: " + m + "\n"
	}
	return s + "\n"
}

func uidDN(u string) string { return "uid=" + u + "," + people }
func cnDN(g string) string  { return "cn=" + g + "," + groups }
func openldap(s *ldaptest.Server) Config {
	return Config{URL: s.URL, BindDN: ldaptest.BindDN, BaseDN: ldaptest.BaseDN, Preset: PresetOpenLDAP, PageSize: 3}
}

func usernames(us []User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Username)
	}
	slices.Sort(out)
	return out
}

func TestFullReadNestedGroupsWithACycleAndScopeAndDisabled(t *testing.T) {
	seed := personLDIF("ann") + personLDIF("bob") + personLDIF("cid", "employeeType: disabled") + personLDIF("dan") + personLDIF("eve") +
		// staff > eng > (ann, platform); platform > (bob, eng): a cycle.
		groupLDIF("eng", uidDN("ann"), cnDN("platform")) +
		groupLDIF("platform", uidDN("bob"), cnDN("eng")) +
		groupLDIF("staff", cnDN("eng"), uidDN("cid")) +
		groupLDIF("others", uidDN("dan"))
	s := ldaptest.StartT(t, ldaptest.Options{SizeLimit: 3, Seed: seed})
	cfg := openldap(s)
	cfg.DisabledFilter = "(employeeType=disabled)"
	snap, err := Read(context.Background(), cfg, ldaptest.BindPassword, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(snap.Users); !slices.Equal(got, []string{"ann", "bob", "cid", "dan", "eve"}) {
		t.Fatalf("users %v", got)
	}
	if snap.Pages < 3 || !snap.Full || snap.HighWater == "" {
		t.Fatalf("pages %d (want several past the size limit of 3), full %v, mark %q", snap.Pages, snap.Full, snap.HighWater)
	}
	byID := map[string]string{}
	for _, u := range snap.Users {
		byID[u.ID] = u.Username
		if (u.Username == "cid") != u.Disabled {
			t.Errorf("%s disabled = %v", u.Username, u.Disabled)
		}
		if len(u.ID) != 36 {
			t.Errorf("%s id %q", u.Username, u.ID)
		}
	}
	want := map[string][]string{"eng": {"ann", "bob"}, "platform": {"ann", "bob"}, "staff": {"ann", "bob", "cid"}, "others": {"dan"}}
	for _, g := range snap.Groups {
		var names []string
		for _, id := range g.Members {
			names = append(names, byID[id])
		}
		slices.Sort(names)
		if !slices.Equal(names, want[g.Name]) {
			t.Errorf("group %s members %v, want %v", g.Name, names, want[g.Name])
		}
	}

	cfg.ScopeGroup = cnDN("staff")
	snap, err = Read(context.Background(), cfg, ldaptest.BindPassword, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(snap.Users); !slices.Equal(got, []string{"ann", "bob", "cid"}) {
		t.Fatalf("users in scope %v", got)
	}
	for _, g := range snap.Groups {
		if g.Name == "others" && len(g.Members) != 0 {
			t.Errorf("others keeps %v, out of scope", g.Members)
		}
	}
	cfg.ScopeGroup = cnDN("nosuch")
	if _, err := Read(context.Background(), cfg, ldaptest.BindPassword, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing scope group: %v", err)
	}
}

func TestReadFailuresApplyNothing(t *testing.T) {
	seed := ""
	for i := range 20 {
		seed += personLDIF(fmt.Sprintf("u%02d", i))
	}
	s := ldaptest.StartT(t, ldaptest.Options{SizeLimit: 5, Seed: seed})
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(*Config) string
		opt  ReadOptions
		want string
	}{
		{"wrong password", func(*Config) string { return "nope" }, ReadOptions{}, "wrong DN or password"},
		{"page larger than the server allows", func(c *Config) string { c.PageSize = 50; return ldaptest.BindPassword }, ReadOptions{}, "search"},
		{"StartTLS without the CA", func(c *Config) string { c.StartTLS = true; return ldaptest.BindPassword }, ReadOptions{}, "StartTLS"},
		{"bad filter", func(c *Config) string { c.UserFilter = "(uid=*"; return ldaptest.BindPassword }, ReadOptions{}, "user_filter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := openldap(s)
			pw := tc.edit(&cfg)
			snap, err := Read(ctx, cfg, pw, tc.opt)
			if err == nil || snap != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error naming %q and no snapshot", snap, err, tc.want)
			}
		})
	}
	t.Run("a referral", func(t *testing.T) {
		admin := s.AdminT(t)
		add := ldap.NewAddRequest("ou=elsewhere,"+people, nil)
		add.Attribute("objectClass", []string{"referral", "extensibleObject"})
		add.Attribute("ou", []string{"elsewhere"})
		add.Attribute("ref", []string{"ldap://other.example/ou=elsewhere,dc=example,dc=org"})
		if err := admin.Add(add); err != nil {
			t.Fatal(err)
		}
		defer func() {
			del := ldap.NewDelRequest("ou=elsewhere,"+people, []ldap.Control{ldap.NewControlManageDsaIT(true)})
			if err := admin.Del(del); err != nil {
				t.Error(err)
			}
		}()
		snap, err := Read(ctx, openldap(s), ldaptest.BindPassword, ReadOptions{})
		if err == nil || snap != nil || !strings.Contains(err.Error(), "referred to ldap://other.example") {
			t.Fatalf("got %v, %v; want the referral named and no snapshot", snap, err)
		}
	})
	t.Run("a server that does not answer", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close() // held open, never answered
			}
		}()
		cfg := openldap(s)
		cfg.URL = "ldap://" + l.Addr().String()
		start := time.Now()
		snap, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{Timeout: 300 * time.Millisecond})
		if err == nil || snap != nil || time.Since(start) > 5*time.Second {
			t.Fatalf("got %v, %v after %v; want a timeout", snap, err, time.Since(start))
		}
	})
	t.Run("StartTLS with the generated CA", func(t *testing.T) {
		cfg := openldap(s)
		cfg.StartTLS, cfg.CA = true, string(s.CA)
		snap, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{})
		if err != nil || len(snap.Users) != 20 {
			t.Fatalf("%v", err)
		}
	})
	t.Run("server killed mid-read", func(t *testing.T) {
		cfg := openldap(s)
		snap, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{Timeout: 5 * time.Second, OnPage: func(n int) {
			if n >= 3 {
				s.Kill()
			}
		}})
		if err == nil || snap != nil {
			t.Fatalf("got %v, %v; want an error and no snapshot", snap, err)
		}
	})
}

func guid(i int) []byte {
	b := make([]byte, 16)
	b[0], b[15] = byte(i), 0xaa
	return b
}

func adUser(sam string, i, uac, usn int) string {
	return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: user\ncn: %s\nsn: %s\ngivenName: %s\nmail: %s@corp.example\nsAMAccountName: %s\nuserPrincipalName: %s@corp.example\nuserAccountControl: %d\nuSNChanged: %d\nobjectGUID:: %s\n\n",
		sam, people, sam, sam, sam, sam, sam, sam, uac, usn, base64.StdEncoding.EncodeToString(guid(i)))
}

func TestADDialectFromSchemaLoadedEntries(t *testing.T) {
	seed := adUser("alice", 1, 512, 100) + adUser("bert", 2, 514, 101) + adUser("carl", 3, 66048, 102) +
		fmt.Sprintf("dn: cn=Sales,%s\nobjectClass: group\ncn: Sales\nmember: cn=alice,%s\nmember: cn=bert,%s\nuSNChanged: 103\nobjectGUID:: %s\n\n",
			groups, people, people, base64.StdEncoding.EncodeToString(guid(9)))
	s := ldaptest.StartT(t, ldaptest.Options{Seed: seed})
	cfg := Config{URL: s.URL, BindDN: ldaptest.BindDN, BaseDN: ldaptest.BaseDN, Preset: PresetAD}
	ctx := context.Background()
	snap, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(snap.Users); !slices.Equal(got, []string{"alice", "bert", "carl"}) {
		t.Fatalf("users %v", got)
	}
	for _, u := range snap.Users {
		// 514 = NORMAL_ACCOUNT|ACCOUNTDISABLE; 66048 = NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD.
		if (u.Username == "bert") != u.Disabled {
			t.Errorf("%s disabled %v", u.Username, u.Disabled)
		}
	}
	// objectGUID 01000000-0000-0000-0000-0000000000aa in AD's byte order.
	if snap.Users[0].ID != "00000001-0000-0000-0000-0000000000aa" || snap.HighWater != "103" {
		t.Fatalf("id %q mark %q", snap.Users[0].ID, snap.HighWater)
	}
	if len(snap.Groups) != 1 || len(snap.Groups[0].Members) != 2 {
		t.Fatalf("groups %+v", snap.Groups)
	}
	admin := s.AdminT(t)
	mod := ldap.NewModifyRequest("cn=carl,"+people, nil)
	mod.Replace("userAccountControl", []string{"514"})
	mod.Replace("uSNChanged", []string{"104"})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	inc, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{Since: snap.HighWater})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Full || len(inc.Users) != 1 || !inc.Users[0].Disabled || inc.HighWater != "104" || inc.Entries != 1 {
		t.Fatalf("incremental: full %v users %+v mark %q entries %d; want carl alone, disabled, mark 104", inc.Full, inc.Users, inc.HighWater, inc.Entries)
	}
}

func TestIncrementalOpenLDAPReadsChangesAndEscalatesOnGroups(t *testing.T) {
	// The group changed before the users: a group in the mark's own second
	// counts as changed (see groupsChangedSince).
	seed := personLDIF("ann", "modifyTimestamp: 20250101000001Z") + personLDIF("bob", "modifyTimestamp: 20250101000002Z") +
		strings.TrimSuffix(groupLDIF("eng", uidDN("ann")), "\n") + "modifyTimestamp: 20250101000000Z\n\n"
	s := ldaptest.StartT(t, ldaptest.Options{Seed: seed})
	cfg := openldap(s)
	ctx := context.Background()
	snap, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := s.AdminT(t)
	mod := ldap.NewModifyRequest(uidDN("bob"), nil)
	mod.Replace("sn", []string{"Changed"})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	inc, err := Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{Since: snap.HighWater})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Full || len(inc.Users) != 1 || inc.Users[0].LastName != "Changed" {
		t.Fatalf("incremental: %+v", inc)
	}
	mod = ldap.NewModifyRequest(cnDN("eng"), nil)
	mod.Add("member", []string{uidDN("bob")})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	inc, err = Read(ctx, cfg, ldaptest.BindPassword, ReadOptions{Since: inc.HighWater})
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Full || !inc.Escalated || len(inc.Users) != 2 || len(inc.Groups[0].Members) != 2 {
		t.Fatalf("after a group change: %+v", inc)
	}
}

// Ranged retrieval is AD's alone (slapd cannot store "member;range=1500-*"),
// so these entries follow MS-ADTS 3.1.1.3.1.3.3's documented answers.
func TestRangedMembersFollowADsFormat(t *testing.T) {
	first := ldap.NewEntry("cn=big", map[string][]string{"member;range=0-1": {"a", "b"}})
	cases := []struct {
		name    string
		answers map[string]*ldap.Entry
		want    []string
		err     string
	}{
		{"two more ranges", map[string]*ldap.Entry{
			"member;range=2-*": ldap.NewEntry("cn=big", map[string][]string{"member;range=2-3": {"c", "d"}}),
			"member;range=4-*": ldap.NewEntry("cn=big", map[string][]string{"member;range=4-*": {"e"}}),
		}, []string{"a", "b", "c", "d", "e"}, ""},
		{"last range at once", map[string]*ldap.Entry{
			"member;range=2-*": ldap.NewEntry("cn=big", map[string][]string{"member;range=2-*": {"c"}}),
		}, []string{"a", "b", "c"}, ""},
		{"no range answered", map[string]*ldap.Entry{
			"member;range=2-*": ldap.NewEntry("cn=big", map[string][]string{}),
		}, nil, "no member range"},
		{"ranges that do not advance", map[string]*ldap.Entry{
			"member;range=2-*": ldap.NewEntry("cn=big", map[string][]string{"member;range=0-1": {"a", "b"}}),
		}, nil, "do not advance"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rangedValues(first, "member", func(desc string) (*ldap.Entry, error) {
				e, ok := tc.answers[desc]
				if !ok {
					return nil, fmt.Errorf("unexpected request %q", desc)
				}
				return e, nil
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("%v %v, want %v", got, err, tc.want)
			}
		})
	}
	plain := ldap.NewEntry("cn=small", map[string][]string{"member": {"x"}})
	if got, err := rangedValues(plain, "member", nil); err != nil || !slices.Equal(got, []string{"x"}) {
		t.Fatalf("plain: %v %v", got, err)
	}
}
