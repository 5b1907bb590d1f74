package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/store"
)

// SourceKind is what one kind of directory source brings to the use cases:
// whether it calls Roster with a bearer token (SCIM) or Roster reaches it
// with a secret (an LDAP bind password), and the check of its own config.
// A new kind plugs in by adding itself to DefaultSourceKinds.
type SourceKind struct {
	Kind  string
	Title string
	// Token: the source calls Roster with a bearer token, made on add and
	// on rotate-token and shown once.
	Token bool
	// Secret: the source may keep a secret Roster uses to reach it; it is
	// sealed with Roster's key and never shown again.
	Secret bool
	// CheckConfig validates and normalises the kind's non-secret config
	// (JSON); nil accepts only an empty one.
	CheckConfig func(config json.RawMessage) (json.RawMessage, error)
}

// DefaultSourceKinds are the kinds of source this binary has.
func DefaultSourceKinds() []SourceKind {
	return []SourceKind{
		{Kind: store.SourceSCIM, Title: "SCIM 2.0 (an IdP or HR system pushes users and groups)", Token: true},
		LDAPSourceKind(),
	}
}

// ErrNoSources says that this server's store keeps no sources.
var ErrNoSources = fmt.Errorf("%w: this server's store keeps no directory sources", directory.ErrInvalid)

// SCIMPath is where the SCIM 2.0 service is mounted.
const SCIMPath = "/scim/v2"

// SCIMBaseURL is the base URL a SCIM client is given for a Roster reached
// at publicURL.
func SCIMBaseURL(publicURL string) string { return strings.TrimRight(publicURL, "/") + SCIMPath }

func (s *Service) sources() (store.Sources, error) {
	src, ok := s.st.(store.Sources)
	if !ok {
		return nil, ErrNoSources
	}
	return src, nil
}

func (s *Service) sourceKind(kind string) (SourceKind, error) {
	kinds := s.opt.SourceKinds
	if kinds == nil {
		kinds = DefaultSourceKinds()
	}
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if k.Kind == kind {
			return k, nil
		}
		names = append(names, k.Kind)
	}
	return SourceKind{}, fmt.Errorf("%w: source kind %q is not one of %s", directory.ErrInvalid, kind, strings.Join(names, ", "))
}

// Sources lists the directory sources, with what each owns.
func (s *Service) Sources(ctx context.Context) ([]store.Source, error) {
	st, err := s.sources()
	if err != nil {
		return nil, err
	}
	return st.ListSources(ctx)
}

// Source shows one source.
func (s *Service) Source(ctx context.Context, name string) (store.Source, error) {
	st, err := s.sources()
	if err != nil {
		return store.Source{}, err
	}
	return st.GetSource(ctx, name)
}

// NewSource is a source to add.
type NewSource struct {
	Kind     string
	Name     string
	Config   json.RawMessage
	Secret   string // sealed before it is stored; "" for none
	Settings store.SourceSettings
}

// checkConfig runs the kind's check of its config.
func (k SourceKind) checkConfig(config json.RawMessage) (json.RawMessage, error) {
	if k.CheckConfig != nil {
		return k.CheckConfig(config)
	}
	if t := bytes.TrimSpace(config); len(t) != 0 && string(t) != "{}" && string(t) != "null" {
		return nil, fmt.Errorf("%w: a %s source takes no config", directory.ErrInvalid, k.Kind)
	}
	return json.RawMessage(`{}`), nil
}

// AddSource creates a source. For a kind that calls Roster with a token, it
// returns the token, shown once: only its hash is stored.
func (s *Service) AddSource(ctx context.Context, by store.Actor, in NewSource) (store.Source, string, error) {
	st, err := s.sources()
	if err != nil {
		return store.Source{}, "", err
	}
	if err := s.allow(ctx, by, "source.create", in.Name); err != nil {
		return store.Source{}, "", err
	}
	k, err := s.sourceKind(in.Kind)
	if err != nil {
		return store.Source{}, "", err
	}
	src := store.Source{Name: store.NormalizeSourceName(in.Name), Kind: k.Kind, Settings: in.Settings}
	if err := store.ValidSourceName(src.Name); err != nil {
		return src, "", err
	}
	if src.Config, err = k.checkConfig(in.Config); err != nil {
		return src, "", err
	}
	sealed, err := s.sealSourceSecret(k, src.Name, in.Secret)
	if err != nil {
		return src, "", err
	}
	var token string
	var hash []byte
	if k.Token {
		if token, hash, err = credential.NewSourceToken(); err != nil {
			return src, "", err
		}
	}
	if err := st.CreateSource(ctx, by, &src, sealed, hash); err != nil {
		return src, "", err
	}
	return src, token, nil
}

// sealSourceSecret seals a source's secret to the source; nil for none.
func (s *Service) sealSourceSecret(k SourceKind, name, secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	if !k.Secret {
		return nil, fmt.Errorf("%w: a %s source keeps no secret", directory.ErrInvalid, k.Kind)
	}
	if s.box == nil {
		return nil, fmt.Errorf("%w: this server has no secret key to seal the source's secret with", directory.ErrInvalid)
	}
	return s.box.Seal([]byte(secret), credential.SourceSecretContext(name))
}

