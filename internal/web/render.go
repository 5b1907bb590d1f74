package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/engine"
	"github.com/roster-dev/roster/internal/service"
)

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // which top-level section is current
	Actor  string
	CSRF   string
	Flash  *flash
	Error  string   // a problem with what was submitted
	Errors []string // each problem on its own, when there are several
	Data   any
	// Refresh reloads the page after this many seconds (a job's progress).
	Refresh int
	Tasks   int // open tasks, counted in the navigation
}

type flash struct{ Kind, Msg string }

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"join":       strings.Join,
	"actionName": actionName,
	"lines":      entryLines,
	"changeKey":  service.ChangeKey,
	"q":          url.QueryEscape,
	"p":          url.PathEscape,
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
	"sortedKeys": func(m map[string][2]string) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	},
	"detail": func(m map[string]any) string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		parts := make([]string, len(ks))
		for i, k := range ks {
			parts[i] = fmt.Sprintf("%s=%v", k, m[k])
		}
		return strings.Join(parts, " ")
	},
}

// parsePages parses each page with the shared layout and partials.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page through the layout. It renders into a buffer first,
// so a template error becomes an error page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if se := sessionOf(r); se != nil {
		p.Actor = strings.TrimPrefix(string(se.Actor), "web:")
		if p.CSRF == "" {
			p.CSRF = se.csrf
		}
		p.Tasks = s.openTasks(r)
	}
	if p.Flash == nil {
		p.Flash = s.takeFlash(w, r)
	}
	t, ok := s.pages[name]
	var buf bytes.Buffer
	if !ok {
		s.log.Error("no such template", "page", name)
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// openTasks counts the tasks of every app for the navigation; a failure
// to count only leaves the count out.
func (s *Server) openTasks(r *http.Request) int {
	stats, err := s.st.QueueStats(r.Context())
	if err != nil {
		s.log.Warn("count tasks", "err", err)
		return 0
	}
	n := 0
	for _, q := range stats {
		n += q.Tasks
	}
	return n
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", page{Title: http.StatusText(status), Error: msg, Data: status})
}

// fail shows an error page. Domain errors explain themselves; anything else
// is logged and shown as a generic message, so internals never leak.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.classify(r, err)
	if status == 0 {
		return
	}
	s.renderError(w, r, status, msg)
}

func (s *Server) classify(r *http.Request, err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, "The form is larger than 1 MiB."
	case errors.Is(err, directory.ErrInvalidTransition), errors.Is(err, engine.ErrGuard):
		return http.StatusConflict, userMessage(err)
	case errors.Is(err, directory.ErrInvalid):
		return http.StatusBadRequest, userMessage(err)
	case errors.Is(err, directory.ErrNotFound):
		return http.StatusNotFound, userMessage(err)
	case errors.Is(err, directory.ErrConflict):
		return http.StatusConflict, userMessage(err)
	case errors.Is(err, context.Canceled):
		return 0, ""
	}
	s.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "Something went wrong on the server; the details are in the server log."
}

// userMessage drops the sentinel's own word ("invalid: …") from an error.
func userMessage(err error) string {
	msg := err.Error()
	for again := true; again; {
		again = false
		for _, p := range []string{"invalid status transition: ", "invalid: ", "not found: ", "conflict: "} {
			if m, ok := strings.CutPrefix(msg, p); ok {
				msg, again = m, true
			}
		}
	}
	return msg
}

// problems splits a joined validation error into one line per problem.
func problems(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = userMessage(errors.New(strings.TrimSpace(l))); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	s.renderError(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	return nil
}

const flashCookie = "roster_flash"

// redirect sends the browser on after a form (post/redirect/get) with a
// one-time message for the next page.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, kind, msg string) {
	if msg != "" {
		if len(msg) > 1500 {
			msg = msg[:1500] + "…"
		}
		s.setCookie(w, r, flashCookie, kind+":"+url.QueryEscape(msg), 60)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	s.setCookie(w, r, flashCookie, "", -1)
	kind, msg, ok := strings.Cut(c.Value, ":")
	if !ok || (kind != "ok" && kind != "error") {
		return nil
	}
	m, err := url.QueryUnescape(msg)
	if err != nil {
		return nil
	}
	return &flash{Kind: kind, Msg: m}
}

// actionFailed turns a failed button action into a message on the page it came
// from, when the error is one an admin can act on.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, back string, err error) error {
	status, msg := s.classify(r, err)
	switch status {
	case 0:
	case http.StatusInternalServerError:
		s.renderError(w, r, status, msg) // classify logged the details
	default:
		s.redirect(w, r, back, "error", msg)
	}
	return nil
}
