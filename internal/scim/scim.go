// Package scim makes Roster a SCIM 2.0 service provider (RFC 7643, RFC
// 7644; MISSION D5): an IdP or HR system (Okta, Microsoft Entra ID, …)
// pushes users and groups to /scim/v2 with the bearer token of a directory
// source, and each change becomes a directory change through the service
// layer, which queues the app work in the same transaction and wakes the
// worker. A source sees and changes only what it owns (D7).
//
// Filters and PATCH paths are parsed by github.com/scim2/filter-parser/v2;
// the resources, the PATCH semantics and the dialects of real clients are
// ours (see the package's tests for the Okta and Entra sequences).
package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// The schema and message URNs of RFC 7643 and RFC 7644.
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	msgList          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	msgPatch         = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	msgError         = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaSPC        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaRT         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// MaxBody is the largest request body taken; a larger one is a 413.
const MaxBody = 1 << 20

// recordEvery spaces the recording of a source's successful requests.
const recordEvery = 5 * time.Second

// maxResults bounds one page of a list (ServiceProviderConfig says so).
const maxResults = 1000

// Store is what the SCIM service reads; it writes through the service.
type Store interface {
	GetUser(ctx context.Context, username string) (directory.User, error)
	GetUserByExternalKey(ctx context.Context, key string) (directory.User, error)
	ListUsers(ctx context.Context, f store.UserFilter) ([]directory.User, error)
	GetSource(ctx context.Context, name string) (store.Source, error)
	UsersByAttribute(ctx context.Context, source, key, value string) ([]directory.User, error)
	GetSourceGroup(ctx context.Context, source, key string) (store.SourceGroup, error)
	ListSourceGroups(ctx context.Context, source string, after int64, limit int) ([]store.SourceGroup, error)
	SourceGroupByName(ctx context.Context, source, name string) (store.SourceGroup, error)
	GroupMemberRefs(ctx context.Context, groupID int64) ([]store.MemberRef, error)
}

// Server answers SCIM requests.
type Server struct {
	svc *service.Service
	st  Store
	log *slog.Logger
	// seen is when each source's last successful request was recorded
	// (source id -> unix nanos): a busy client is recorded every few
	// seconds, not on every request.
	seen sync.Map
}

// New makes the SCIM service.
func New(svc *service.Service, st Store, log *slog.Logger) *Server {
	return &Server{svc: svc, st: st, log: log}
}

// Error is a SCIM error answer (RFC 7644 §3.12).
type Error struct {
	Status   int
	ScimType string // invalidSyntax, invalidFilter, invalidValue, invalidPath, noTarget, uniqueness, mutability, tooMany; "" for none
	Detail   string
}

func (e *Error) Error() string { return e.Detail }

func errf(status int, scimType, format string, a ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, a...)}
}

func badValue(format string, a ...any) *Error { return errf(400, "invalidValue", format, a...) }
func badPath(format string, a ...any) *Error  { return errf(400, "invalidPath", format, a...) }
func badSyntax(format string, a ...any) *Error {
	return errf(400, "invalidSyntax", format, a...)
}

type handler func(w http.ResponseWriter, r *http.Request, src store.Source) error

