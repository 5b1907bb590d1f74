// Package dropbox is the connector for Dropbox Business: a small typed client of
// the Team API v2 routes provisioning needs. It does not use the Dropbox Go SDK,
// which drops `new_roles: []`, cannot clear an external id and ignores Retry-After.
package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/connector"
)

// DefaultBaseURL is the Dropbox API host for RPC routes.
const DefaultBaseURL = "https://api.dropboxapi.com"

// Options configure a Client. Only Token (or TokenSource) is required.
type Options struct {
	// BaseURL is the API host; routes are BaseURL + "/2/team/<route>".
	// Default DefaultBaseURL. Point it at an emulator in tests.
	BaseURL string
	// Token is a team access token.
	Token string
	// TokenSource, when set, is asked for the token before every call (so a
	// refreshed token is used at once) and overrides Token.
	TokenSource func(ctx context.Context) (string, error)
	// TokenExpired, when set with TokenSource, is called when Dropbox
	// answers expired_access_token, before the source is asked again.
	TokenExpired func()
	// HTTPClient defaults to a client with a 2-minute overall timeout.
	HTTPClient *http.Client
	// Pacer, when set, is waited on before every call and told about every 429,
	// so all callers sharing it hold back.
	Pacer connector.Pacer
	// MaxRateLimitRetries is how many times a call refused with 429 is resent
	// (default 5; negative: never).
	MaxRateLimitRetries int
	// MaxRateLimitWait is the longest Retry-After waited for inside a call
	// (default 1 minute); a longer one is returned as RateLimited at once so
	// the engine can reschedule instead of holding a worker.
	MaxRateLimitWait time.Duration
	// ReadRetries is how many times a read is resent after a 5xx or network
	// failure (default 2; negative: never). Writes are never resent.
	ReadRetries int
	// PollInterval is the first wait between polls of an async job
	// (default 50ms); it doubles up to 1s.
	PollInterval time.Duration
	// PollTimeout bounds how long one async job is polled (default 10 minutes).
	PollTimeout time.Duration
	// AddConcurrency is how many add_v2 batches may be in flight (default 4).
	AddConcurrency int
	// GroupManagementType for new groups (default "company_managed": groups
	// pushed from the directory are changed by admins, not by their members).
	GroupManagementType string
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
}

// Client is a Dropbox team connector. It is safe for concurrent use.
type Client struct {
	base        string
	token       func(ctx context.Context) (string, error)
	refreshable bool // a TokenSource may hand out a new token after expired_access_token
	expired     func()
	http        *http.Client
	pacer       connector.Pacer
	maxRL       int
	maxRLWait   time.Duration
	readRetries int
	pollFirst   time.Duration
	pollMax     time.Duration
	pollTimeout time.Duration
	addConc     int
	groupType   string
	log         *slog.Logger

	rolesSem chan struct{}             // guards roles; a channel so waiters honour ctx
	roles    map[connector.Role]string // role → role_id, once resolved
}

var _ connector.Connector = (*Client)(nil)

// New returns a client; zero options take the documented defaults.
func New(opts Options) *Client {
	c := &Client{
		base:        strings.TrimRight(or(opts.BaseURL, DefaultBaseURL), "/"),
		http:        opts.HTTPClient,
		pacer:       opts.Pacer,
		maxRL:       orInt(opts.MaxRateLimitRetries, 5),
		maxRLWait:   orDur(opts.MaxRateLimitWait, time.Minute),
		readRetries: orInt(opts.ReadRetries, 2),
		pollFirst:   orDur(opts.PollInterval, 50*time.Millisecond),
		pollMax:     time.Second,
		pollTimeout: orDur(opts.PollTimeout, 10*time.Minute),
		addConc:     max(1, orInt(opts.AddConcurrency, 4)),
		groupType:   or(opts.GroupManagementType, "company_managed"),
		log:         opts.Logger,
		rolesSem:    make(chan struct{}, 1),
	}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.token, c.refreshable, c.expired = opts.TokenSource, opts.TokenSource != nil, opts.TokenExpired
	if c.token == nil {
		tok := opts.Token
		c.token = func(context.Context) (string, error) { return tok, nil }
	}
	c.pollMax = max(c.pollMax, c.pollFirst)
	return c
}

// NewHTTPClient is the pooled client the connector uses when given none;
// load generators use it too, so that they measure with the same transport.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64 // add batches and engine workers share one host
	t.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// HTTPError is the cause of an *connector.Error made from an HTTP answer.
type HTTPError struct{ StatusCode int }

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d", e.StatusCode) }

// call describes one RPC.
type call struct {
	route string // under /2/team/, e.g. "members/list_v2"
	in    any    // nil: the route takes no argument (Void), so no body is sent
	out   any    // nil: the result is ignored
	read  bool   // no side effects, so it may be resent after a 5xx or lost answer
}

