package service

import (
	"context"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store"
)

// Tokens lists the admin API tokens (never their secrets).
func (s *Service) Tokens(ctx context.Context) ([]store.Token, error) {
	ts, err := s.st.ListTokens(ctx)
	if ts == nil && err == nil {
		ts = []store.Token{}
	}
	return ts, err
}

// CreateToken makes an admin API token and returns its secret, shown once:
// only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, by store.Actor, name string) (store.Token, string, error) {
	if err := s.allow(ctx, by, "token.create", name); err != nil {
		return store.Token{}, "", err
	}
	secret, hash, err := credential.NewToken()
	if err != nil {
		return store.Token{}, "", err
	}
	t, err := s.st.CreateToken(ctx, by, name, hash)
	return t, secret, err
}

// DeleteToken revokes an admin API token.
func (s *Service) DeleteToken(ctx context.Context, by store.Actor, id int64) error {
	if err := s.allow(ctx, by, "token.delete", ""); err != nil {
		return err
	}
	return s.st.DeleteToken(ctx, by, id)
}
