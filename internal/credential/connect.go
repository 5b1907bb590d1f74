package credential

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// Connect returns how the workers, the API and the UI reach an app: its
// connector, by kind, from its stored, encrypted token. The token is
// decrypted only here, for the life of the connector; a token from an OAuth
// connection is renewed before it expires. The result is an engine.Connect.
func Connect(st TokenStore, box *secret.Box, kinds *connector.Registry, log *slog.Logger) func(context.Context, app.Instance, connector.Pacer) (connector.Connector, error) {
	return func(ctx context.Context, a app.Instance, p connector.Pacer) (connector.Connector, error) {
		// An app saved before plain http was limited to loopback: no token in the clear.
		if err := app.CheckBaseURL(a.BaseURL); err != nil {
			return nil, fmt.Errorf("%w: app %s: %w; set its base_url again", directory.ErrInvalid, a.Name, err)
		}
		toks, err := NewTokens(ctx, st, box, a, nil)
		if err != nil {
			return nil, err
		}
		opt := connector.OpenOptions{BaseURL: a.BaseURL, Pacer: p, Logger: log.With("app", a.Name)}
		if toks.Renewable() {
			opt.TokenSource, opt.TokenExpired = toks.Token, toks.Expired
		} else if opt.Token, err = toks.Token(ctx); err != nil {
			return nil, err
		}
		return kinds.Open(ctx, a.Kind, opt)
	}
}
