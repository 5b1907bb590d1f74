package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

// Settings typed by an admin: each unknown key and each value of the wrong
// type is named with what is allowed, and nothing of a refused input sticks.
func TestMergeSettings(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // in the error; none: accepted
	}{
		{"bool as text", `{"provisioning":"yes"}`, []string{`setting provisioning must be true or false, got "yes"`}},
		{"unknown key", `{"typo":1}`, []string{`unknown setting "typo"`, "provisioning", "deactivation.transfer_dest_email", "budget.calls_per_second", "full_sync.every", "import.app_sourced"}},
		{"unknown nested key", `{"deactivation":{"wipe":true}}`, []string{`unknown setting "deactivation.wipe"`, "deactivation.wipe_data"}},
		{"number as text", `{"budget":{"calls_per_second":"fast"}}`, []string{`budget.calls_per_second must be auto or a number of calls a second`, `got "fast"`}},
		{"unknown budget key", `{"budget":{"calls":5}}`, []string{`unknown setting "budget.calls"`, "budget.max_calls_per_second"}},
		{"whole number", `{"deletion_guard":{"percent":2.5}}`, []string{"setting deletion_guard.percent must be a whole number, got 2.5"}},
		{"group as value", `{"deactivation":"suspend"}`, []string{`setting "deactivation" is a group of settings`, "deactivation.type"}},
		{"list", `{"import":{"app_sourced":"email"}}`, []string{"setting import.app_sourced must be a list"}},
		{"all at once", `{"provisioning":1,"zzz":true}`, []string{"provisioning must be true or false", `unknown setting "zzz"`}},
		{"good", `{"provisioning":true,"deactivation":{"type":"suspend"},"import":{"app_sourced":["email"]},"budget":{"calls_per_second":5}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			err := s.MergeSettings([]byte(tc.in))
			if tc.want == nil {
				if err != nil || !s.Provisioning || s.Deactivation.Type != DeactivateSuspend || s.Budget.CallsPerSecond != 5 {
					t.Fatalf("%v %+v", err, s)
				}
				return
			}
			if !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("want invalid, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "json:") {
				t.Errorf("raw decoder words: %v", err)
			}
			if s.Provisioning != DefaultSettings().Provisioning {
				t.Errorf("a refused input changed the settings")
			}
		})
	}
}

// An instance reports its own problems and its settings' under one "invalid".
func TestValidateSaysInvalidOnce(t *testing.T) {
	a := Instance{Name: "x", Kind: KindDropbox, BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}
	a.Settings.Deactivation.Type = "delete"
	err := a.ValidateFields()
	if err == nil || strings.Count(err.Error(), "invalid") != 1 {
		t.Fatalf("%v", err)
	}
}
