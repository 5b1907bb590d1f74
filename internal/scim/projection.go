package scim

import (
	"net/http"
	"strings"
)

// projection applies attributes and excludedAttributes (RFC 7644 §3.9):
// with attributes, only those (and id, schemas, meta); otherwise all but
// the excluded ones (id and schemas are always returned).
type projection struct {
	only, except []string // lower case; "name.givenname" names a sub-attribute; a URN-qualified name is cut to its attribute
}

func projectionOf(r *http.Request) (projection, error) {
	q := r.URL.Query()
	p := projection{only: attrList(q.Get("attributes")), except: attrList(q.Get("excludedAttributes"))}
	if len(p.only) > 0 && len(p.except) > 0 {
		return p, badValue("give attributes or excludedAttributes, not both")
	}
	return p, nil
}

func attrList(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		for _, urn := range []string{SchemaUser, SchemaGroup} {
			a = strings.TrimPrefix(a, strings.ToLower(urn)+":")
		}
		out = append(out, a)
	}
	return out
}

// wants reports whether an attribute (lower case, maybe dotted) is asked for.
func (p projection) keep(name string) bool {
	name = strings.ToLower(name)
	if name == "id" || name == "schemas" {
		return true
	}
	if len(p.only) > 0 {
		if name == "meta" {
			return true
		}
		for _, a := range p.only {
			if a == name || strings.HasPrefix(a, name+".") || strings.HasPrefix(a, name+":") {
				return true
			}
		}
		return false
	}
	for _, a := range p.except {
		if a == name {
			return false
		}
	}
	return true
}

// apply keeps the wanted attributes of a resource.
func (p projection) apply(res map[string]any) map[string]any {
	if len(p.only) == 0 && len(p.except) == 0 {
		return res
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		if p.keep(k) {
			out[k] = v
		}
	}
	return out
}
