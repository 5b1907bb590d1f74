package ldapsource

import (
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func dialer(timeout time.Duration) *net.Dialer { return &net.Dialer{Timeout: timeout} }

// entryID reads the entry's stable identity as a lowercase UUID: OpenLDAP's
// entryUUID is text; AD's objectGUID is 16 bytes whose first three fields
// are little-endian (MS-DTYP 2.3.4).
func entryID(e *ldap.Entry, attr string) (string, error) {
	raw := e.GetRawAttributeValue(attr)
	switch len(raw) {
	case 0:
		return "", fmt.Errorf("entry %q has no %s: the source needs a stable identity (check the id attribute)", e.DN, attr)
	case 16:
		b := []byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]}
		b = append(b, raw[8:]...)
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	}
	s := strings.ToLower(strings.TrimSpace(string(raw)))
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", fmt.Errorf("entry %q: %s %q is not a UUID", e.DN, attr, s)
	}
	if _, err := hex.DecodeString(strings.ReplaceAll(s, "-", "")); err != nil {
		return "", fmt.Errorf("entry %q: %s %q is not a UUID", e.DN, attr, s)
	}
	return s, nil
}

// normDN gives one spelling of a DN for comparison: attribute types and
// values lowercased, no spaces around separators. A DN that does not parse
// is compared as lowercased text.
func normDN(dn string) string {
	// Most DNs need no parsing: no escapes, quotes, multi-valued RDNs or
	// spaces; lowercasing them is what parsing would give. A read of
	// 100,000 users and their groups meets each DN twice.
	if !strings.ContainsAny(dn, "\\\"+# ;<>") {
		return strings.ToLower(dn)
	}
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range d.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(a.Value))
		}
	}
	return b.String()
}

// graph holds groups by normalised DN, to resolve nesting.
type graph struct {
	groups map[string]rawGroup
	users  map[string]*User
}

func newGraph(groups []rawGroup, users map[string]*User) *graph {
	g := &graph{groups: make(map[string]rawGroup, len(groups)), users: users}
	for _, gr := range groups {
		g.add(gr)
	}
	return g
}

func (g *graph) add(gr rawGroup) { g.groups[normDN(gr.dn)] = gr }

// usersOf returns the IDs of every user in the group, through nested groups.
// Each group is visited once, so a cycle (A in B in A) ends.
func (g *graph) usersOf(dn string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]bool{dn: true}
	stack := []string{dn}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, m := range g.groups[cur].members {
			if u, ok := g.users[m]; ok {
				out[u.ID] = true
				continue
			}
			if _, ok := g.groups[m]; ok && !seen[m] {
				seen[m] = true
				stack = append(stack, m)
			}
		}
	}
	return out
}

// resolve lists the groups read with their users, nested ones included, in
// the order users were read.
func (g *graph) resolve(groups []rawGroup) []Group {
	out := make([]Group, 0, len(groups))
	for _, gr := range groups {
		in := g.usersOf(normDN(gr.dn))
		members := make([]string, 0, len(in))
		for id := range in {
			members = append(members, id)
		}
		slices.Sort(members)
		out = append(out, Group{DN: gr.dn, ID: gr.id, Name: gr.name, Members: members})
	}
	return out
}

// rangedValues returns every value of attr. AD returns a large multi-valued
// attribute in ranges (MS-ADTS 3.1.1.3.1.3.3): the entry then holds
// "member;range=0-1499" instead of "member", and the client asks for
// "member;range=1500-*" next, until a range ends in "*".
func rangedValues(e *ldap.Entry, attr string, fetch func(desc string) (*ldap.Entry, error)) ([]string, error) {
	values := e.GetEqualFoldAttributeValues(attr)
	for next := rangeNext(e, attr, &values); next >= 0; {
		if len(values) > 10_000_000 {
			return nil, fmt.Errorf("group %q: more than 10,000,000 %s values", e.DN, attr)
		}
		more, err := fetch(fmt.Sprintf("%s;range=%d-*", attr, next))
		if err != nil {
			return nil, fmt.Errorf("read %s of %q from %d on: %w", attr, e.DN, next, err)
		}
		n := rangeNext(more, attr, &values)
		if n >= 0 && n <= next {
			return nil, fmt.Errorf("group %q: the server's %s ranges do not advance (%d after %d)", e.DN, attr, n, next)
		}
		if n < 0 && !hasFinalRange(more, attr) {
			return nil, fmt.Errorf("group %q: the server sent no %s range from %d on", e.DN, attr, next)
		}
		next = n
	}
	return values, nil
}

// rangeNext appends the values of e's ranged attr and returns where the next
// range starts, or -1 when there is no range or it was the last ("-*").
func rangeNext(e *ldap.Entry, attr string, values *[]string) int {
	next := -1
	prefix := strings.ToLower(attr) + ";range="
	for _, a := range e.Attributes {
		name := strings.ToLower(a.Name)
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		*values = append(*values, a.Values...)
		_, end, ok := strings.Cut(name[len(prefix):], "-")
		if !ok || end == "*" {
			continue
		}
		if n, err := strconv.Atoi(end); err == nil {
			next = n + 1
		}
	}
	return next
}

func hasFinalRange(e *ldap.Entry, attr string) bool {
	prefix := strings.ToLower(attr) + ";range="
	for _, a := range e.Attributes {
		if name := strings.ToLower(a.Name); strings.HasPrefix(name, prefix) && strings.HasSuffix(name, "-*") {
			return true
		}
	}
	return false
}
