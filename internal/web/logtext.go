package web

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/roster-dev/roster/internal/audit"
)

// actionNames are the system log's actions in plain words.
var actionNames = map[string]string{
	"user.create": "user created", "user.update": "user changed", "user.delete": "user deleted",
	"user.status": "user status changed", "user.suspend": "user suspended", "user.deactivate": "user deactivated",
	"user.import": "user imported", "user.import_profile": "profile imported",
	"group.create": "group created", "group.delete": "group deleted", "group.rename": "group renamed",
	"group.push": "group push started", "group.unpush": "group push stopped",
	"assignment.create": "assigned", "assignment.delete": "unassigned",
	"app.create": "app added", "app.update": "app settings changed", "app.test": "connection tested", "app.credential": "token stored",
	"account.create": "account created", "account.add": "account added", "account.update": "account updated",
	"account.remove": "account removed", "account.suspend": "account suspended", "account.unsuspend": "account reactivated",
	"account.link":     "account linked",
	"app_group.create": "Dropbox group created", "app_group.link": "Dropbox group linked", "app_group.rename": "Dropbox group renamed",
	"app_group.delete": "Dropbox group deleted", "app_group.unlink": "Dropbox group unlinked",
	"app_group.add_members": "added to Dropbox group", "app_group.remove_members": "removed from Dropbox group",
	"sync.run": "sync", "sync.apply": "plan applied", "sync.plan": "plan made", "sync.full": "full sync", "sync.guard": "stopped by the deletion guard",
	"import.run": "import", "import.save": "import saved", "import.confirm": "import confirmed", "import.ignore": "import ignored",
	"import.link": "import linked", "import.vanished": "gone from Dropbox", "import.profile": "profile imported",
	"task.retry": "task retried", "task.dismiss": "task dismissed",
	"offboarding.release": "held off-boarding released", "offboarding.reapply": "settings applied to past leavers", "offboarding.keep": "removal cancelled",
	"assign": "assigned", "unassign": "unassigned",
	"group.member.add": "added to group", "group.member.remove": "removed from group",
	"app.credential.set": "token stored", "app.oauth.authenticated": "authenticated with Dropbox", "app.oauth_client.set": "app key stored",
	"app.secrets.forget": "token and app key dropped",
	"offboard.keep":      "removal cancelled", "offboard.reapply": "settings applied to past leavers", "offboard.release": "held off-boarding released",
	"reconcile.drift": "drift found", "reconcile.group_drift": "group drift found",
	"admin.create": "admin created", "admin.delete": "admin deleted", "admin.password": "admin password changed",
	"token.create": "API token created", "token.delete": "API token revoked",
}

// actionName is an action in plain words; an unknown one is shown as it is.
func actionName(action string) string {
	if n, ok := actionNames[action]; ok {
		return n
	}
	return strings.ReplaceAll(action, "_", " ")
}

// detailLine is one fact of a log entry's detail: a key, and its value or
// its change.
type detailLine struct {
	Key, Value    string
	Before, After string
	Changed       bool
}

const detailValueMax = 120

// detailLines shows a log entry's detail readably: a before and after pair
// (whole settings, as app.update logs them) as only the keys that changed,
// before → after; with pairs, a [old, new] list (as user.update and
// account.update log each field) the same way; anything else as key: value,
// nested maps flattened to dotted keys.
func detailLines(d map[string]any, pairs bool) []detailLine {
	var out []detailLine
	if b, a, ok := beforeAfter(d); ok {
		out = append(out, diffLines("", b, a)...)
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := d[k]
		if k == "before" || k == "after" {
			if _, _, ok := beforeAfter(d); ok {
				continue
			}
		}
		if pair, ok := v.([]any); ok && pairs && len(pair) == 2 && scalar(pair[0]) && scalar(pair[1]) {
			out = append(out, detailLine{Key: k, Before: short(pair[0]), After: short(pair[1]), Changed: true})
			continue
		}
		if m, ok := v.(map[string]any); ok {
			if b, a, ok := beforeAfter(m); ok {
				out = append(out, diffLines(k+".", b, a)...)
				continue
			}
			out = append(out, flatten(k+".", m)...)
			continue
		}
		out = append(out, detailLine{Key: k, Value: short(v)})
	}
	return out
}

func beforeAfter(d map[string]any) (any, any, bool) {
	b, okB := d["before"]
	a, okA := d["after"]
	return b, a, okB && okA
}

// diffLines lists the dotted keys whose values differ between b and a.
func diffLines(prefix string, b, a any) []detailLine {
	fb, fa := flatMap(prefix, b), flatMap(prefix, a)
	keys := map[string]bool{}
	for k := range fb {
		keys[k] = true
	}
	for k := range fa {
		keys[k] = true
	}
	var out []detailLine
	for k := range keys {
		if !reflect.DeepEqual(fb[k], fa[k]) {
			out = append(out, detailLine{Key: strings.TrimSuffix(k, "."), Before: short(fb[k]), After: short(fa[k]), Changed: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// flatMap flattens nested maps into dotted keys; other values stay whole.
func flatMap(prefix string, v any) map[string]any {
	out := map[string]any{}
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return out
	}
	for k, x := range m {
		for fk, fv := range flatMap(prefix+k+".", x) {
			out[fk] = fv
		}
	}
	if len(m) == 0 {
		out[prefix] = "{}"
	}
	return out
}

func flatten(prefix string, m map[string]any) []detailLine {
	f := flatMap(prefix, m)
	out := make([]detailLine, 0, len(f))
	for k, v := range f {
		out = append(out, detailLine{Key: strings.TrimSuffix(k, "."), Value: short(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func scalar(v any) bool {
	switch v.(type) {
	case nil, string, float64, bool, json.Number:
		return true
	}
	return false
}

// short writes a value in a few words: empty as "(none)", a list joined.
func short(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		if x == "" {
			return "(empty)"
		}
		s = x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		s = "[" + strings.Join(parts, ", ") + "]"
		if len(x) == 0 {
			s = "(none)"
		}
	default:
		s = fmt.Sprint(x)
	}
	if r := []rune(s); len(r) > detailValueMax {
		s = string(r[:detailValueMax]) + "…"
	}
	return s
}

// entryLines is detailLines of an entry, for templates: the changes of an
// update are [old, new] pairs.
func entryLines(e audit.Entry) []detailLine {
	return detailLines(e.Detail, strings.HasSuffix(e.Action, ".update"))
}
