package app

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		set, max float64
		want     float64 // PerSecond, when valid
		auto     bool
		wantErr  string // a field the error names
	}{
		{"unset is auto, up to the bound", 0, 0, MaxCallsPerSecond, true, ""},
		{"auto with a cap", 0, 200, 200, true, ""},
		{"fractional", 0.5, 0, 0.5, false, ""},
		{"set", 120, 0, 120, false, ""},
		{"at the bound", MaxCallsPerSecond, 0, MaxCallsPerSecond, false, ""},
		{"negative", -1, 0, 0, false, "budget.calls_per_second"},
		{"above the bound", MaxCallsPerSecond + 1, 0, 0, false, "budget.calls_per_second"},
		{"not a number", math.NaN(), 0, 0, false, "budget.calls_per_second"},
		{"cap above the bound", 0, MaxCallsPerSecond + 1, 0, false, "budget.max_calls_per_second"},
		{"cap below one", 0, 0.5, 0, false, "budget.max_calls_per_second"},
		{"cap with a fixed rate", 50, 100, 0, false, "budget.max_calls_per_second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Budget = Budget{CallsPerSecond: tc.set, MaxCallsPerSecond: tc.max}
			err := s.Validate()
			if tc.wantErr != "" {
				if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Validate() = %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got := s.Budget.PerSecond(); got != tc.want {
				t.Fatalf("PerSecond() = %v, want %v", got, tc.want)
			}
			if s.Budget.Auto() != tc.auto {
				t.Fatalf("Auto() = %v, want %v", s.Budget.Auto(), tc.auto)
			}
		})
	}
}

// TestBudgetJSON: auto reads and writes as "auto", numbers as numbers (also
// in a string, as the CLI sends a fraction), a change merges into the
// current budget, and anything else is refused naming the field.
func TestBudgetJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		from     Budget
		want     Budget
		wantErr  string
	}{
		{"auto", `{"calls_per_second":"auto"}`, Budget{CallsPerSecond: 20}, Budget{}, ""},
		{"auto any case", `{"calls_per_second":" Auto "}`, Budget{CallsPerSecond: 20}, Budget{}, ""},
		{"a number", `{"calls_per_second":50}`, Budget{}, Budget{CallsPerSecond: 50}, ""},
		{"a number in a string", `{"calls_per_second":"0.5"}`, Budget{}, Budget{CallsPerSecond: 0.5}, ""},
		{"a stored zero is auto", `{"calls_per_second":0}`, Budget{CallsPerSecond: 20}, Budget{}, ""},
		{"the cap alone keeps the rate", `{"max_calls_per_second":200}`, Budget{}, Budget{MaxCallsPerSecond: 200}, ""},
		{"the rate alone keeps the cap", `{"calls_per_second":"auto"}`, Budget{MaxCallsPerSecond: 200}, Budget{MaxCallsPerSecond: 200}, ""},
		{"a word", `{"calls_per_second":"fast"}`, Budget{}, Budget{}, "budget.calls_per_second must be auto or a number"},
		{"a misspelt field", `{"calls_per_secnd":5}`, Budget{}, Budget{}, "calls_per_secnd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.from
			err := json.Unmarshal([]byte(tc.in), &b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Unmarshal(%s) = %v, want an error with %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || b != tc.want {
				t.Fatalf("Unmarshal(%s) = %+v, %v; want %+v", tc.in, b, err, tc.want)
			}
			out, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			var back Budget
			if err := json.Unmarshal(out, &back); err != nil || back != b {
				t.Fatalf("round trip of %s = %+v, %v", out, back, err)
			}
			if b.Auto() != strings.Contains(string(out), `"auto"`) {
				t.Fatalf("Marshal(%+v) = %s", b, out)
			}
		})
	}
}
