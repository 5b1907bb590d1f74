package sourcesync

import "testing"

func TestGuardLimit(t *testing.T) {
	cases := []struct {
		g     Guard
		owned int
		want  int
	}{
		{DefaultGuard, 0, 5},
		{DefaultGuard, 40, 5},
		{DefaultGuard, 51, 6}, // 10 % rounded up
		{DefaultGuard, 1000, 100},
		{Guard{Percent: 50, Min: 0}, 3, 2},
		{Guard{}, 200, 20}, // unset: the default
	}
	for _, tc := range cases {
		if got := tc.g.Limit(tc.owned); got != tc.want {
			t.Errorf("%+v.Limit(%d) = %d, want %d", tc.g, tc.owned, got, tc.want)
		}
	}
}
