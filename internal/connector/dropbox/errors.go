package dropbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/connector"
)

// maxMsg bounds how much server text goes into an error.
const maxMsg = 500

// envelope is the JSON body of a 401, 403, 409 or 429 answer (reference §2.3).
type envelope struct {
	Summary     string          `json:"error_summary"`
	Error       json.RawMessage `json:"error"`
	UserMessage *struct {
		Text string `json:"text"`
	} `json:"user_message"`
}

// apiError is the inside of envelope.Error: a union whose fields we read loosely.
type apiError struct {
	tag    string
	value  json.RawMessage // the member nested under the tag, if any
	fields map[string]json.RawMessage
}

func parseEnvelope(raw []byte) (envelope, apiError, bool) {
	var env envelope
	if json.Unmarshal(raw, &env) != nil || len(env.Error) == 0 {
		return env, apiError{}, false
	}
	var ae apiError
	if json.Unmarshal(env.Error, &ae.fields) != nil {
		return env, ae, true // e.g. "error": "text"
	}
	_ = json.Unmarshal(ae.fields[".tag"], &ae.tag)
	ae.value = ae.fields[ae.tag]
	return env, ae, true
}

// classify turns a non-200 answer into a *connector.Error (reference §2.3).
func classify(route string, resp *http.Response, raw []byte, tok string) error {
	code := resp.StatusCode
	e := &connector.Error{Op: route, Err: &HTTPError{StatusCode: code}}
	env, ae, isJSON := parseEnvelope(raw)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Kind, e.Tag = connector.Auth, ae.tag
		e.Msg = authMsg(ae, isJSON, raw)
	case code == http.StatusConflict && isJSON:
		e.Kind, e.Tag, e.Reason = kindOfTag(ae.tag), ae.tag, reasonOfTag(ae.tag)
		e.Msg = conflictMsg(env, ae)
	case code == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = connector.RateLimited, retryAfter(resp.Header, ae)
		e.Tag = reasonOf(ae)
	case code >= 500:
		e.Kind, e.Msg = connector.Retryable, text(raw)
		if resp.Header.Get("Retry-After") != "" { // a 503 may say when to come back
			e.RetryAfter = retryAfter(resp.Header, ae)
		}
	default: // 400 (plain text), unknown routes, anything unexpected
		e.Kind, e.Msg = connector.Permanent, text(raw)
	}
	e.Msg = redact(e.Msg, tok)
	return e
}

// kindOfTag classifies a route error tag. Conflict means the state the call
// wanted is (or may already be) reached, so the engine re-reads and re-plans.
func kindOfTag(tag string) connector.Kind {
	switch tag {
	case "user_not_found", "id_not_found", "group_not_found", "user_not_in_team",
		"users_not_found", "members_not_in_team", "group_not_in_team":
		return connector.NotFound
	case "user_already_on_team", "duplicate_external_member_id", "group_name_already_used",
		"external_id_already_in_use", "duplicate_user", "member_not_in_group",
		"unsuspend_non_suspended_member", "suspend_inactive_user", "group_already_deleted":
		return connector.Conflict
	case "internal_error": // an async job broke on Dropbox's side: verify, then retry
		return connector.Retryable
	}
	return connector.Permanent
}

// reasonOfTag maps the tags the engine must act on to neutral reasons.
func reasonOfTag(tag string) error {
	switch tag {
	case "user_already_on_team", "duplicate_external_member_id":
		return connector.ErrAlreadyMember
	case "user_unrecoverable":
		return connector.ErrUnrecoverable
	case "team_license_limit":
		return connector.ErrLicenceLimit
	case "group_not_found", "group_not_in_team":
		return connector.ErrGroupGone
	case "group_name_already_used":
		return connector.ErrGroupNameTaken
	}
	return nil
}

func authMsg(ae apiError, isJSON bool, raw []byte) string {
	if !isJSON {
		return text(raw)
	}
	var scope string
	if json.Unmarshal(ae.fields["required_scope"], &scope) == nil && scope != "" {
		return "required scope " + scope
	}
	return ""
}

// conflictMsg keeps what a human needs: Dropbox's user message and any value
// nested under the tag (e.g. the emails of users_not_found).
func conflictMsg(env envelope, ae apiError) string {
	var parts []string
	if env.UserMessage != nil && env.UserMessage.Text != "" {
		parts = append(parts, env.UserMessage.Text)
	}
	if len(ae.value) > 0 {
		parts = append(parts, string(ae.value))
	}
	return truncate(strings.Join(parts, ": "))
}

// retryAfter reads the wait from the Retry-After header (seconds or a date)
// or the JSON retry_after, taking the longer; the schema default is 1 second.
func retryAfter(h http.Header, ae apiError) time.Duration {
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			d = time.Duration(n * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			d = time.Until(t)
		}
	}
	var n float64
	if json.Unmarshal(ae.fields["retry_after"], &n) == nil {
		d = max(d, time.Duration(n*float64(time.Second)))
	}
	if d <= 0 {
		d = time.Second
	}
	return d
}

// reasonOf is the 429 reason tag; a plain-text 429 counts as too_many_requests.
func reasonOf(ae apiError) string {
	var r struct {
		Tag string `json:".tag"`
	}
	if json.Unmarshal(ae.fields["reason"], &r) == nil && r.Tag != "" {
		return r.Tag
	}
	return "too_many_requests"
}

func text(raw []byte) string { return truncate(strings.TrimSpace(string(raw))) }

func truncate(s string) string {
	if len(s) <= maxMsg {
		return s
	}
	return strings.ToValidUTF8(s[:maxMsg], "") + "…"
}

// redact keeps the token out of errors even if a server echoes it.
func redact(s, tok string) string {
	if tok == "" || !strings.Contains(s, tok) {
		return s
	}
	return strings.ReplaceAll(s, tok, "[redacted]")
}
