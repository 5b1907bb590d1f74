// Package httplimit bounds what an HTTP client can hold on a Roster server:
// the time to send a request's headers and body, to take the answer, to sit
// idle between requests, and the size of a body. The deadlines are short for
// anyone; a handler lifts them with Trust once it has authenticated the
// request, since an admin's sync or CSV upload may rightly take minutes.
package httplimit

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Limits of a server.
type Limits struct {
	ReadHeader time.Duration // to send the request's headers
	Read       time.Duration // to send the whole request, body included, until trusted
	Write      time.Duration // from the end of the headers to the end of the answer, until trusted
	Idle       time.Duration // between requests on a kept-alive connection
	MaxBody    int64         // bytes in any request body; routes may set lower limits
}

// Default limits: anonymous requests (sign-in, probes, static files) answer
// in well under a second, and the largest body is the 64 MiB CSV import.
func Default() Limits {
	return Limits{
		ReadHeader: 10 * time.Second,
		Read:       30 * time.Second,
		Write:      60 * time.Second,
		Idle:       30 * time.Second,
		MaxBody:    64 << 20,
	}
}

// Server returns a server of h with these limits.
func (l Limits) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           l.Handler(h),
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
	}
}

type trustKey struct{}

// Handler bounds the body of every request to h, refusing one that says it
// is larger at once with 413, and lets h call Trust.
func (l Limits) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > l.MaxBody {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, `{"error":{"code":"too_large","message":"the request body is larger than %d MiB"}}`+"\n", l.MaxBody>>20)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, l.MaxBody)
		// The connection's own writer, not a wrapper a handler may see.
		rc := http.NewResponseController(w)
		lift := func() {
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), trustKey{}, lift)))
	})
}

// Trust lifts the read and write deadlines of an authenticated request, so a
// long sync or a slow upload is not cut; the body limits stay. It does
// nothing outside a Handler.
func Trust(r *http.Request) {
	if lift, ok := r.Context().Value(trustKey{}).(func()); ok {
		lift()
	}
}
