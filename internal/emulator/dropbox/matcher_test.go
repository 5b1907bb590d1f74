package dropbox

import (
	"encoding/json"
	"testing"
)

// The contract tests are only as strict as their matcher: check it catches
// every kind of difference.
func TestDiffJSON(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		same      bool
	}{
		{`{"a":1,"b":"x"}`, `{"a":1,"b":"x"}`, true},
		{`{"a":1,"b":"x"}`, `{"a":1}`, false},               // unexpected field
		{`{"a":1}`, `{"a":1,"b":"x"}`, false},               // missing field
		{`{"a":1}`, `{"a":2}`, false},                       // value
		{`{"a":"dbmid:x"}`, `{"a":"~^dbmid:"}`, true},       // pattern
		{`{"a":"dbid:x"}`, `{"a":"~^dbmid:"}`, false},       // pattern mismatch
		{`{"a":[1,2]}`, `{"a":[1]}`, false},                 // length
		{`{"a":{"b":[1]}}`, `{"a":"*"}`, true},              // wildcard
		{`{"a":null}`, `{"a":false}`, false},                // null vs false
		{`[{".tag":"x"}]`, `[{".tag":"x","x":"y"}]`, false}, // nested missing
	} {
		var g, w any
		_ = json.Unmarshal([]byte(tc.got), &g)
		_ = json.Unmarshal([]byte(tc.want), &w)
		if d := diffJSON("$", g, w); (len(d) == 0) != tc.same {
			t.Errorf("%s vs %s: diffs %v, want same=%v", tc.got, tc.want, d, tc.same)
		}
	}
}
