package app

import (
	"fmt"
	"time"
)

// MinFullSyncEvery bounds the schedule: listing a large team is not free.
const MinFullSyncEvery = 10 * time.Minute

// FullSync schedules full reconciliations of an app (MISSION E4): listing
// the whole team and repairing drift made in Dropbox directly.
type FullSync struct {
	// Every is how often, as a Go duration ("24h"); "" turns the schedule off.
	Every string `json:"every"`
}

// Interval is the schedule in force; 0 means off. Validate has vetted it.
func (f FullSync) Interval() time.Duration {
	d, err := time.ParseDuration(f.Every)
	if err != nil {
		return 0
	}
	return d
}

func (f FullSync) validate() []error {
	if f.Every == "" {
		return nil
	}
	d, err := time.ParseDuration(f.Every)
	if err != nil || d < MinFullSyncEvery {
		return []error{fmt.Errorf("full_sync.every must be a duration of at least %v such as \"24h\", or empty for no schedule; got %q", MinFullSyncEvery, f.Every)}
	}
	return nil
}
