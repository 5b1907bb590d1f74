package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/roster-dev/roster/internal/service"
	"github.com/roster-dev/roster/internal/store"
)

// SourceToken is the answer that carries a source's bearer token, shown
// once: on add and on rotate-token.
type SourceToken struct {
	Name    string       `json:"name"`
	BaseURL string       `json:"base_url,omitempty"` // where a SCIM client sends its requests
	Token   string       `json:"token,omitempty"`
	Source  store.Source `json:"source"`
}

func (s *Server) scimBaseURL(r *http.Request) string {
	return service.SCIMBaseURLOf(s.opt.PublicURL, r.TLS != nil, r.Host)
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	srcs, err := s.svc.Sources(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[store.Source]{Items: srcs})
	return nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	src, err := s.svc.Source(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, src)
	return nil
}

// sourceIn is the body of a source's creation.
type sourceIn struct {
	Kind         string          `json:"kind"`
	Name         string          `json:"name"`
	Config       json.RawMessage `json:"config,omitempty"`
	Secret       string          `json:"secret,omitempty"`
	Adopt        bool            `json:"adopt,omitempty"`
	DeactivateAs string          `json:"deactivate_as,omitempty"`
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) error {
	var in sourceIn
	if err := decode(r, &in); err != nil {
		return err
	}
	src, token, err := s.svc.AddSource(r.Context(), actorOf(r), service.NewSource{Kind: in.Kind, Name: in.Name, Config: in.Config, Secret: in.Secret,
		Settings: store.SourceSettings{Adopt: in.Adopt, DeactivateAs: in.DeactivateAs}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.sourceToken(r, src, token))
	return nil
}

func (s *Server) sourceToken(r *http.Request, src store.Source, token string) SourceToken {
	out := SourceToken{Name: src.Name, Token: token, Source: src}
	if src.Kind == store.SourceSCIM {
		out.BaseURL = s.scimBaseURL(r)
	}
	return out
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Config       json.RawMessage `json:"config,omitempty"`
		Secret       *string         `json:"secret,omitempty"`
		Adopt        *bool           `json:"adopt,omitempty"`
		DeactivateAs *string         `json:"deactivate_as,omitempty"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	src, err := s.svc.UpdateSource(r.Context(), actorOf(r), r.PathValue("name"), service.SourceUpdate{
		Config: in.Config, Secret: in.Secret, Adopt: in.Adopt, DeactivateAs: in.DeactivateAs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, src)
	return nil
}

func (s *Server) rotateSourceToken(w http.ResponseWriter, r *http.Request) error {
	src, token, err := s.svc.RotateSourceToken(r.Context(), actorOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sourceToken(r, src, token))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) error {
	users, groups, err := s.svc.RemoveSource(r.Context(), actorOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"users_detached": users, "groups_detached": groups})
	return nil
}

// syncSource reads an LDAP source and applies what changed; with plan it
// only shows what would change. A held sync answers 409 with its plan, a
// failed read 502: in both nothing was applied.
func (s *Server) syncSource(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Plan         bool `json:"plan"`
		AllowDeletes bool `json:"allow_deletes"`
		Incremental  bool `json:"incremental"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := s.svc.SyncSource(r.Context(), actorOf(r), r.PathValue("name"), service.SyncOptions{Plan: in.Plan, AllowDeletes: in.AllowDeletes, Incremental: in.Incremental})
	var held *service.HeldError
	switch {
	case errors.As(err, &held):
		return &apiError{http.StatusConflict, "source_guard", held.Error(), held.Sync}
	case errors.Is(err, service.ErrSourceRead):
		return &apiError{http.StatusBadGateway, "source_read_failed", err.Error(), nil}
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
