package ldapsource

import "testing"

func TestNormDNComparesSpellingsOfOneDN(t *testing.T) {
	cases := []struct{ a, b string }{
		{"uid=Ann,ou=People,dc=Example,dc=org", "UID=ann,OU=people,DC=example,DC=org"},
		{"uid=ann, ou=people, dc=example, dc=org", "uid=ann,ou=people,dc=example,dc=org"},
		{`cn=Smith\, John,ou=people,dc=x`, `CN=smith\, john,OU=People,DC=X`},
		{"cn=a+sn=b,dc=x", "CN=A+SN=B,DC=X"},
	}
	for _, tc := range cases {
		if normDN(tc.a) != normDN(tc.b) {
			t.Errorf("normDN(%q) = %q, normDN(%q) = %q", tc.a, normDN(tc.a), tc.b, normDN(tc.b))
		}
	}
	if normDN("uid=ann,dc=x") == normDN("uid=anne,dc=x") {
		t.Error("two DNs compare equal")
	}
}
