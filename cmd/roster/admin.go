package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/roster-dev/roster/internal/credential"
	"github.com/roster-dev/roster/internal/store/sqlstore"
	"github.com/roster-dev/roster/internal/web"
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
			tok, hash, err := credential.NewToken()
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
	admin.AddCommand(token, newAdminUserCmd(), newForgetSecretsCmd())
	return admin
}

// newAdminUserCmd manages the local accounts of the web UI. Passwords are
// read from the terminal without echo, or from the first line of stdin when
// it is not a terminal, so they never sit in shell history or argv.
func newAdminUserCmd() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage admin accounts of the web UI"}
	var db dbFlags
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an admin account for the web UI (asks for its password)",
		Long:  "Creates a local admin of the web UI directly in the database. The password is asked twice on a terminal, or read from the first line of stdin (for scripts: printf '%s\\n' \"$PW\" | roster admin user create NAME). Only an argon2id hash of it is stored.",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withPassword(c, &db, func(st *sqlstore.DB, hash []byte) error {
				_, err := st.CreateAdmin(c.Context(), "cli:admin", args[0], hash)
				return err
			}, "Admin %q created; sign in to the web UI with it.\n", args[0])
		},
	}
	var pdb dbFlags
	passwd := &cobra.Command{
		Use:   "set-password NAME",
		Short: "Set an admin's password (signs it out everywhere)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withPassword(c, &pdb, func(st *sqlstore.DB, hash []byte) error {
				return st.SetAdminPassword(c.Context(), "cli:admin", args[0], hash)
			}, "Password of %q changed; its sessions were ended.\n", args[0])
		},
	}
	db.register(create)
	pdb.register(passwd)
	user.AddCommand(create, passwd)
	return user
}

func withPassword(c *cobra.Command, db *dbFlags, do func(*sqlstore.DB, []byte) error, done, name string) error {
	pw, err := readPassword(c)
	if err != nil {
		return err
	}
	if err := web.CheckPasswordPolicy(pw); err != nil {
		return usageErr("%s", strings.TrimPrefix(err.Error(), "invalid: "))
	}
	hash, err := web.HashPassword(pw)
	if err != nil {
		return err
	}
	st, _, err := db.open(c.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	if err := do(st, hash); err != nil {
		return err
	}
	fmt.Fprintf(c.ErrOrStderr(), done, name)
	return nil
}

// readPassword asks twice on a terminal; otherwise it reads one line of stdin.
func readPassword(c *cobra.Command) (string, error) {
	in := c.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.ErrOrStderr(), "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.ErrOrStderr())
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.ErrOrStderr(), "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.ErrOrStderr())
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", usageErr("the two passwords differ")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, web.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
