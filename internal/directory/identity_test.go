package directory

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAttributeNames(t *testing.T) {
	const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	long := enterprise + strings.Repeat("a", 256-len(enterprise)) // 256 characters
	cases := []struct {
		name string
		ok   bool
	}{
		{"department", true},
		{"cost_center2", true},
		{strings.Repeat("a", 64), true},
		{enterprise + "department", true},
		{enterprise + "manager.value", true},
		{"URN:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", true},
		{"urn:okta:custom-app:1.0:user:cost-center", true},
		{long[:255], true},

		{"a-b", false}, // a plain name keeps the old rule
		{"9lives", false},
		{strings.Repeat("a", 65), false},
		{"a.b", false},
		{"a:b", false},
		{long, false},
		{"urn:", false},
		{"urn:ietf", false},
		{enterprise, false},                        // no attribute after the schema
		{enterprise + "9department", false},        // SCIM attribute names start with a letter
		{enterprise + "department.", false},        // an empty sub-attribute
		{enterprise + "department.value.x", false}, // SCIM nests one level only
		{"urn:-x:y", false},                        // a namespace starts with a letter or digit
		{"urn:ietf:params scim:department", false},
		{"urn:ietf:params:\x00:department", false},
		{"urn:ietf:params:scim:dépt", false},
		{"urn:ietf:params/scim:department", false},
	}
	for _, c := range cases {
		u := User{Username: "a", Email: "a@example.com", Status: StatusActive, Attributes: map[string]string{c.name: "v"}}
		err := u.Validate()
		if c.ok && err != nil {
			t.Errorf("%q refused: %v", c.name, err)
		}
		if !c.ok && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "attribute name")) {
			t.Errorf("%q: err = %v, want an attribute name error", c.name, err)
		}
	}
}

func TestSourceAndKeyValidation(t *testing.T) {
	key := NewExternalKey(time.Now())
	cases := []struct {
		name        string
		source, key string
		want        string // "" means valid
	}{
		{"defaults", "", "", ""},
		{"api", SourceAPI, key, ""},
		{"named source", "scim:okta-prod", key, ""},
		{"uppercase source", "SCIM", "", "source"},
		{"source with space", "ldap corp", "", "source"},
		{"long source", strings.Repeat("s", 65), "", "source"},
		{"key not a uuid", "", "bob", "external key"},
		{"key in capitals", "", strings.ToUpper(key), "external key"},
		{"key with braces", "", "{" + key + "}", "external key"},
	}
	for _, c := range cases {
		u := User{Username: "a", Email: "a@example.com", Status: StatusActive, Source: c.source, ExternalKey: c.key}
		g := Group{Name: "g", Source: c.source, ExternalKey: c.key}
		for what, err := range map[string]error{"user": u.Validate(), "group": g.Validate()} {
			if c.want == "" && err != nil {
				t.Errorf("%s %s: %v", c.name, what, err)
			}
			if c.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("%s %s: err = %v, want %q", c.name, what, err, c.want)
			}
		}
	}
}

func TestNormalizeDefaultsSourceToAPI(t *testing.T) {
	u := User{Username: "a", Email: "a@example.com"}
	u.Normalize()
	g := Group{Name: "g"}
	g.Normalize()
	if u.Source != SourceAPI || g.Source != SourceAPI {
		t.Fatalf("sources after Normalize = %q, %q; want %q", u.Source, g.Source, SourceAPI)
	}
	u.Source, g.Source = "ldap", "ldap"
	u.Normalize()
	g.Normalize()
	if u.Source != "ldap" || g.Source != "ldap" {
		t.Fatalf("Normalize replaced a given source: %q, %q", u.Source, g.Source)
	}
}

// Keys are RFC 9562 version 7 UUIDs: unique, and ordered by creation time
// so that a bulk load appends to the key index instead of scattering.
func TestNewExternalKey(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 1000 {
		k := NewExternalKey(at.Add(time.Duration(i) * time.Millisecond))
		if !ValidExternalKey(k) || k[14] != '7' || !strings.ContainsRune("89ab", rune(k[19])) {
			t.Fatalf("key %q is not a canonical version 7 UUID", k)
		}
		if seen[k] {
			t.Fatalf("key %q given twice", k)
		}
		if k <= prev {
			t.Fatalf("key %q sorts before the earlier %q", k, prev)
		}
		seen[k], prev = true, k
	}
	if got := NewExternalKey(at)[:13]; got != "018f4cbb-37a8" {
		t.Fatalf("time part of key = %s, want 018f4cbb-37a8 (Unix ms of %s)", got, at)
	}
}
