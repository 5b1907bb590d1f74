package ldaptest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// StartT starts a server for a test and stops it when the test ends. Without
// slapd the test is skipped, except in CI (CI=true), where it fails: CI
// installs slapd, so a missing one is a broken run, not a pass.
func StartT(t testing.TB, opt Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), t.TempDir(), opt)
	if errors.Is(err, ErrNoSlapd) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}

// AdminT is Admin for a test.
func (s *Server) AdminT(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := s.Admin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
