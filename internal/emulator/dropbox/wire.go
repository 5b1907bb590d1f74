package dropbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Wire helpers: how answers are written and arguments read (reference §1, §2.3).

func writeJSON(w http.ResponseWriter, status int, v any) {
	if b, ok := w.(*bufferedResponse); ok { // encode straight into the held answer
		b.body.Reset()
		enc := json.NewEncoder(&b.body)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			b.body.Reset()
			writeText(w, http.StatusInternalServerError, "emulator: cannot encode answer: "+err.Error())
			return
		}
		b.header.Set("Content-Type", "application/json")
		b.status = status
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeText(w, http.StatusInternalServerError, "emulator: cannot encode answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// tagged is a void union member, as responses always write it: {".tag": t}.
type tagged struct {
	Tag string `json:".tag"`
}

// errorEnvelope is the body of every JSON 401, 409 and 429.
type errorEnvelope struct {
	Summary string `json:"error_summary"`
	Error   any    `json:"error"`
}

// unionValue renders a union member: void, or with its value nested under
// the tag (primitive, list or union members, reference §1.1).
func unionValue(tag string, value ...any) map[string]any {
	out := map[string]any{".tag": tag}
	if len(value) == 1 {
		out[tag] = value[0]
	}
	return out
}

// badRequest answers 400 in plain text, as Dropbox does for malformed calls.
func badRequest(w http.ResponseWriter, route, msg string) {
	writeText(w, http.StatusBadRequest, fmt.Sprintf("Error in call to API function %q: %s", route, msg))
}

func authError(w http.ResponseWriter, e map[string]any) {
	writeJSON(w, http.StatusUnauthorized, errorEnvelope{Summary: e[".tag"].(string) + "/..", Error: e})
}

// argError is a malformed argument; its text follows "request body: ".
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func argErr(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

// at prefixes an argument error with the field it was found in.
func at(field string, err error) error {
	if err == nil {
		return nil
	}
	return argErr("%s: %s", field, err.Error())
}

func missing(field string) error { return argErr("missing required field '%s'", field) }

// jsonError words a decoding error the way Dropbox's 400s do.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	var ae *argError
	switch {
	case errors.As(err, &ae):
		return ae.msg
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s: expected %s, got %s", fieldPath(te.Field), jsonType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("expected %s, got %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	return "could not decode input as JSON"
}

// fieldPath drops list indexes from a decoding error's field, so the answer
// keeps the wording the emulator has always given ("new_members.member_email"):
// from Go 1.27 encoding/json says "new_members.0.member_email".
func fieldPath(field string) string {
	parts := strings.Split(field, ".")
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool {
		_, err := strconv.Atoi(p)
		return err == nil
	}), ".")
}

func jsonType(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "slice":
		return "list"
	case "int", "int64", "uint32", "uint64":
		return "integer"
	}
	return kind
}

// union is a tagged union value as a request may write it: {".tag": t, …}
// or, for a void member, the bare string t (reference §1.1).
type union struct {
	tag    string
	fields map[string]json.RawMessage
}

func parseUnion(raw json.RawMessage) (union, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return union{tag: s}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return union{}, argErr("expected a union object with \".tag\"")
	}
	var tag string
	if err := json.Unmarshal(fields[".tag"], &tag); err != nil || tag == "" {
		return union{}, argErr("missing required field '.tag'")
	}
	return union{tag: tag, fields: fields}, nil
}

// str reads a union member's nested string value.
func (u union) str() (string, error) {
	raw, ok := u.fields[u.tag]
	if !ok || isNull(raw) {
		return "", missing(u.tag)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", argErr("%s: expected string", u.tag)
	}
	return v, nil
}

// strs reads a union member's nested list of strings.
func (u union) strs() ([]string, error) {
	raw, ok := u.fields[u.tag]
	if !ok || isNull(raw) {
		return nil, missing(u.tag)
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, argErr("%s: expected list of strings", u.tag)
	}
	return v, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" }

// voidTag reads a closed union of void members, e.g. GroupAccessType.
func voidTag(raw json.RawMessage, allowed ...string) (string, error) {
	u, err := parseUnion(raw)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if u.tag == a {
			return u.tag, nil
		}
	}
	return "", argErr("unknown tag '%s'", u.tag)
}

// selector is a UserSelectorArg (reference §4.1).
type selector struct{ Tag, Value string }

func parseUser(raw json.RawMessage) (selector, error) {
	if isNull(raw) {
		return selector{}, argErr("expected a user selector")
	}
	u, err := parseUnion(raw)
	if err != nil {
		return selector{}, err
	}
	switch u.tag {
	case "team_member_id", "email", "external_id":
	default:
		return selector{}, argErr("unknown tag '%s'", u.tag)
	}
	v, err := u.str()
	if err == nil && u.tag == "email" {
		err = at("email", checkEmail(v))
	}
	if err == nil && u.tag == "external_id" {
		err = at("external_id", checkLen(v, 64))
	}
	return selector{u.tag, v}, err
}

// optionalUser reads an optional UserSelectorArg; nil when absent.
func optionalUser(raw json.RawMessage, field string) (*selector, error) {
	if isNull(raw) {
		return nil, nil
	}
	sel, err := parseUser(raw)
	if err != nil {
		return nil, at(field, err)
	}
	return &sel, nil
}

// groupSelector is a GroupSelector (reference §4.1).
type groupSelector struct{ Tag, Value string }

func parseGroup(raw json.RawMessage) (groupSelector, error) {
	if isNull(raw) {
		return groupSelector{}, argErr("expected a group selector")
	}
	u, err := parseUnion(raw)
	if err != nil {
		return groupSelector{}, err
	}
	if u.tag != "group_id" && u.tag != "group_external_id" {
		return groupSelector{}, argErr("unknown tag '%s'", u.tag)
	}
	v, err := u.str()
	return groupSelector{u.tag, v}, err
}

var (
	emailRE = regexp.MustCompile(`^['#&A-Za-z0-9._%+-]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z]{2,15}$`)
	roleRE  = regexp.MustCompile(`^pid_dbtmr:.*$`)
)

const namePattern = `[^/:?*<>"|]*`

func checkEmail(v string) error {
	if err := checkLen(v, 255); err != nil {
		return err
	}
	if !emailRE.MatchString(v) {
		return argErr("'%s' did not match pattern '%s'", v, emailRE.String())
	}
	return nil
}

// checkName validates an OptionalNamePart (reference §1.2).
func checkName(v string) error {
	if err := checkLen(v, 50); err != nil {
		return err
	}
	if strings.ContainsAny(v, `/:?*<>"|`) {
		return argErr("'%s' did not match pattern '%s'", v, namePattern)
	}
	return nil
}

func checkLen(v string, n int) error {
	if l := utf8.RuneCountInString(v); l > n {
		return argErr("'%s' must be at most %d characters, got %d", v, n, l)
	}
	return nil
}

func checkItems(n, most int) error {
	if n > most {
		return argErr("%d items exceeds limit of %d", n, most)
	}
	return nil
}

// limitArg reads an optional UInt32 limit in 1..1000, default 1000 (reference §5.3, §7.3).
func limitArg(v *int64) (int, error) {
	if v == nil {
		return 1000, nil
	}
	if *v < 1 || *v > 1000 {
		return 0, argErr("limit: %d is not within range [1, 1000]", *v)
	}
	return int(*v), nil
}

// optString checks an optional string field with check, if set.
func optString(field string, v *string, check func(string) error) error {
	if v == nil {
		return nil
	}
	return at(field, check(*v))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
