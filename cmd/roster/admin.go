package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/internal/api"
)

func newAdminCmd() *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Administer Roster's own database directly (bootstrap)"}
	token := &cobra.Command{Use: "token", Short: "Manage admin API tokens"}
	var db dbFlags
	var name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an admin API token and print it once",
		Long:  "Creates an admin API token directly in the database, so the first token can be made before any exists. The token is printed once and stored only as a hash.",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, _, err := db.open(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			tok, hash, err := api.NewToken()
			if err != nil {
				return err
			}
			if _, err := st.CreateToken(c.Context(), "cli:admin", name, hash); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), tok)
			fmt.Fprintf(c.ErrOrStderr(), "Token %q created. It is shown only now; keep it safe, for example:\n  export ROSTER_TOKEN=<the token above>\n", name)
			return nil
		},
	}
	db.register(create)
	create.Flags().StringVar(&name, "name", "admin", "a name to recognise the token by")
	token.AddCommand(create)
	admin.AddCommand(token)
	return admin
}
