// Package audit defines the system log (MISSION E2): every change, who or what
// caused it, and its outcome.
package audit

import "time"

// Outcomes of a logged action.
const (
	Success = "success"
	Failure = "failure"
	Skipped = "skipped"
)

// Entry is one line of the system log.
type Entry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	TargetKind string         `json:"target_kind"`
	Target     string         `json:"target"`
	App        string         `json:"app,omitempty"`
	Outcome    string         `json:"outcome"`
	Message    string         `json:"message,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
}

// Filter narrows a log query; zero fields match everything. Results come newest
// first; Before pages backwards by entry ID.
type Filter struct {
	Actor      string
	Action     string
	TargetKind string
	Target     string
	App        string
	Outcome    string
	Since      time.Time
	Until      time.Time
	Before     int64
	Limit      int
}
