package service

import (
	"context"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store"
)

// SetAppToken stores a pasted team access token for the app, sealed to it;
// it is never shown again.
func (s *Service) SetAppToken(ctx context.Context, by store.Actor, a app.Instance, token string) error {
	if err := s.allow(ctx, by, "app.credential", a.Name); err != nil {
		return err
	}
	return credential.SetAppToken(ctx, s.st, s.box, by, a, token)
}
