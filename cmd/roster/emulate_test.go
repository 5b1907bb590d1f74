package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// `roster emulate dropbox` listens on loopback unless told otherwise, and
// refuses an address reachable from other hosts unless --admin-token guards
// /_emulator/, which can rewrite any team's state.
func TestEmulateListensOnLoopbackOrNeedsAdminToken(t *testing.T) {
	def := newEmulateDropboxCmd().Flags().Lookup("addr").DefValue
	host, _, err := net.SplitHostPort(def)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		t.Fatalf("default --addr %q is not a loopback address", def)
	}
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "192.0.2.1:0"} {
		// Bounded: an emulator that wrongly starts stops after a while.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var out, errOut strings.Builder
		code := run(ctx, []string{"emulate", "dropbox", "--addr", addr}, strings.NewReader(""), &out, &errOut)
		cancel()
		if code != exitUsage || !strings.Contains(errOut.String(), "--admin-token") {
			t.Errorf("--addr %s without --admin-token: exit %d, stderr %q; want %d naming --admin-token", addr, code, errOut.String(), exitUsage)
		}
	}
	// A name that resolves to loopback needs no admin token.
	base := startEmulateCmd(t, "--addr", "localhost:0")
	resp, err := http.Get(base + "/_emulator/teams")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open admin endpoint on localhost: status %d", resp.StatusCode)
	}
}

// With --admin-token, /_emulator/ answers only that bearer token, and the
// Team API keeps answering the team token.
func TestEmulateAdminToken(t *testing.T) {
	base := startEmulateCmd(t, "--addr", "127.0.0.1:0", "--token", "team-tok", "--admin-token", "adm-tok")
	for _, c := range []struct {
		name, path, auth string
		want             int
	}{
		{"admin, no token", "/_emulator/teams", "", http.StatusUnauthorized},
		{"admin, team token", "/_emulator/teams", "Bearer team-tok", http.StatusUnauthorized},
		{"admin, wrong token", "/_emulator/teams", "Bearer adm-tok2", http.StatusUnauthorized},
		{"admin, admin token", "/_emulator/teams", "Bearer adm-tok", http.StatusOK},
		{"team API, team token", "/2/team/get_info", "Bearer team-tok", http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+c.path, nil)
		if strings.HasPrefix(c.path, "/_emulator/") {
			req.Method = http.MethodGet
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}

// startEmulateCmd runs `roster emulate dropbox ARGS...` until the test ends
// and returns its base URL, read from the banner.
func startEmulateCmd(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errOut strings.Builder
	go func() {
		done <- run(ctx, append([]string{"emulate", "dropbox"}, args...), strings.NewReader(""), pw, &errOut)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("emulate exited %d: %s", code, errOut.String())
		}
	})
	sc := bufio.NewScanner(pr)
	if !sc.Scan() {
		t.Fatal("no banner")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, base, ok := strings.Cut(sc.Text(), "listening on ")
	if !ok {
		t.Fatalf("banner %q", sc.Text())
	}
	return base
}

// --write-limit R is the faults' writes_per_sec=R, refused with it or when
// not a positive rate.
func TestEmulateWriteLimit(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--write-limit", "-2"}, "--write-limit must be a number"},
		{[]string{"--write-limit", "5", "--faults", "writes_per_sec=3"}, "give one"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var out, errOut strings.Builder
		code := run(ctx, append([]string{"emulate", "dropbox", "--addr", "127.0.0.1:0"}, tc.args...), strings.NewReader(""), &out, &errOut)
		cancel()
		if code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut.String(), exitUsage, tc.want)
		}
	}
	base := startEmulateCmd(t, "--addr", "127.0.0.1:0", "--write-limit", "7")
	resp, err := http.Get(base + "/_emulator/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "writes_per_sec=7") {
		t.Fatalf("faults with --write-limit 7: %s", body)
	}
}
