package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client talks to the Roster API.
type client struct {
	base  string
	token string
	http  *http.Client
}

func (g *globals) client() (*client, error) {
	if g.token == "" {
		return nil, &exitError{exitUnauthorized, errors.New("no API token: set ROSTER_TOKEN (create one with: roster admin token create --name NAME)")}
	}
	u, err := url.Parse(g.addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--addr %q must be an http(s) URL such as http://127.0.0.1:8080", g.addr)
	}
	return &client{base: strings.TrimRight(g.addr, "/"), token: g.token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// apiErrorBody is the API's error envelope.
type apiErrorBody struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"` // a list of line problems, or an object (the deletion guard's)
	} `json:"error"`
}

// lineProblems are the details of an invalid CSV: one per line, in line order.
type lineProblems []struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// do sends a request; body may be nil, a []byte of CSV, or a value to encode as
// JSON. The answer is decoded into out unless out is nil; raw answers go to *[]byte.
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "text/csv"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", ctype)
	resp, err := c.http.Do(req)
	if err != nil {
		return &exitError{exitFailure, fmt.Errorf("cannot reach Roster at %s (is `roster serve` running?): %w", c.base, errors.Unwrap(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		return responseError(resp.StatusCode, data)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = data
		return nil
	default:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("unexpected answer from %s: %w", path, err)
		}
		return nil
	}
}

func responseError(status int, data []byte) error {
	if ce, ok := asConfirmError(data); ok && status == http.StatusConflict {
		return ce
	}
	var e apiErrorBody
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
		var lines lineProblems
		if json.Unmarshal(e.Error.Details, &lines) == nil {
			for _, d := range lines {
				msg += fmt.Sprintf("\n  line %d: %s", d.Line, d.Message)
			}
		}
	} else if json.Valid(data) {
		msg = fmt.Sprintf("the server answered %d without a message", status)
	}
	code := exitFailure
	switch {
	case status == http.StatusUnauthorized:
		code = exitUnauthorized
	case status == http.StatusNotFound:
		code = exitNotFound
	case status == http.StatusConflict:
		code = exitConflict
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge:
		code = exitUsage
	}
	return &exitError{code, errors.New(msg)}
}
