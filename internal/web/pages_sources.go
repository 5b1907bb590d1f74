package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// sourceRow is a directory source as the Sources page shows it.
type sourceRow struct {
	store.Source
	LastRequestAt, LastRunAt, LastErrorWhen time.Time
}

// sourcesView is the Sources page: the sources and, right after one was
// added or its token rotated, that token, shown this once.
type sourcesView struct {
	Sources []sourceRow
	BaseURL string
	Shown   *shownToken
	Name    string // the add form's name, kept after a refusal
	// Sync is a plan just shown, or a sync the source's guard held.
	Sync *service.SourceSync
}

type shownToken struct{ Source, Token, BaseURL string }

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSources(w, r, http.StatusOK, nil)
}

func (s *Server) renderSources(w http.ResponseWriter, r *http.Request, status int, shown *shownToken) error {
	return s.renderSourcesWith(w, r, status, sourcesView{Shown: shown})
}

func (s *Server) renderSourcesWith(w http.ResponseWriter, r *http.Request, status int, v sourcesView) error {
	srcs, err := s.svc.Sources(r.Context())
	if err != nil {
		return err
	}
	v.BaseURL = s.scimBaseURL(r)
	for _, src := range srcs {
		v.Sources = append(v.Sources, sourceRow{Source: src, LastRequestAt: deref(src.LastRequest), LastRunAt: deref(src.LastRun), LastErrorWhen: deref(src.LastErrorAt)})
	}
	s.render(w, r, status, "sources", page{Title: "Sources", Nav: "sources", Data: v})
	return nil
}

func (s *Server) scimBaseURL(r *http.Request) string {
	return service.SCIMBaseURLOf(s.opt.PublicURL, r.TLS != nil, r.Host)
}

// createSource adds a SCIM source and shows its token once, on this answer
// only: it is never put in a redirect or a cookie.
func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	src, token, err := s.svc.AddSource(r.Context(), actorOf(r), service.NewSource{Kind: store.SourceSCIM, Name: f.Get("name"),
		Settings: store.SourceSettings{Adopt: f.Get("adopt") == "on", DeactivateAs: f.Get("deactivate_as")}})
	if err != nil {
		return s.actionFailed(w, r, "/sources", err)
	}
	return s.renderSources(w, r, http.StatusCreated, &shownToken{Source: src.Name, Token: token, BaseURL: s.scimBaseURL(r)})
}

func (s *Server) rotateSourceToken(w http.ResponseWriter, r *http.Request) error {
	src, token, err := s.svc.RotateSourceToken(r.Context(), actorOf(r), r.PathValue("name"))
	if err != nil {
		return s.actionFailed(w, r, "/sources", err)
	}
	return s.renderSources(w, r, http.StatusOK, &shownToken{Source: src.Name, Token: token, BaseURL: s.scimBaseURL(r)})
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	adopt, as := f.Get("adopt") == "on", f.Get("deactivate_as")
	src, err := s.svc.UpdateSource(r.Context(), actorOf(r), r.PathValue("name"), service.SourceUpdate{Adopt: &adopt, DeactivateAs: &as})
	if err != nil {
		return s.actionFailed(w, r, "/sources", err)
	}
	s.redirect(w, r, "/sources", "ok", fmt.Sprintf("Source %s saved: adopt %v, deactivating a user %ss it.", src.Name, src.Settings.Adopt, src.Settings.DeactivateAs))
	return nil
}

func (s *Server) removeSource(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	users, groups, err := s.svc.RemoveSource(r.Context(), actorOf(r), name)
	if err != nil {
		return s.actionFailed(w, r, "/sources", err)
	}
	s.redirect(w, r, "/sources", "ok", fmt.Sprintf("Source %s removed; the %d users and %d groups it owned stay and now belong to admins (api).", name, users, groups))
	return nil
}

// createLDAPSource adds an LDAP source from the form; the bind password is
// sealed by the service and never shown again.
func (s *Server) createLDAPSource(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	cfg := map[string]any{"url": f.Get("url"), "bind_dn": f.Get("bind_dn"), "base_dn": f.Get("base_dn"), "preset": f.Get("preset"),
		"user_filter": f.Get("user_filter"), "group_filter": f.Get("group_filter"), "scope_group": f.Get("scope_group"),
		"start_tls": f.Get("start_tls") == "on", "ca": strings.TrimSpace(f.Get("ca")), "every": f.Get("every"),
		"disabled_filter": f.Get("disabled_filter")}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	src, _, err := s.svc.AddSource(r.Context(), actorOf(r), service.NewSource{Kind: store.SourceLDAP, Name: f.Get("name"), Config: raw,
		Secret: f.Get("bind_password"), Settings: store.SourceSettings{Adopt: f.Get("adopt") == "on", DeactivateAs: f.Get("deactivate_as")}})
	if err != nil {
		return s.actionFailed(w, r, "/sources", err)
	}
	s.redirect(w, r, "/sources", "ok", fmt.Sprintf("LDAP source %s added. Show its plan to see what a sync would change.", src.Name))
	return nil
}

// syncSource reads an LDAP source: mode plan shows what would change on
// this page, sync applies it, allow applies what the guard held.
func (s *Server) syncSource(w http.ResponseWriter, r *http.Request) error {
	name, mode := r.PathValue("name"), r.PostForm.Get("mode")
	res, err := s.svc.SyncSource(r.Context(), actorOf(r), name, service.SyncOptions{Plan: mode == "plan", AllowDeletes: mode == "allow"})
	var held *service.HeldError
	switch {
	case errors.As(err, &held):
		res := held.Sync
		return s.renderSourcesWith(w, r, http.StatusConflict, sourcesView{Sync: &res})
	case errors.Is(err, service.ErrSourceRead):
		s.redirect(w, r, "/sources", "error", err.Error())
		return nil
	case err != nil:
		return s.actionFailed(w, r, "/sources", err)
	case mode == "plan":
		return s.renderSourcesWith(w, r, http.StatusOK, sourcesView{Sync: &res})
	}
	s.redirect(w, r, "/sources", "ok", fmt.Sprintf("Source %s synced: %d entries read, %d changes applied (%s).", name, res.Entries, res.Applied, res.Plan.Summary()))
	return nil
}
