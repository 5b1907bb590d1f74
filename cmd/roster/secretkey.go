package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/store/sqlstore"
)

// sealedStore is where the sealed secrets are.
type sealedStore interface {
	ListApps(ctx context.Context) ([]app.Instance, error)
	AppCredential(ctx context.Context, appID int64) ([]byte, error)
	OAuthClient(ctx context.Context, appID int64) (store.OAuthClient, error)
}

// sealedValue is one stored secret and the context it was sealed to.
type sealedValue struct {
	app, context string
	data         []byte
}

// storedSecrets lists every sealed value in the database: app tokens and
// OAuth client secrets and refresh tokens.
func storedSecrets(ctx context.Context, st sealedStore) ([]sealedValue, error) {
	apps, err := st.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	var out []sealedValue
	for _, a := range apps {
		cred, err := st.AppCredential(ctx, a.ID)
		switch {
		case err == nil:
			out = append(out, sealedValue{a.Name, credential.AppSecretContext(a.ID), cred})
		case !errors.Is(err, directory.ErrNotFound):
			return nil, err
		}
		c, err := st.OAuthClient(ctx, a.ID)
		switch {
		case err == nil:
			out = append(out, sealedValue{a.Name, credential.OAuthSecretContext(a.ID), c.SealedSecret})
			if len(c.SealedRefresh) > 0 {
				out = append(out, sealedValue{a.Name, credential.OAuthRefreshContext(a.ID), c.SealedRefresh})
			}
		case !errors.Is(err, directory.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// unreadable names the apps with a secret that box (nil: no key) cannot open.
func unreadable(box *secret.Box, sealed []sealedValue) []string {
	var apps []string
	for _, v := range sealed {
		if box != nil {
			if _, err := box.Open(v.data, v.context); err == nil {
				continue
			}
		}
		if !slices.Contains(apps, v.app) {
			apps = append(apps, v.app)
		}
	}
	return apps
}

// openKey returns the key that opens every secret stored in st. It makes a
// new key file only when no secret is stored: a new key would open none of
// them, and Roster would run with every app failing.
func openKey(ctx context.Context, st sealedStore, getenv func(string) string, path string) (*secret.Box, error) {
	sealed, err := storedSecrets(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read the stored secrets: %w", err)
	}
	box, err := secret.Read(getenv, path)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case missing && len(sealed) == 0:
		return secret.Load(getenv, path)
	case err != nil && !missing:
		return nil, err
	}
	if apps := unreadable(box, sealed); len(apps) > 0 {
		return nil, &keyError{source: secret.Source(getenv, path), path: path, missing: missing, apps: apps}
	}
	return box, nil
}

// keyError says that the key given does not open the stored secrets, where
// it came from, and the two ways out.
type keyError struct {
	source, path string
	missing      bool
	apps         []string
}

func (e *keyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the stored credentials of app(s) %s cannot be decrypted: ", strings.Join(e.apps, ", "))
	if e.missing {
		fmt.Fprintf(&b, "%s does not exist (no new key was made, since it could not open them either).\n", e.source)
	} else {
		fmt.Fprintf(&b, "%s does not decrypt them.\n", e.source)
	}
	fmt.Fprintf(&b, "Restore the key that encrypted them: put the old key file back at %s (mode 600), or set %s to that key, and start again.\n", e.path, secret.EnvKey)
	b.WriteString("If that key is lost, the credentials cannot be recovered: delete them with\n" +
		"  roster admin forget-secrets --yes   (with the same --database, and key file or " + secret.EnvKey + ")\n" +
		"then start Roster and enter them again: roster apps set APP --dropbox-token-file FILE,\n" +
		"or the app key and secret and \"Authenticate with Dropbox Business\" in the web UI.")
	return b.String()
}

// newForgetSecretsCmd deletes the stored secrets the key given cannot open,
// the way out when the key that sealed them is lost.
func newForgetSecretsCmd() *cobra.Command {
	var db dbFlags
	var yes bool
	c := &cobra.Command{
		Use:   "forget-secrets",
		Short: "Delete stored app credentials that the secret key cannot decrypt (the key is lost)",
		Long: "Lists the apps whose stored Dropbox token or OAuth client the secret key cannot decrypt and, with --yes, deletes them, " +
			"so that Roster starts again with a new key. Enter them again afterwards: roster apps set APP --dropbox-token-file FILE, " +
			"or the app key and secret in the web UI. Restore the old key instead if you can: nothing else recovers them.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := db.openStore(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			return forgetSecrets(c, st, db.keyPath(), yes)
		},
	}
	db.register(c)
	c.Flags().BoolVar(&yes, "yes", false, "delete them (without it, only list them)")
	return c
}

func forgetSecrets(c *cobra.Command, st *sqlstore.DB, keyPath string, yes bool) error {
	ctx := c.Context()
	box, err := secret.Read(os.Getenv, keyPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sealed, err := storedSecrets(ctx, st)
	if err != nil {
		return err
	}
	apps := unreadable(box, sealed)
	if len(apps) == 0 {
		fmt.Fprintf(c.OutOrStdout(), "%s decrypts every stored secret; nothing to forget.\n", secret.Source(os.Getenv, keyPath))
		return nil
	}
	if !yes {
		return usageErr("%s cannot decrypt the secrets of app(s) %s; run again with --yes to delete them", secret.Source(os.Getenv, keyPath), strings.Join(apps, ", "))
	}
	for _, name := range apps {
		if err := st.ForgetAppSecrets(ctx, "cli:admin", name); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "Forgot the secrets of app %s; enter them again: roster apps set %s --dropbox-token-file FILE\n", name, name)
	}
	return nil
}
