package scim

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/roster-dev/roster/internal/store"
)

// patchOp is one operation of a PatchOp request, read.
type patchOp struct {
	op    string // add, remove or replace, whatever case the client sent (Entra: Replace)
	path  *path  // nil: no path
	value any
	hasV  bool
}

// maxOps bounds a PatchOp's operations.
const maxOps = 1000

// readPatch reads a PatchOp body: its Operations, each with a known op and a
// well-formed path. Nothing is applied until all of it reads.
func readPatch(body map[string]any) ([]patchOp, error) {
	if sc, ok := get(body, "schemas"); ok {
		list, _ := sc.([]any)
		found := false
		for _, s := range list {
			if str, _ := s.(string); strings.EqualFold(str, msgPatch) {
				found = true
			}
		}
		if !found {
			return nil, badSyntax("a PATCH body's schemas must hold %s", msgPatch)
		}
	}
	raw, ok := get(body, "Operations")
	if !ok {
		return nil, badSyntax("a PATCH body needs Operations, a list of {op, path, value}")
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 || len(list) > maxOps {
		return nil, badSyntax("Operations must be a list of 1 to %d operations", maxOps)
	}
	ops := make([]patchOp, 0, len(list))
	for i, o := range list {
		m, ok := o.(map[string]any)
		if !ok {
			return nil, badSyntax("operation %d must be an object {op, path, value}", i+1)
		}
		var op patchOp
		opv, _ := get(m, "op")
		s, _ := opv.(string)
		op.op = strings.ToLower(strings.TrimSpace(s))
		if op.op != "add" && op.op != "remove" && op.op != "replace" {
			return nil, badSyntax("operation %d: op %s is not one of add, remove, replace", i+1, kindOf(opv))
		}
		if pv, ok := get(m, "path"); ok && pv != nil {
			ps, ok := pv.(string)
			if !ok {
				return nil, badPath("operation %d: path must be a string, got %s", i+1, kindOf(pv))
			}
			if strings.TrimSpace(ps) != "" {
				p, err := parsePath(ps)
				if err != nil {
					return nil, err
				}
				op.path = &p
			}
		}
		op.value, op.hasV = get(m, "value")
		switch {
		case op.op == "remove" && op.path == nil:
			return nil, errf(400, "noTarget", "operation %d: remove needs a path", i+1)
		case op.op != "remove" && !op.hasV:
			return nil, badValue("operation %d: %s needs a value", i+1, op.op)
		case op.op != "remove" && op.path == nil:
			if _, ok := op.value.(map[string]any); !ok {
				return nil, badValue("operation %d: %s without a path needs an object value, got %s", i+1, op.op, kindOf(op.value))
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// patchUser applies operations to a User document in order.
func (d *userDoc) patch(ops []patchOp) error {
	for _, op := range ops {
		var err error
		switch {
		case op.path == nil:
			err = d.setObject(op.op, op.value, false)
		case op.op == "remove":
			err = d.remove(*op.path)
		default:
			err = d.set(op.op, *op.path, op.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// remove clears an attribute; a required one (userName, active) cannot be.
func (d *userDoc) remove(p path) error {
	switch {
	case p.attr == "username":
		return errf(400, "mutability", "userName is required and cannot be removed")
	case p.attr == "emails" && p.filter != nil:
		ok, err := matches(p.filter, map[string]any{"value": d.email, "type": "work", "primary": true})
		if err != nil || !ok {
			return err
		}
		d.email = ""
		return nil
	}
	return d.set("remove", p, nil)
}

// groupPatch is what a group's operations add up to, applied in one
// transaction: a new name or external id, a replacement of the members,
// and additions and removals after it (the last word on a user wins).
type groupPatch struct {
	name, externalID *string
	members          *[]string
	add, remove      []string
}

func (g *groupPatch) write(key string) store.GroupWrite {
	return store.GroupWrite{Key: key, Name: g.name, ExternalID: g.externalID, Members: g.members, Add: g.add, Remove: g.remove}
}

func (g *groupPatch) addMembers(ids []string) {
	g.remove = without(g.remove, ids)
	if g.members != nil {
		m := append(without(*g.members, ids), ids...)
		g.members = &m
		return
	}
	g.add = append(without(g.add, ids), ids...)
}

func (g *groupPatch) removeMembers(ids []string) {
	g.add = without(g.add, ids)
	if g.members != nil {
		m := without(*g.members, ids)
		g.members = &m
		return
	}
	g.remove = append(without(g.remove, ids), ids...)
}

func (g *groupPatch) replaceMembers(ids []string) {
	g.members, g.add, g.remove = &ids, nil, nil
}

func without(list, drop []string) []string {
	if len(list) == 0 {
		return list
	}
	gone := map[string]bool{}
	for _, d := range drop {
		gone[strings.ToLower(d)] = true
	}
	out := list[:0:0]
	for _, v := range list {
		if !gone[strings.ToLower(v)] {
			out = append(out, v)
		}
	}
	return out
}

// patch applies a group's operations.
func (g *groupPatch) patch(ops []patchOp) error {
	for _, op := range ops {
		if err := g.apply(op); err != nil {
			return err
		}
	}
	return nil
}

func (g *groupPatch) apply(op patchOp) error {
	if op.path == nil {
		m := op.value.(map[string]any) // readPatch made sure
		for k, v := range m {
			p, err := parsePath(k)
			if err != nil {
				return err
			}
			if err := g.apply(patchOp{op: op.op, path: &p, value: v, hasV: true}); err != nil {
				return err
			}
		}
		return nil
	}
	p := *op.path
	switch p.attr {
	case "displayname":
		if op.op == "remove" {
			return errf(400, "mutability", "displayName is required and cannot be removed")
		}
		s, err := text(p, op.value)
		if err != nil {
			return err
		}
		g.name = &s
	case "externalid":
		s, err := text(p, op.value)
		if err != nil {
			return err
		}
		g.externalID = &s
	case "members":
		return g.applyMembers(op, p)
	case "id", "schemas", "meta":
		// read-only; Okta repeats the id in a replace.
	default:
		return badPath("%s is not an attribute of a Group (displayName, externalId, members)", p.name())
	}
	return nil
}

func (g *groupPatch) applyMembers(op patchOp, p path) error {
	if p.sub != "" && p.sub != "value" {
		return nil // display and $ref belong to the member
	}
	if p.filter != nil {
		if op.op != "remove" {
			return badPath("a filtered members path can only be removed; add members with path members and a value list")
		}
		ids, err := memberFilterIDs(p.filter)
		if err != nil {
			return err
		}
		g.removeMembers(ids)
		return nil
	}
	var ids []string
	if op.hasV && op.value != nil {
		var err error
		if ids, err = memberIDs(op.value); err != nil {
			return err
		}
	}
	switch {
	case op.op == "add":
		g.addMembers(ids)
	case op.op == "replace":
		g.replaceMembers(ids)
	case ids == nil: // remove, no value: every member
		g.replaceMembers([]string{})
	default: // remove with a value list (Entra)
		g.removeMembers(ids)
	}
	return nil
}

// memberIDs reads a members value: a list of {value}, or one.
func memberIDs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := make([]string, 0, len(list))
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, badValue("each member must be an object {\"value\": user id}, got %s", kindOf(el))
		}
		val, _ := get(m, "value")
		s, ok := val.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, badValue("a member's value must be a user's id, got %s", kindOf(val))
		}
		ids = append(ids, strings.TrimSpace(s))
	}
	return ids, nil
}

// memberFilterIDs reads the ids of members[value eq "ID"], or of several
// joined with or.
func memberFilterIDs(e filter.Expression) ([]string, error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		s, ok := unquote(x.CompareValue).(string)
		if strings.EqualFold(x.AttributePath.AttributeName, "value") && x.AttributePath.SubAttribute == nil &&
			strings.EqualFold(string(x.Operator), "eq") && ok {
			return []string{s}, nil
		}
	case *filter.LogicalExpression:
		if strings.EqualFold(string(x.Operator), "or") {
			l, err := memberFilterIDs(x.Left)
			if err != nil {
				return nil, err
			}
			r, err := memberFilterIDs(x.Right)
			return append(l, r...), err
		}
	}
	return nil, badPath("a members filter must be value eq \"ID\" (or several joined with or)")
}
