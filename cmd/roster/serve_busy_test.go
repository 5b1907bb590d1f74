package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeOnABusyPortFailsAtOnce: serve listens before it starts any
// worker, so a port in use is reported at once with exit 1, instead of
// after the workers have run until a signal.
func TestServeOnABusyPortFailsAtOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	t.Setenv("ROSTER_SECRET_KEY", "")
	// Without the fix serve runs until its context ends: a bound on it
	// turns that into a visible failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--database", filepath.Join(t.TempDir(), "r.db"), "--listen", busy.Addr().String()}, nil, &out, &errOut)
	}()
	select {
	case code := <-done:
		if code != exitFailure || !strings.Contains(errOut.String(), "address already in use") {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		if strings.Contains(errOut.String(), "worker") {
			t.Fatalf("workers ran before the port was checked:\n%s", errOut.String())
		}
	case <-ctx.Done():
		t.Fatal("serve kept running on a busy port")
	}
}
