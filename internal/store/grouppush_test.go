package store

import (
	"errors"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

func TestGroupPushRuleMatches(t *testing.T) {
	for _, tc := range []struct {
		rule GroupPushRule
		id   int64
		name string
		want bool
	}{
		{GroupPushRule{Pattern: "eng-*"}, 1, "eng-web", true},
		{GroupPushRule{Pattern: "eng-*"}, 1, "ENG-", true},
		{GroupPushRule{Pattern: "eng-*"}, 1, "sales-eng", false},
		{GroupPushRule{Pattern: "*"}, 1, "anything/with/slashes", true},
		{GroupPushRule{Pattern: "*-team"}, 1, "a/b-team", true},
		{GroupPushRule{Pattern: "t?am"}, 1, "team", true},
		{GroupPushRule{Pattern: "t?am"}, 1, "tam", false},
		{GroupPushRule{Pattern: "a*b*c"}, 1, "aXbYbZc", true},
		{GroupPushRule{Pattern: "a*b*c"}, 1, "aXbYbZ", false},
		{GroupPushRule{Pattern: "**x"}, 1, "x", true},
		{GroupPushRule{Pattern: "Ünï*"}, 1, "ünïcode", true},
		// A name rule is bound to its group: a rename keeps it.
		{GroupPushRule{Group: "Sales", GroupID: 7}, 7, "Sales EMEA", true},
		{GroupPushRule{Group: "Sales", GroupID: 7}, 8, "Sales", false},
	} {
		if got := tc.rule.Matches(tc.id, tc.name); got != tc.want {
			t.Errorf("%+v.Matches(%d, %q) = %v, want %v", tc.rule, tc.id, tc.name, got, tc.want)
		}
	}
}

func TestGroupPushRuleValidateAndKey(t *testing.T) {
	for _, tc := range []struct {
		rule    GroupPushRule
		wantErr bool
		key     string
	}{
		{GroupPushRule{Group: " Sales ", GroupID: 3}, false, "group:3"},
		{GroupPushRule{Pattern: " Eng-* "}, false, "pattern:eng-*"},
		{GroupPushRule{}, true, ""},
		{GroupPushRule{Group: "a", Pattern: "b"}, true, ""},
		{GroupPushRule{Pattern: string(make([]byte, 256))}, true, ""},
	} {
		r := tc.rule
		err := r.Validate()
		if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, directory.ErrInvalid)) {
			t.Errorf("%+v: Validate = %v", tc.rule, err)
		}
		if err == nil && r.Key() != tc.key {
			t.Errorf("%+v: Key = %q, want %q", tc.rule, r.Key(), tc.key)
		}
	}
}
