package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one health condition; nil means healthy.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Health serves 200 when every check passes and 503 otherwise. The answer
// says only "ok" or "unavailable", unless detail allows the request to see
// each check's result: an error may name the database's host, port and user.
func Health(detail func(*http.Request) bool, checks ...Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		status, out := http.StatusOK, map[string]string{}
		for _, c := range checks {
			out[c.Name] = "ok"
			if err := c.Fn(ctx); err != nil {
				status, out[c.Name] = http.StatusServiceUnavailable, err.Error()
			}
		}
		body := map[string]any{"status": "ok"}
		if status != http.StatusOK {
			body["status"] = "unavailable"
		}
		if detail(r) {
			body["checks"] = out
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	})
}
