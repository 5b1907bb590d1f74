package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxCallsPerSecond bounds the settings, so a typo cannot unleash a flood.
const MaxCallsPerSecond = 10_000

// Budget is how fast Roster may call one app instance, counted over every
// worker process of a fleet together. Dropbox publishes no limits, so by
// default the rate is found by trial (auto): it starts low, rises while calls
// succeed and backs off when the team answers 429 or slows down.
type Budget struct {
	// CallsPerSecond is a fixed rate (the most calls in any one second,
	// paced with some headroom); 0 is auto, the default. In JSON, auto is
	// the string "auto".
	CallsPerSecond float64
	// MaxCallsPerSecond caps an auto rate; 0: MaxCallsPerSecond.
	MaxCallsPerSecond float64
}

// SubKeys names the budget's settings (budget.calls_per_second, …).
func (Budget) SubKeys() []string { return []string{"calls_per_second", "max_calls_per_second"} }

// Auto reports whether the rate is found by trial rather than fixed.
func (b Budget) Auto() bool { return b.CallsPerSecond == 0 }

// PerSecond is the fixed rate, or for auto the most it may reach.
func (b Budget) PerSecond() float64 {
	switch {
	case !b.Auto():
		return b.CallsPerSecond
	case b.MaxCallsPerSecond > 0:
		return b.MaxCallsPerSecond
	}
	return MaxCallsPerSecond
}

// String is the setting as an admin types it: "auto", "auto (at most 200)" or "50".
func (b Budget) String() string {
	switch {
	case !b.Auto():
		return strconv.FormatFloat(b.CallsPerSecond, 'g', -1, 64)
	case b.MaxCallsPerSecond > 0:
		return "auto (at most " + strconv.FormatFloat(b.MaxCallsPerSecond, 'g', -1, 64) + ")"
	}
	return "auto"
}

type budgetJSON struct {
	CallsPerSecond    any     `json:"calls_per_second"`
	MaxCallsPerSecond float64 `json:"max_calls_per_second"`
}

// MarshalJSON writes auto as "auto" and a fixed rate as a number.
func (b Budget) MarshalJSON() ([]byte, error) {
	out := budgetJSON{CallsPerSecond: "auto", MaxCallsPerSecond: b.MaxCallsPerSecond}
	if !b.Auto() {
		out.CallsPerSecond = b.CallsPerSecond
	}
	return json.Marshal(out)
}

// UnmarshalJSON merges the fields given into b (so a change may name one of
// them): calls_per_second is "auto", a number, or a number in a string (as
// `roster apps set` sends a fraction); unknown fields are an error.
func (b *Budget) UnmarshalJSON(data []byte) error {
	var in struct {
		CallsPerSecond    json.RawMessage `json:"calls_per_second"`
		MaxCallsPerSecond *float64        `json:"max_calls_per_second"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("budget: %w", err)
	}
	if in.MaxCallsPerSecond != nil {
		b.MaxCallsPerSecond = *in.MaxCallsPerSecond
	}
	if in.CallsPerSecond == nil {
		return nil
	}
	n, err := parseRate(in.CallsPerSecond)
	if err != nil {
		return err
	}
	b.CallsPerSecond = n
	return nil
}

// parseRate reads calls_per_second: 0 stands for auto.
func parseRate(raw json.RawMessage) (float64, error) {
	var n float64
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		s = strings.TrimSpace(s)
		if strings.EqualFold(s, "auto") {
			return 0, nil
		}
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return n, nil
		}
	}
	if string(raw) == "null" {
		return 0, nil
	}
	return 0, fmt.Errorf("budget.calls_per_second must be auto or a number of calls a second (at most %d), got %s", MaxCallsPerSecond, raw)
}

func (b Budget) validate() []error {
	var errs []error
	if c := b.CallsPerSecond; math.IsNaN(c) || c < 0 || c > MaxCallsPerSecond {
		errs = append(errs, fmt.Errorf("budget.calls_per_second must be auto (the default) or a number of calls a second above 0 and at most %d, got %v", MaxCallsPerSecond, c))
	}
	m := b.MaxCallsPerSecond
	switch {
	case math.IsNaN(m) || m < 0 || m > MaxCallsPerSecond:
		errs = append(errs, fmt.Errorf("budget.max_calls_per_second must be between 0 (no cap but %d) and %d, got %v", MaxCallsPerSecond, MaxCallsPerSecond, m))
	case m > 0 && m < 1:
		errs = append(errs, fmt.Errorf("budget.max_calls_per_second must be at least 1 (or 0 for no cap), got %v: auto starts at 1 call a second or more", m))
	case m > 0 && !b.Auto():
		errs = append(errs, fmt.Errorf("budget.max_calls_per_second caps budget.calls_per_second=auto; with the fixed rate %v it must be 0", b.CallsPerSecond))
	}
	return errs
}
