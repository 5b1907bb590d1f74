package service

import (
	"strings"
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 6, 15, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"7d", now.AddDate(0, 0, -7)},
		{"today", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
		{"Yesterday", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-12-01T09:00:00Z", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseWhen(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "-3h", "-2d", "2026-13-01", "d"} {
		_, err := ParseWhen(bad, now)
		if err == nil || !strings.Contains(err.Error(), "24h or 7d") {
			t.Errorf("ParseWhen(%q) = %v, want a message naming the forms", bad, err)
		}
	}
}
