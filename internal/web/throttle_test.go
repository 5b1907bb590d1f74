package web

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := backoff{free: 3, first: time.Second, max: 15 * time.Minute}
	cases := []struct {
		fails int
		want  time.Duration
	}{{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {12, 512 * time.Second}, {13, 15 * time.Minute}, {40, 15 * time.Minute}, {1 << 30, 15 * time.Minute}}
	for _, c := range cases {
		if got := b.delay(c.fails); got != c.want {
			t.Errorf("delay(%d) = %v, want %v", c.fails, got, c.want)
		}
	}
}

// TestTalliesDropTheQuietestFirst: a full table makes room by dropping the
// key counted longest ago, never one counted since; quiet keys are forgotten.
func TestTalliesDropTheQuietestFirst(t *testing.T) {
	t0 := time.Now()
	tt := newTallies(backoff{free: 1, first: time.Second, max: time.Minute, forget: time.Hour}, 3)
	for i, k := range []string{"a", "b", "c", "a"} {
		tt.count(k, t0.Add(time.Duration(i)*time.Second))
	}
	tt.count("d", t0.Add(4*time.Second))
	now := t0.Add(5 * time.Second)
	for k, want := range map[string]int{"a": 2, "b": 0, "c": 1, "d": 1} {
		got := 0
		if tl := tt.get(k, now); tl != nil {
			got = tl.fails
		}
		if got != want {
			t.Errorf("%s: %d failures, want %d", k, got, want)
		}
	}
	// a's second failure, at 3 s, makes it wait 2 s: until 5 s.
	if w := tt.wait("a", t0.Add(4*time.Second)); w != time.Second {
		t.Errorf("a waits %v at 4 s, want 1s", w)
	}
	if tt.get("a", t0.Add(3*time.Second+time.Hour)) != nil || tt.lru.Len() != 2 {
		t.Errorf("a quiet key is not forgotten")
	}
}

func TestSourceOf(t *testing.T) {
	cases := map[string]string{
		"192.0.2.1:1234":        "192.0.2.1",
		"[::ffff:192.0.2.1]:80": "192.0.2.1",
		"[2001:db8::1]:5":       "2001:db8::/64",
		"[2001:db8::ff:1]:6":    "2001:db8::/64",
		"[2001:db8:0:1::1]:7":   "2001:db8:0:1::/64",
		"not an address":        "not an address",
	}
	for in, want := range cases {
		if got := sourceOf(&http.Request{RemoteAddr: in}); got != want {
			t.Errorf("sourceOf(%q) = %q, want %q", in, got, want)
		}
	}
}
