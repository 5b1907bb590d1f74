package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// AdminClient drives the admin endpoint of an emulator running in another
// process (for example `roster emulate dropbox`), so a test or benchmark
// there reads the same counters Server.Stats gives in-process.
type AdminClient struct {
	BaseURL string       // the emulator's base URL, e.g. "http://127.0.0.1:8765"
	Token   string       // its --admin-token; "" when the endpoint is open
	HTTP    *http.Client // nil: http.DefaultClient
}

// Stats reads every counter: GET /_emulator/stats.
func (a AdminClient) Stats(ctx context.Context) (StatsReport, error) {
	var r StatsReport
	err := a.do(ctx, http.MethodGet, "/_emulator/stats", nil, &r)
	return r, err
}

// TeamStats reads one team's counters: GET /_emulator/teams/{team}/stats.
func (a AdminClient) TeamStats(ctx context.Context, team string) (Stats, error) {
	var st Stats
	err := a.do(ctx, http.MethodGet, "/_emulator/teams/"+url.PathEscape(team)+"/stats", nil, &st)
	return st, err
}

// ResetStats sets every counter to zero: DELETE /_emulator/stats.
func (a AdminClient) ResetStats(ctx context.Context) error {
	return a.do(ctx, http.MethodDelete, "/_emulator/stats", nil, nil)
}

// SetFaults replaces the injected faults: PUT /_emulator/faults.
func (a AdminClient) SetFaults(ctx context.Context, f Faults) error {
	return a.do(ctx, http.MethodPut, "/_emulator/faults", map[string]string{"spec": f.String()}, nil)
}

func (a AdminClient) do(ctx context.Context, method, path string, in, out any) error {
	if err := a.send(ctx, method, path, in, out); err != nil {
		return fmt.Errorf("emulator admin %s %s: %w", method, path, err)
	}
	return nil
}

func (a AdminClient) send(ctx context.Context, method, path string, in, out any) error {
	req, err := a.request(ctx, method, path, in)
	if err != nil {
		return err
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	switch {
	case err != nil:
		return err
	case res.StatusCode/100 != 2:
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(b))
	case out == nil:
		return nil
	}
	return json.Unmarshal(b, out)
}

func (a AdminClient) request(ctx context.Context, method, path string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	return req, nil
}
