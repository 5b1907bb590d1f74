package app

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/directory"
)

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     float64
		want    float64 // PerSecond, when valid
		wantErr bool
	}{
		{"unset takes the default", 0, DefaultCallsPerSecond, false},
		{"fractional", 0.5, 0.5, false},
		{"set", 120, 120, false},
		{"at the cap", MaxCallsPerSecond, MaxCallsPerSecond, false},
		{"negative", -1, 0, true},
		{"above the cap", MaxCallsPerSecond + 1, 0, true},
		{"not a number", math.NaN(), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Budget.CallsPerSecond = tc.set
			err := s.Validate()
			if tc.wantErr {
				if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), "budget.calls_per_second") {
					t.Fatalf("Validate() = %v, want an invalid-budget error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if got := s.Budget.PerSecond(); got != tc.want {
				t.Fatalf("PerSecond() = %v, want %v", got, tc.want)
			}
		})
	}
}
