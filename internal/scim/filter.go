package scim

import (
	"encoding/json"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// matches evaluates a filter against a resource in its JSON form.
// Attribute names and string comparisons ignore case (RFC 7643 caseExact
// false, which holds for every attribute here but id, a UUID in lower case).
func matches(e filter.Expression, res map[string]any) (bool, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := matches(x.Left, res)
		if err != nil {
			return false, err
		}
		if strings.EqualFold(string(x.Operator), "and") && !l {
			return false, nil
		}
		if strings.EqualFold(string(x.Operator), "or") && l {
			return true, nil
		}
		return matches(x.Right, res)
	case *filter.NotExpression:
		ok, err := matches(x.Expression, res)
		return !ok, err
	case *filter.ValuePath:
		for _, el := range values(res, x.AttributePath, false) {
			m, ok := el.(map[string]any)
			if !ok {
				continue
			}
			if ok, err := matches(x.ValueFilter, m); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case *filter.AttributeExpression:
		return compareAny(values(res, x.AttributePath, true), strings.ToLower(string(x.Operator)), unquote(x.CompareValue))
	}
	return false, errf(400, "invalidFilter", "the filter holds an expression this service cannot evaluate")
}

// values finds an attribute path's values in a resource: several when a
// multi-valued attribute is crossed (emails.value); flat unwraps arrays.
func values(res map[string]any, p filter.AttributePath, flat bool) []any {
	var base any = res
	if uri := p.URI(); uri != "" && strings.EqualFold(uri, SchemaEnterprise) {
		base, _ = get(res, SchemaEnterprise)
	}
	m, ok := base.(map[string]any)
	if !ok {
		return nil
	}
	v, ok := get(m, p.AttributeName)
	if !ok {
		return nil
	}
	out := expand(v)
	if p.SubAttribute != nil {
		var subs []any
		for _, el := range out {
			if em, ok := el.(map[string]any); ok {
				if sv, ok := get(em, *p.SubAttribute); ok {
					subs = append(subs, expand(sv)...)
				}
			}
		}
		return subs
	}
	if !flat {
		return out
	}
	return out
}

func expand(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	if list, ok := v.([]map[string]any); ok {
		out := make([]any, len(list))
		for i, m := range list {
			out[i] = m
		}
		return out
	}
	return []any{v}
}

// compareAny is true when any of the values passes the comparison.
func compareAny(vals []any, op string, want any) (bool, error) {
	if op == "pr" {
		for _, v := range vals {
			if v != nil && v != "" {
				return true, nil
			}
		}
		return false, nil
	}
	if op == "ne" {
		ok, err := compareAny(vals, "eq", want)
		return !ok, err
	}
	for _, v := range vals {
		ok, err := compare(v, op, want)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func compare(have any, op string, want any) (bool, error) {
	switch w := want.(type) {
	case bool:
		h, ok := have.(bool)
		if !ok {
			return false, nil
		}
		if op != "eq" {
			return false, errf(400, "invalidFilter", "a boolean can only be compared with eq or ne")
		}
		return h == w, nil
	case nil:
		return op == "eq" && have == nil, nil
	case string:
		h, ok := have.(string)
		if !ok {
			return false, nil
		}
		h, w = strings.ToLower(h), strings.ToLower(w)
		switch op {
		case "eq":
			return h == w, nil
		case "co":
			return strings.Contains(h, w), nil
		case "sw":
			return strings.HasPrefix(h, w), nil
		case "ew":
			return strings.HasSuffix(h, w), nil
		case "gt":
			return h > w, nil
		case "ge":
			return h >= w, nil
		case "lt":
			return h < w, nil
		case "le":
			return h <= w, nil
		}
	default:
		// Numbers: no attribute here is a number; nothing matches.
		if _, ok := want.(json.Number); ok || isNumber(want) {
			return false, nil
		}
	}
	return false, errf(400, "invalidFilter", "operator %s cannot compare %s", op, kindOf(want))
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int64, float64, float32, int32, uint, uint64:
		return true
	}
	return false
}