// SourceUpdate changes a source; nil fields are left as they are.
type SourceUpdate struct {
	Config       json.RawMessage // nil: unchanged
	Adopt        *bool
	DeactivateAs *string
	Secret       *string // "" drops the secret
}

// UpdateSource changes a source's config, settings or secret.
func (s *Service) UpdateSource(ctx context.Context, by store.Actor, name string, up SourceUpdate) (store.Source, error) {
	st, err := s.sources()
	if err != nil {
		return store.Source{}, err
	}
	if err := s.allow(ctx, by, "source.update", name); err != nil {
		return store.Source{}, err
	}
	cur, err := st.GetSource(ctx, name)
	if err != nil {
		return cur, err
	}
	k, err := s.sourceKind(cur.Kind)
	if err != nil {
		return cur, err
	}
	var config json.RawMessage
	if up.Config != nil {
		if config, err = k.checkConfig(up.Config); err != nil {
			return cur, err
		}
	}
	var sealed []byte
	if up.Secret != nil {
		if sealed, err = s.sealSourceSecret(k, cur.Name, *up.Secret); err != nil {
			return cur, err
		}
	}
	if up.Config != nil || up.Adopt != nil || up.DeactivateAs != nil {
		cur, err = st.UpdateSource(ctx, by, name, func(src *store.Source) error {
			if config != nil {
				src.Config = config
			}
			if up.Adopt != nil {
				src.Settings.Adopt = *up.Adopt
			}
			if up.DeactivateAs != nil {
				src.Settings.DeactivateAs = *up.DeactivateAs
			}
			return nil
		})
		if err != nil {
			return cur, err
		}
	}
	if up.Secret != nil {
		if err := st.SetSourceSecret(ctx, by, cur.Name, sealed); err != nil {
			return cur, err
		}
		return st.GetSource(ctx, cur.Name)
	}
	return cur, nil
}

// RotateSourceToken gives a source a new bearer token, shown once; the old
// one stops working at once.
func (s *Service) RotateSourceToken(ctx context.Context, by store.Actor, name string) (store.Source, string, error) {
	st, err := s.sources()
	if err != nil {
		return store.Source{}, "", err
	}
	if err := s.allow(ctx, by, "source.rotate_token", name); err != nil {
		return store.Source{}, "", err
	}
	src, err := st.GetSource(ctx, name)
	if err != nil {
		return src, "", err
	}
	k, err := s.sourceKind(src.Kind)
	if err != nil {
		return src, "", err
	}
	if !k.Token {
		return src, "", fmt.Errorf("%w: a %s source has no token: Roster calls it", directory.ErrInvalid, src.Kind)
	}
	token, hash, err := credential.NewSourceToken()
	if err != nil {
		return src, "", err
	}
	if err := st.SetSourceToken(ctx, by, src.Name, hash); err != nil {
		return src, "", err
	}
	src.HasToken = true
	return src, token, nil
}

// RemoveSource deletes a source. Its users and groups stay in the
// directory and pass to api: admins own them from now on.
func (s *Service) RemoveSource(ctx context.Context, by store.Actor, name string) (users, groups int, err error) {
	st, err := s.sources()
	if err != nil {
		return 0, 0, err
	}
	if err := s.allow(ctx, by, "source.delete", name); err != nil {
		return 0, 0, err
	}
	return st.DeleteSource(ctx, by, name)
}

// SourceSecret opens a source's sealed secret, for the code that reaches
// the source (an LDAP bind); "" when it has none. Never log it.
func (s *Service) SourceSecret(ctx context.Context, src store.Source) (string, error) {
	st, err := s.sources()
	if err != nil {
		return "", err
	}
	sealed, err := st.SourceSecret(ctx, src.ID)
	if err != nil || sealed == nil {
		return "", err
	}
	if s.box == nil {
		return "", fmt.Errorf("open the secret of source %s: this server has no secret key", src.Name)
	}
	plain, err := s.box.Open(sealed, credential.SourceSecretContext(src.Name))
	if err != nil {
		return "", fmt.Errorf("open the secret of source %s: %w", src.Name, err)
	}
	return string(plain), nil
}

// AuthenticateSource finds the source a bearer token belongs to;
// directory.ErrNotFound when none does.
func (s *Service) AuthenticateSource(ctx context.Context, token string) (store.Source, error) {
	st, err := s.sources()
	if err != nil {
		return store.Source{}, err
	}
	if !credential.LooksLikeSourceToken(token) {
		return store.Source{}, fmt.Errorf("%w: source token", directory.ErrNotFound)
	}
	return st.SourceByTokenHash(ctx, credential.HashToken(token))
}

// RecordSourceActivity notes a source's request, run or error for the
// Sources page.
func (s *Service) RecordSourceActivity(ctx context.Context, src store.Source, a store.Activity) error {
	st, err := s.sources()
	if err != nil {
		return err
	}
	if a.At.IsZero() {
		a.At = s.opt.Now()
	}
	return st.RecordSourceActivity(ctx, src.ID, a)
}

// SCIMBaseURLOf is SCIMBaseURL for a request: the configured public URL
// when there is one, else the address the request came to.
func SCIMBaseURLOf(publicURL string, tls bool, host string) string {
	if publicURL != "" {
		return SCIMBaseURL(publicURL)
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return SCIMBaseURL(scheme + "://" + host)
}
