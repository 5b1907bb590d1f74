package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

type userJSON struct {
	ID          int64             `json:"id"`
	ExternalKey string            `json:"external_key"`
	Source      string            `json:"source"`
	Username    string            `json:"username"`
	Email       string            `json:"email"`
	FirstName   string            `json:"first_name"`
	LastName    string            `json:"last_name"`
	Status      string            `json:"status"`
	Attributes  map[string]string `json:"attributes"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

func userRow(u userJSON) []string {
	return []string{u.Username, u.Email, strings.TrimSpace(u.FirstName + " " + u.LastName), u.Status}
}

var userHeader = []string{"USERNAME", "EMAIL", "NAME", "STATUS"}

func newUsersCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "users", Short: "Manage directory users"}
	c.AddCommand(usersAddCmd(g), usersListCmd(g), usersGetCmd(g), usersUpdateCmd(g), usersDeleteCmd(g), usersImportCmd(g))
	for _, t := range []struct{ name, short string }{
		{"activate", "Activate a staged user"},
		{"suspend", "Suspend an active user (app accounts are suspended per app settings)"},
		{"unsuspend", "Return a suspended user to active"},
		{"deactivate", "Deactivate a user (off-boarding runs in every assigned app)"},
		{"reactivate", "Reactivate a deactivated user"},
	} {
		c.AddCommand(userTransitionCmd(g, t.name, t.short))
	}
	return c
}

// profileFlags are the user fields add and update accept.
type profileFlags struct {
	email, first, last, status string
	attrs, unset               []string
}

func (p *profileFlags) register(c *cobra.Command, withStatus bool) {
	f := c.Flags()
	f.StringVar(&p.email, "email", "", "email address")
	f.StringVar(&p.first, "first-name", "", "first (given) name")
	f.StringVar(&p.last, "last-name", "", "last name (surname)")
	f.StringArrayVar(&p.attrs, "attr", nil, "profile attribute as name=value (repeatable)")
	if withStatus {
		f.StringVar(&p.status, "status", "", "initial status: staged or active (default active)")
	} else {
		f.StringArrayVar(&p.unset, "unset-attr", nil, "remove a profile attribute (repeatable)")
	}
}

// body builds the JSON body with only the flags that were given.
func (p *profileFlags) body(c *cobra.Command) (map[string]any, error) {
	b := map[string]any{}
	for flag, key := range map[string]string{"email": "email", "first-name": "first_name", "last-name": "last_name", "status": "status"} {
		if f := c.Flags().Lookup(flag); f != nil && f.Changed {
			b[key] = f.Value.String()
		}
	}
	attrs := map[string]any{}
	for _, a := range p.attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usageErr("--attr %q must be name=value", a)
		}
		attrs[k] = v
	}
	for _, k := range p.unset {
		attrs[k] = nil
	}
	if len(attrs) > 0 {
		b["attributes"] = attrs
	}
	return b, nil
}

func usersAddCmd(g *globals) *cobra.Command {
	var p profileFlags
	c := &cobra.Command{
		Use:     "add USERNAME --email EMAIL",
		Short:   "Add a user",
		Example: "  roster users add ann@corp.example --email ann@corp.example --first-name Ann --last-name Lee --attr department=Sales",
		Args:    exactArgs(1, "USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := p.body(c)
			if err != nil {
				return err
			}
			b["username"] = args[0]
			return showUser(c, g, "POST", "/api/v1/users", b)
		},
	}
	p.register(c, true)
	return c
}

func usersUpdateCmd(g *globals) *cobra.Command {
	var p profileFlags
	var rename string
	c := &cobra.Command{
		Use:   "update USERNAME [flags]",
		Short: "Change a user's profile; only the given fields change",
		Args:  exactArgs(1, "USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := p.body(c)
			if err != nil {
				return err
			}
			if rename != "" {
				b["username"] = rename
			}
			if len(b) == 0 {
				return usageErr("nothing to change: give at least one of --email, --first-name, --last-name, --attr, --unset-attr, --username")
			}
			return showUser(c, g, "PATCH", "/api/v1/users/"+url.PathEscape(args[0]), b)
		},
	}
	p.register(c, false)
	c.Flags().StringVar(&rename, "username", "", "a new username")
	return c
}

func userTransitionCmd(g *globals, action, short string) *cobra.Command {
	c := &cobra.Command{
		Use:   action + " USERNAME",
		Short: short,
		Args:  exactArgs(1, "USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showUser(c, g, "POST", "/api/v1/users/"+url.PathEscape(args[0])+"/"+action, nil)
		},
	}
	if action == "suspend" || action == "deactivate" {
		addYesFlag(c, g)
	}
	return c
}

func showUser(c *cobra.Command, g *globals, method, path string, body any) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var raw []byte
	if err := cl.doConfirmed(c, g, method, path, body, &raw); err != nil {
		return err
	}
	var u userJSON
	if err := json.Unmarshal(raw, &u); err != nil {
		return err
	}
	pairs := [][2]string{{"Username", u.Username}, {"Email", u.Email}, {"First name", u.FirstName}, {"Last name", u.LastName},
		{"Status", u.Status}, {"ID", strconv.FormatInt(u.ID, 10)}, {"Source", u.Source}, {"External key", u.ExternalKey},
		{"Created", u.CreatedAt}, {"Updated", u.UpdatedAt}}
	keys := make([]string, 0, len(u.Attributes))
	for k := range u.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pairs = append(pairs, [2]string{k, u.Attributes[k]})
	}
	return fields(c.OutOrStdout(), g, raw, pairs)
}

func usersGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get USERNAME",
		Short: "Show one user",
		Args:  exactArgs(1, "USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showUser(c, g, "GET", "/api/v1/users/"+url.PathEscape(args[0]), nil)
		},
	}
}

func usersListCmd(g *globals) *cobra.Command {
	var status, search, group, source string
	var limit int
	var all bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": status, "search": search, "group": group, "source": source} {
				if v != "" {
					q.Set(k, v)
				}
			}
			return listPaged(c, g, "/api/v1/users", q, limit, all, userHeader, func(raw json.RawMessage) ([]string, error) {
				var u userJSON
				err := json.Unmarshal(raw, &u)
				return userRow(u), err
			})
		},
	}
	f := c.Flags()
	f.StringVar(&status, "status", "", "only users with this status")
	f.StringVar(&search, "search", "", "only users whose username, email or name contains this")
	f.StringVar(&group, "group", "", "only members of this group")
	f.StringVar(&source, "source", "", "only users this source owns (api: created by admins)")
	f.IntVar(&limit, "limit", 100, "users per page (1–1000)")
	f.BoolVar(&all, "all", false, "fetch every page")
	return c
}

// listPaged fetches one page, or all pages with all, and prints them.
func listPaged(c *cobra.Command, g *globals, path string, q url.Values, limit int, all bool, header []string, row func(json.RawMessage) ([]string, error)) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	q.Set("limit", strconv.Itoa(limit))
	var items []json.RawMessage
	for {
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  *int              `json:"next"`
		}
		if err := cl.do(c.Context(), "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		items = append(items, page.Items...)
		if !all || page.Next == nil {
			break
		}
		q.Set("after", strconv.Itoa(*page.Next))
	}
	raw, _ := json.Marshal(map[string]any{"items": items})
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		r, err := row(it)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	return printOut(c.OutOrStdout(), g, raw, header, rows)
}

func usersDeleteCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "delete USERNAME",
		Short: "Delete a deactivated user from the directory",
		Args:  exactArgs(1, "USERNAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			if err := cl.doConfirmed(c, g, "DELETE", "/api/v1/users/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
	addYesFlag(c, g)
	return c
}

func usersImportCmd(g *globals) *cobra.Command {
	var update bool
	c := &cobra.Command{
		Use:   "import-csv FILE",
		Short: "Add users from a CSV file, all or none (--update: add or update)",
		Long: `Adds every user in a CSV file in one step. Use - to read standard input.

The first line names the columns, in any order and case:
  username (or login)                     required
  email (or mail)                         required
  first_name (firstname, given_name)      optional
  last_name (lastname, surname, family_name) optional
  status                                  optional: staged, active (the default), suspended, deprovisioned
Any other column becomes a profile attribute of that name. UTF-8, with or
without a byte-order mark (Excel's "CSV UTF-8").

Every row is checked first: if any row is bad, nothing is loaded and each
problem is listed once, with its line number, in line order. Rows naming a
user that already exists exit 4 (conflict); other problems exit 2.

With --update, a row whose username exists updates that user instead (its
email, and each other cell that is not empty; attribute columns are added to
the user's attributes) and the rest are created, all in one transaction or
nothing; the summary counts created, updated and unchanged users. --update
changes no status: deactivate or suspend with their own commands, which show
what would be off-boarded first.`,
		Example: "  roster users import-csv people.csv\n  roster users import-csv --update people.csv",
		Args:    exactArgs(1, "FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			data, err := readFileArg(args[0])
			if err != nil {
				return err
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			path := "/api/v1/users/import"
			if update {
				path += "?update=true"
			}
			var raw []byte
			if err := cl.do(c.Context(), "POST", path, data, &raw); err != nil {
				return err
			}
			var res struct {
				Created   int `json:"created"`
				Updated   int `json:"updated"`
				Unchanged int `json:"unchanged"`
			}
			_ = json.Unmarshal(raw, &res)
			pairs := [][2]string{{"Created", strconv.Itoa(res.Created)}}
			if update {
				pairs = append(pairs, [2]string{"Updated", strconv.Itoa(res.Updated)}, [2]string{"Unchanged", strconv.Itoa(res.Unchanged)})
			}
			return fields(c.OutOrStdout(), g, raw, pairs)
		},
	}
	c.Flags().BoolVar(&update, "update", false, "update the users that exist (by username) instead of refusing them")
	return c
}

func readFileArg(name string) ([]byte, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{exitNotFound, fmt.Errorf("read %s: no such file", name)}
	}
	if err != nil {
		return nil, usageErr("read %s: %v", name, err)
	}
	return data, nil
}

// exactArgs names the missing argument in its error, unlike cobra.ExactArgs.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s needs %s (got %d argument(s)); see %s --help", c.CommandPath(), names, len(args), c.CommandPath())
		}
		return nil
	}
}
