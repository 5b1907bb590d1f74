// Package ldaptest runs a real OpenLDAP server (Debian's slapd) for tests and
// benchmarks: in a temporary folder, on a free port, with a generated
// slapd.conf, a generated CA and server certificate for StartTLS, and a seed
// LDIF loaded with slapadd before it starts. No system service is touched.
//
// Besides OpenLDAP's own schemas (core, cosine, inetorgperson, nis) it loads
// a small test schema with Active Directory's attributes (sAMAccountName,
// userPrincipalName, userAccountControl, uSNChanged, objectGUID) and its
// "user", "computer" and "group" classes, so that AD's dialect is read from real entries.
package ldaptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Fixed names of the test directory.
const (
	BaseDN       = "dc=example,dc=org"
	AdminDN      = "cn=admin," + BaseDN // the rootdn: no limits, for seeding and changes
	AdminPass    = "admin-secret"
	BindDN       = "cn=roster," + BaseDN // what Roster binds as: size limits apply
	BindPassword = "roster-secret"
)

// ADSchema is the test schema for Active Directory's attributes. The OIDs are
// under a private test arc; the names and syntaxes are AD's.
const ADSchema = `
attributetype ( 1.3.6.1.4.1.99999.1.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.2 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.3 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.4 NAME 'uSNChanged' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.5 NAME 'objectGUID' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.99999.2.1 NAME 'user' SUP inetOrgPerson STRUCTURAL MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ uSNChanged $ objectGUID ) )
objectclass ( 1.3.6.1.4.1.99999.2.3 NAME 'computer' SUP user STRUCTURAL )
objectclass ( 1.3.6.1.4.1.99999.2.2 NAME 'group' SUP top STRUCTURAL MUST cn MAY ( member $ sAMAccountName $ uSNChanged $ objectGUID $ description ) )
`

// Options shape the server.
type Options struct {
	// SizeLimit is the most entries one search (or one page) returns to
	// BindDN; paged searches may go past it in total. 0: 500.
	SizeLimit int
	// Seed is LDIF loaded after the base entries (the suffix, ou=people,
	// ou=groups and BindDN).
	Seed string
	// SeedFile is an LDIF file loaded like Seed, for large seeds.
	SeedFile string
}

// Server is a running slapd.
type Server struct {
	URL    string // ldap://127.0.0.1:PORT
	Addr   string
	CAFile string // PEM of the CA that signed the server's certificate
	CA     []byte
	Dir    string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  bytes.Buffer
}

// ErrNoSlapd says that slapd is not installed.
var ErrNoSlapd = errors.New("slapd is not installed (apt-get install slapd ldap-utils)")

// Binaries finds slapd and slapadd.
func Binaries() (slapd, slapadd string, err error) {
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/libexec"} {
		s, a := filepath.Join(dir, "slapd"), filepath.Join(dir, "slapadd")
		if isExec(s) && isExec(a) {
			return s, a, nil
		}
	}
	s, err1 := exec.LookPath("slapd")
	a, err2 := exec.LookPath("slapadd")
	if err1 != nil || err2 != nil {
		return "", "", ErrNoSlapd
	}
	return s, a, nil
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

// Start seeds and starts a server in dir (which must be empty or absent).
func Start(ctx context.Context, dir string, opt Options) (*Server, error) {
	slapd, slapadd, err := Binaries()
	if err != nil {
		return nil, err
	}
	if opt.SizeLimit <= 0 {
		opt.SizeLimit = 500
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, CAFile: filepath.Join(dir, "ca.pem")}
	if s.CA, err = writeCerts(dir); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(filepath.Join(dir, "ad.schema"), []byte(ADSchema), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, []byte(config(dir, opt.SizeLimit)), 0o600); err != nil {
		return nil, err
	}
	seeds := []string{filepath.Join(dir, "base.ldif")}
	if err := os.WriteFile(seeds[0], []byte(baseLDIF+"\n"+opt.Seed), 0o600); err != nil {
		return nil, err
	}
	if opt.SeedFile != "" {
		seeds = append(seeds, opt.SeedFile)
	}
	for _, f := range seeds {
		// -q: no consistency checks, fast enough for 100,000 entries.
		if out, err := exec.CommandContext(ctx, slapadd, "-q", "-f", conf, "-l", f).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("slapadd %s: %w: %s", filepath.Base(f), err, out)
		}
	}
	for attempt := 0; ; attempt++ {
		err := s.start(ctx, slapd, conf)
		if err == nil {
			return s, nil
		}
		if attempt == 4 {
			return nil, err
		}
	}
}

// start runs slapd on a free port and waits until it answers.
func (s *Server) start(ctx context.Context, slapd, conf string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	s.URL = "ldap://" + s.Addr
	// -d 0 keeps slapd in the foreground, so it is our child and dies with
	// Kill; stderr carries its messages.
	cmd := exec.Command(slapd, "-f", conf, "-h", s.URL+"/", "-d", "0")
	s.log.Reset()
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.log}, &lockedWriter{mu: &s.mu, w: &s.log}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start slapd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("slapd exited: %s", s.Log())
		case <-ctx.Done():
			s.Kill()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := ldap.DialURL(s.URL); err == nil {
			c.Close()
			return nil
		}
	}
	s.Kill()
	return fmt.Errorf("slapd did not answer on %s: %s", s.URL, s.Log())
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Log is what slapd printed.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Kill stops the server at once (SIGKILL), as a crash would, and waits for it.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Admin connects and binds as the rootdn, to change entries.
func (s *Server) Admin() (*ldap.Conn, error) {
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		return nil, err
	}
	if err := c.Bind(AdminDN, AdminPass); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const baseLDIF = `dn: ` + BaseDN + `
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,` + BaseDN + `
objectClass: organizationalUnit
ou: people

dn: ou=groups,` + BaseDN + `
objectClass: organizationalUnit
ou: groups

dn: ` + BindDN + `
objectClass: person
cn: roster
sn: roster
userPassword: ` + BindPassword + `
`

// config is slapd.conf. The size limit applies per page of a paged search
// and not to its total (size.prtotal=unlimited), as AD's MaxPageSize does.
func config(dir string, sizeLimit int) string {
	schema := "/etc/ldap/schema"
	return strings.NewReplacer("DIR", dir, "SCHEMA", schema, "LIMIT", fmt.Sprint(sizeLimit)).Replace(`include SCHEMA/core.schema
include SCHEMA/cosine.schema
include SCHEMA/inetorgperson.schema
include SCHEMA/nis.schema
include DIR/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile DIR/slapd.pid
argsfile DIR/slapd.args
sizelimit size.soft=LIMIT size.hard=LIMIT size.pr=LIMIT size.prtotal=unlimited
TLSCACertificateFile DIR/ca.pem
TLSCertificateFile DIR/server.pem
TLSCertificateKeyFile DIR/server.key
database mdb
suffix "` + BaseDN + `"
rootdn "` + AdminDN + `"
rootpw ` + AdminPass + `
directory DIR/db
maxsize 4294967296
index objectClass eq
index uid,cn,mail eq
index member eq
index modifyTimestamp,uSNChanged eq
access to attrs=userPassword by anonymous auth by * none
access to * by * read
`)
}

// writeCerts makes a CA and a server certificate for 127.0.0.1 and
// localhost; it returns the CA's PEM.
func writeCerts(dir string) ([]byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Roster test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	files := map[string][]byte{
		"ca.pem":     caPEM,
		"server.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	return caPEM, nil
}
