package app

import (
	"fmt"
	"math"
)

// DefaultCallsPerSecond is the call budget of an app instance that sets none.
// Dropbox publishes no numbers; a team-wide budget of 20 calls a second
// (up to 400 new members a second in batches of 20) stays well clear of the
// 429s that busy teams report, and an admin can raise it.
const DefaultCallsPerSecond = 20

// MaxCallsPerSecond bounds the setting, so a typo cannot unleash a flood.
const MaxCallsPerSecond = 10_000

// Budget is how fast Roster may call one app instance, counted over every
// worker process of a fleet together.
type Budget struct {
	// CallsPerSecond is the most calls in any one second; 0 takes the default.
	CallsPerSecond float64 `json:"calls_per_second"`
}

// PerSecond is the budget in force: the setting, or the default.
func (b Budget) PerSecond() float64 {
	if b.CallsPerSecond == 0 {
		return DefaultCallsPerSecond
	}
	return b.CallsPerSecond
}

func (b Budget) validate() []error {
	c := b.CallsPerSecond
	if math.IsNaN(c) || c < 0 || c > MaxCallsPerSecond {
		return []error{fmt.Errorf("budget.calls_per_second must be between 0 (the default, %d) and %d, got %v", DefaultCallsPerSecond, MaxCallsPerSecond, c)}
	}
	return nil
}
