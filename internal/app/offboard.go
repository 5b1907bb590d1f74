package app

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxRemoveAfter bounds the grace before a removal: Dropbox's own recovery
// window is 7 days, and a much longer grace only keeps licences busy.
const MaxRemoveAfter = 90 * 24 * time.Hour

// ParseGrace reads a grace period such as "7d", "36h" or "0"; days are
// accepted because admins think of grace in days.
func ParseGrace(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 7d or 36h", s)
	}
	return d, nil
}

// Grace is the delay before a leaver is removed (Deactivation.RemoveAfter);
// validated settings always parse.
func (d Deactivation) Grace() time.Duration {
	g, _ := ParseGrace(d.RemoveAfter)
	return g
}

// Irreversible reports whether off-boarding under these settings destroys
// something that cannot be brought back: a removal (files handed over or
// left to Dropbox's short recovery window) or a device wipe.
func (d Deactivation) Irreversible() bool {
	return d.Type == DeactivateRemove || d.WipeData
}

// Gentler combines the settings a leaver was off-boarded under with the
// settings in force now: each irreversible step happens only if both ask
// for it, so neither a stale nor a newer setting can make an off-boarding
// harsher than the admin's current and original intent agree on.
func Gentler(was, now Deactivation) Deactivation {
	out := now
	if was.Type != DeactivateRemove || now.Type != DeactivateRemove {
		out.Type = DeactivateSuspend
	}
	out.WipeData = was.WipeData && now.WipeData
	if was.FileManagement != FilesTransfer || now.FileManagement != FilesTransfer || out.Type != DeactivateRemove {
		out.FileManagement, out.TransferDest, out.TransferAdmin = FilesManageInDropbox, "", ""
	}
	if was.Grace() > now.Grace() {
		out.RemoveAfter = was.RemoveAfter
	}
	return out
}

// GuardWindow is the sliding window the deletion guard counts over.
func (g Guard) GuardWindow() time.Duration {
	d, err := time.ParseDuration(g.Window)
	if err != nil || d <= 0 {
		return time.Hour
	}
	return d
}

// Limits are the most off-boardings, and irreversible ones, the guard lets
// through in one window of an app that holds members accounts.
func (g Guard) Limits(members int) (all, irreversible int) {
	return max(g.Min, members*g.Percent/100), g.Irreversible
}

func (g Guard) validate() []error {
	var errs []error
	if g.Percent < 1 || g.Percent > 100 {
		errs = append(errs, fmt.Errorf("deletion_guard.percent must be between 1 and 100, got %d", g.Percent))
	}
	if g.Min < 0 {
		errs = append(errs, fmt.Errorf("deletion_guard.min must not be negative, got %d", g.Min))
	}
	if g.Irreversible < 0 {
		errs = append(errs, fmt.Errorf("deletion_guard.irreversible must not be negative, got %d", g.Irreversible))
	}
	if d, err := time.ParseDuration(g.Window); err != nil || d < time.Minute || d > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("deletion_guard.window must be a duration between 1m and 168h such as \"1h\", got %q", g.Window))
	}
	return errs
}
