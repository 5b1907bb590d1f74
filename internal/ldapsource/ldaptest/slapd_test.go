package ldaptest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestServerPagesPastItsSizeLimitAndSpeaksStartTLS(t *testing.T) {
	seed := ""
	for _, u := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		seed += "dn: uid=" + u + ",ou=people," + BaseDN + "\nobjectClass: inetOrgPerson\nuid: " + u + "\ncn: " + u + "\nsn: " + u + "\n\n"
	}
	s := StartT(t, Options{SizeLimit: 3, Seed: seed})
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CA)
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("StartTLS: %v\n%s", err, s.Log())
	}
	if err := c.Bind(BindDN, BindPassword); err != nil {
		t.Fatal(err)
	}
	req := ldap.NewSearchRequest("ou=people,"+BaseDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false, "(uid=*)", []string{"uid"}, nil)
	if _, err := c.Search(req); !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("unpaged search past the limit: %v, want size limit exceeded", err)
	}
	res, err := c.SearchWithPaging(req, 3)
	if err != nil || len(res.Entries) != 7 {
		t.Fatalf("paged search: %d entries, %v; want 7", len(res.Entries), err)
	}
	s.Kill()
	if _, err := c.SearchWithPaging(req, 3); err == nil {
		t.Fatal("search after Kill succeeded")
	}
}
