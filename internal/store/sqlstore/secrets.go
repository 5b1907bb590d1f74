package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/roster-dev/roster/internal/store"
)

// ForgetAppSecrets deletes an app's stored token and OAuth client, for when
// the key that sealed them is lost and they must be entered again. The log
// records it.
func (s *DB) ForgetAppSecrets(ctx context.Context, by store.Actor, appName string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		a, err := s.getApp(ctx, tx, appName)
		if err != nil {
			return err
		}
		for _, table := range []string{"app_credentials", "app_oauth_clients"} {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE app_id = ?`), a.ID); err != nil {
				return fmt.Errorf("forget the secrets of app %s: %w", a.Name, err)
			}
		}
		return s.logChange(ctx, tx, by, "app.secrets.forget", "app", a.Name, a.Name, nil)
	})
}