// Handler serves SCIM under service.SCIMPath.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	p := service.SCIMPath
	route := func(pattern string, h handler) { mux.Handle(pattern, s.authenticated(h)) }
	route("GET "+p+"/ServiceProviderConfig", s.serviceProviderConfig)
	route("GET "+p+"/ResourceTypes", s.resourceTypes)
	route("GET "+p+"/ResourceTypes/{id}", s.resourceType)
	route("GET "+p+"/Schemas", s.schemas)
	route("GET "+p+"/Schemas/{id}", s.schema)
	route("GET "+p+"/Users", s.listUsers)
	route("POST "+p+"/Users", s.createUser)
	route("GET "+p+"/Users/{id}", s.getUser)
	route("PUT "+p+"/Users/{id}", s.replaceUser)
	route("PATCH "+p+"/Users/{id}", s.patchUser)
	route("DELETE "+p+"/Users/{id}", s.deleteUser)
	route("GET "+p+"/Groups", s.listGroups)
	route("POST "+p+"/Groups", s.createGroup)
	route("GET "+p+"/Groups/{id}", s.getGroup)
	route("PUT "+p+"/Groups/{id}", s.replaceGroup)
	route("PATCH "+p+"/Groups/{id}", s.patchGroup)
	route("DELETE "+p+"/Groups/{id}", s.deleteGroup)
	route(p+"/", func(_ http.ResponseWriter, r *http.Request, _ store.Source) error {
		return errf(404, "", "no SCIM endpoint %s %s (this service has /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas)", r.Method, r.URL.Path)
	})
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// authenticated checks the source's bearer token, then runs h, answers its
// error in SCIM's form and records the request on the source. Neither the
// token nor a body is ever logged.
func (s *Server) authenticated(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("scim handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				writeError(sw, errf(500, "", "internal error; see the server log"))
			}
		}()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
			writeError(sw, errf(401, "", "a bearer token is required (Authorization: Bearer rss_…): the token of a SCIM source made with roster sources add scim NAME"))
			return
		}
		src, err := s.svc.AuthenticateSource(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, directory.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim", error="invalid_token"`)
			writeError(sw, errf(401, "", "the token is not valid: it was rotated, its source removed, or it was never one"))
			return
		}
		if err != nil {
			s.fail(sw, r, err)
			return
		}
		herr := h(sw, r, src)
		if herr != nil {
			s.fail(sw, r, herr)
		}
		s.record(r, src, sw.status, herr)
	})
}

// record notes the request on the source for the Sources page; an error a
// client should look into is kept with its message.
func (s *Server) record(r *http.Request, src store.Source, status int, err error) {
	a := store.Activity{At: time.Now()}
	if status >= 400 && status != http.StatusNotFound && err != nil {
		a.Err = fmt.Sprintf("%s %s: %d %s", r.Method, strings.TrimPrefix(r.URL.Path, service.SCIMPath), status, errorDetail(err))
	} else {
		last, _ := s.seen.Load(src.ID)
		if n, _ := last.(int64); a.At.UnixNano()-n < int64(recordEvery) {
			return
		}
		s.seen.Store(src.ID, a.At.UnixNano())
	}
	if rerr := s.svc.RecordSourceActivity(context.WithoutCancel(r.Context()), src, a); rerr != nil {
		s.log.Warn("record source activity", "source", src.Name, "err", rerr)
	}
}

func errorDetail(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Detail
	}
	return err.Error()
}

// fail maps an error to a SCIM error answer: bad input is a 4xx naming
// what is wrong; anything else is logged and answered 500 without details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *Error
	var taken *service.UserTakenError
	switch {
	case errors.As(err, &se):
	case errors.As(err, &taken):
		se = errf(409, "uniqueness", "%s", taken.Error())
	case errors.Is(err, directory.ErrNotFound):
		se = errf(404, "", "%s", err.Error())
	case errors.Is(err, directory.ErrConflict):
		se = errf(409, "uniqueness", "%s", err.Error())
	case errors.Is(err, directory.ErrInvalidTransition), errors.Is(err, directory.ErrInvalid):
		se = badValue("%s", err.Error())
	case errors.Is(err, context.Canceled):
		se = errf(503, "", "the request was canceled")
	default:
		s.log.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		se = errf(500, "", "internal error; see the server log")
	}
	writeError(w, se)
}

func writeError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"schemas": []string{msgError}, "status": fmt.Sprint(e.Status), "detail": e.Detail}
	if e.ScimType != "" {
		body["scimType"] = e.ScimType
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readObject reads a JSON object body: at most MaxBody bytes (413), valid
// JSON (invalidSyntax), no NUL in any text (which PostgreSQL cannot keep).
func readObject(r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		return nil, errf(413, "", "the request body is larger than %d bytes", MaxBody)
	}
	if err != nil {
		return nil, badSyntax("request body: %v", err)
	}
	if bytes.Contains(data, []byte(`\u0000`)) {
		return nil, badValue("request body: text must not contain NUL (\\u0000) characters")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badSyntax("request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, badSyntax("request body holds more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badSyntax("request body must be a JSON object")
	}
	return m, nil
}

// get finds an attribute of a JSON object whatever its case (SCIM
// attribute names are case-insensitive).
func get(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// location is a resource's address as the client reached this service.
func location(r *http.Request, kind, id string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + service.SCIMPath + "/" + kind + "/" + id
}