// do runs one RPC: it waits on the pacer, resends after 429 (the request was
// not executed) and, for reads only, after a 5xx or network failure.
func (c *Client) do(ctx context.Context, k call) error {
	var body []byte
	if k.in != nil {
		b, err := json.Marshal(k.in)
		if err != nil {
			return &connector.Error{Kind: connector.Permanent, Op: k.route, Msg: "encode request", Err: err}
		}
		body = b
	}
	refreshed := false
	for rl, rd := 0, 0; ; {
		raw, err := c.once(ctx, k.route, body)
		if err == nil {
			return c.decode(k, raw)
		}
		var e *connector.Error
		if !errors.As(err, &e) {
			return err
		}
		switch {
		case e.Kind == connector.RateLimited:
			if !c.rateLimited(ctx, e, &rl) {
				return err
			}
		case k.read && resendable(e) && rd < c.readRetries && ctx.Err() == nil:
			d := max(backoff(rd), min(e.RetryAfter, c.maxRLWait))
			rd++
			c.log.Warn("dropbox: read failed, retrying", "route", k.route, "err", err, "in", d)
			if sleep(ctx, d) != nil {
				return err
			}
		case e.Tag == "expired_access_token" && c.refreshable && !refreshed:
			refreshed = true // the TokenSource may hand out a fresh token now
			if c.expired != nil {
				c.expired()
			}
		default:
			return err
		}
	}
}

// rateLimited handles one 429: it tells the pacer, then waits Retry-After
// unless the retries are spent or the wait is too long for one call.
func (c *Client) rateLimited(ctx context.Context, e *connector.Error, n *int) bool {
	d := e.RetryAfter
	if c.pacer != nil {
		c.pacer.Pause(d)
	}
	if *n >= c.maxRL || d > c.maxRLWait {
		return false
	}
	*n++
	c.log.Info("dropbox: rate limited, waiting", "route", e.Op, "retry_after", d, "attempt", *n)
	if c.pacer != nil {
		return true // the next call's Pacer.Wait holds back until the pause ends
	}
	return sleep(ctx, d) == nil
}

// rawDecoder is a result that decodes itself, faster than encoding/json.
type rawDecoder interface{ decodeRaw(raw []byte) error }

// resendable tells a read worth sending again: a 5xx or no (usable) answer,
// not a route error such as a poll's internal_error.
func resendable(e *connector.Error) bool {
	var h *HTTPError
	return e.Kind == connector.Retryable && (!errors.As(e, &h) || h.StatusCode >= 500)
}

func (c *Client) decode(k call, raw []byte) error {
	var err error
	switch out := k.out.(type) {
	case nil:
		return nil
	case rawDecoder:
		err = out.decodeRaw(raw)
	default:
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		// The call may have had its effect: let the engine re-read state.
		return &connector.Error{Kind: connector.Retryable, Op: k.route, Msg: "decode response", Err: err}
	}
	return nil
}

// once sends one HTTP request and returns the 200 body or a classified error.
func (c *Client) once(ctx context.Context, route string, body []byte) ([]byte, error) {
	if c.pacer != nil {
		if err := c.pacer.Wait(ctx); err != nil {
			return nil, &connector.Error{Kind: connector.Retryable, Op: route, Msg: "waiting for the pacer", Err: err}
		}
	}
	req, tok, err := c.newRequest(ctx, route, body)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(route, err)
	}
	defer resp.Body.Close()
	raw, err := readBody(resp)
	if err != nil {
		// The answer was lost mid-way: the call may or may not have run.
		return nil, transportError(route, err)
	}
	took := time.Since(start)
	if c.pacer != nil {
		connector.Answered(c.pacer, took, resp.StatusCode)
	}
	c.log.Debug("dropbox: call", "route", route, "status", resp.StatusCode, "took", took)
	if resp.StatusCode == http.StatusOK {
		return raw, nil
	}
	return nil, classify(route, resp, raw, tok)
}

// newRequest builds the POST and returns the token it carries, so that server
// text echoing it can be redacted.
func (c *Client) newRequest(ctx context.Context, route string, body []byte) (*http.Request, string, error) {
	tok, err := c.token(ctx)
	if err != nil {
		var ce *connector.Error
		if errors.As(err, &ce) {
			return nil, "", err
		}
		return nil, "", &connector.Error{Kind: connector.Auth, Op: route, Msg: "get access token", Err: err}
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/2/team/"+route, r)
	if err != nil {
		return nil, "", &connector.Error{Kind: connector.Permanent, Op: route, Msg: "build request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "roster-dropbox/1")
	if body != nil { // Void routes: no body and no Content-Type, like the SDK
		req.Header.Set("Content-Type", "application/json")
	}
	return req, tok, nil
}

// transportError classifies a failure to get an answer: the request may have
// run, so the engine must re-read state before trying again.
func transportError(route string, err error) error {
	msg := "no answer"
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		msg = "timed out"
	}
	return &connector.Error{Kind: connector.Retryable, Op: route, Msg: msg, Err: err}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// orInt maps 0 to def and negatives to 0.
func orInt(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// maxBody bounds an answer read into memory; a longer one fails to decode.
const maxBody = 64 << 20

// readBody reads the answer into a buffer of its announced length when
// there is one (io.ReadAll would grow one from 512 bytes, and a push reads
// thousands of answers of about 10 KiB).
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxBody {
		buf := make([]byte, n)
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxBody))
}
