package scim

import (
	"encoding/json"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// path is a PATCH target or an attribute named in a body, resolved: the
// schema it is in (core or enterprise), the attribute and sub-attribute in
// lower case, and a value filter (emails[type eq "work"]).
type path struct {
	enterprise bool   // in the enterprise extension
	whole      bool   // the enterprise extension itself
	attr       string // lower case; "" with whole
	sub        string // lower case; "" for none
	filter     filter.Expression
	raw        string
}

// maxPath bounds a path's length before it is parsed.
const maxPath = 512

// parsePath resolves a PATCH path or a body's attribute name. An unknown
// schema URN or a malformed path is an invalidPath error.
func parsePath(raw string) (path, error) {
	p := path{raw: raw}
	t := strings.TrimSpace(raw)
	if t == "" || len(t) > maxPath {
		return p, badPath("path %q must be 1 to %d characters", raw, maxPath)
	}
	switch {
	case strings.EqualFold(t, SchemaEnterprise):
		p.enterprise, p.whole = true, true
		return p, nil
	case strings.EqualFold(t, SchemaUser), strings.EqualFold(t, SchemaGroup):
		return p, badPath("path %q names a whole resource: name one of its attributes, or give no path", raw)
	}
	parsed, err := parseFilterPath(t)
	if err != nil {
		return p, badPath("path %q is not a SCIM attribute path (such as name.givenName or emails[type eq \"work\"].value): %v", raw, err)
	}
	switch uri := parsed.AttributePath.URI(); {
	case uri == "":
	case strings.EqualFold(uri, SchemaEnterprise):
		p.enterprise = true
	case strings.EqualFold(uri, SchemaUser), strings.EqualFold(uri, SchemaGroup):
	default:
		return p, badPath("path %q is in schema %s, which this service does not have", raw, uri)
	}
	p.attr = strings.ToLower(parsed.AttributePath.AttributeName)
	p.sub = strings.ToLower(parsed.AttributePath.SubAttributeName())
	if parsed.SubAttribute != nil {
		if p.sub != "" {
			return p, badPath("path %q has two sub-attributes", raw)
		}
		p.sub = strings.ToLower(*parsed.SubAttribute)
	}
	p.filter = parsed.ValueExpression
	return p, nil
}

// parseFilterPath runs the library's parser, turning any panic of it into
// an error: a path is the client's input.
func parseFilterPath(t string) (p filter.Path, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = badPath("path %q cannot be parsed", t)
		}
	}()
	return filter.ParsePath([]byte(t))
}

// parseFilter parses a filter, any panic of the library an error too.
func parseFilter(t string) (e filter.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errf(400, "invalidFilter", "filter %q cannot be parsed", t)
		}
	}()
	if strings.TrimSpace(t) == "" || len(t) > 4096 {
		return nil, errf(400, "invalidFilter", "a filter must be 1 to 4096 characters")
	}
	e, err = filter.ParseFilter([]byte(t))
	if err != nil {
		return nil, errf(400, "invalidFilter", "filter %q is not a SCIM filter (such as userName eq \"ann\"): %v", t, err)
	}
	return e, nil
}

// text reads a value that must be a string; a JSON number is taken as its
// text (an employee number sent as 42). null is "".
func text(p path, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", badValue("%s must be a string, got %s", p.name(), kindOf(v))
}

// boolean reads a boolean, also as the strings "True" and "False" that
// Microsoft Entra ID sends.
func boolean(p path, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, badValue("%s must be true or false, got %s", p.name(), kindOf(v))
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "a value of another type"
}

func (p path) name() string {
	if p.raw != "" {
		return p.raw
	}
	return p.attr
}

// unquote decodes a filter's string value: the parser keeps JSON escapes.
func unquote(v any) any {
	s, ok := v.(string)
	if !ok || !strings.Contains(s, `\`) {
		return v
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return s
	}
	return out
}
