package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// sourceJSON is a directory source as the API shows it.
type sourceJSON struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Config   json.RawMessage `json:"config"`
	Settings struct {
		Adopt        bool   `json:"adopt"`
		DeactivateAs string `json:"deactivate_as"`
	} `json:"settings"`
	HasSecret   bool       `json:"has_secret"`
	HasToken    bool       `json:"has_token"`
	CreatedAt   time.Time  `json:"created_at"`
	LastRequest *time.Time `json:"last_request_at"`
	LastRun     *time.Time `json:"last_run_at"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	Errors      int64      `json:"errors"`
	Users       int        `json:"users"`
	Groups      int        `json:"groups"`
}

// sourceTokenJSON is the answer carrying a token, shown once.
type sourceTokenJSON struct {
	Name    string `json:"name"`
	BaseURL string `json:"base_url,omitempty"`
	Token   string `json:"token,omitempty"`
}

func newSourcesCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "sources", Short: "Manage directory sources: SCIM clients (an IdP, an HR system) that feed users and groups, and LDAP or Active Directory directories Roster reads"}
	c.AddCommand(sourcesAddCmd(g), sourcesListCmd(g), sourcesGetCmd(g), sourcesSetCmd(g), sourcesRotateCmd(g), sourcesRemoveCmd(g), sourcesSyncCmd(g))
	return c
}

// sourceFlags are a source's settings and config on the command line; its
// secret is read from a file or stdin, never from the command line.
type sourceFlags struct {
	adopt        bool
	deactivateAs string
	config       string
	secretFile   string
	secretStdin  bool
}

func (f *sourceFlags) register(c *cobra.Command) {
	c.Flags().BoolVar(&f.adopt, "adopt", false, "take over an existing user or group of the same name owned by another source or an admin (each takeover is logged); without it such a create is refused")
	c.Flags().StringVar(&f.deactivateAs, "deactivate-as", "", "what the source deactivating a user does: deactivate (default: the apps' deactivation settings apply) or suspend")
	c.Flags().StringVar(&f.config, "config", "", "the kind's own settings as JSON (none for scim)")
	c.Flags().StringVar(&f.secretFile, "secret-file", "", "read the secret Roster uses to reach the source (an LDAP bind password) from this file")
	c.Flags().BoolVar(&f.secretStdin, "secret-stdin", false, "read that secret from standard input")
}

// body sets in m the fields the flags changed.
func (f *sourceFlags) body(c *cobra.Command, m map[string]any) error {
	fl := c.Flags()
	if fl.Changed("adopt") {
		m["adopt"] = f.adopt
	}
	if fl.Changed("deactivate-as") {
		m["deactivate_as"] = f.deactivateAs
	}
	if f.config != "" {
		if !json.Valid([]byte(f.config)) {
			return usageErr("--config must be JSON, such as '{\"url\":\"ldaps://dc.corp.example\"}'")
		}
		m["config"] = json.RawMessage(f.config)
	}
	var data []byte
	var err error
	switch {
	case f.secretFile != "" && f.secretStdin:
		return usageErr("give --secret-file or --secret-stdin, not both")
	case f.secretFile != "":
		data, err = os.ReadFile(f.secretFile)
	case f.secretStdin:
		data, err = io.ReadAll(io.LimitReader(c.InOrStdin(), 8192))
	default:
		return nil
	}
	if err != nil {
		return &exitError{exitNotFound, fmt.Errorf("read the source's secret: %w", err)}
	}
	m["secret"] = strings.TrimRight(string(data), "\r\n")
	return nil
}

func sourcesAddCmd(g *globals) *cobra.Command {
	var f sourceFlags
	var lf ldapFlags
	c := &cobra.Command{
		Use:   "add KIND NAME",
		Short: "Add a directory source and print, once, what it needs to reach Roster",
		Long: "Adds a directory source. For scim it prints, once, the SCIM base URL (<public url>/scim/v2) and a bearer token " +
			"to paste into the IdP (Okta, Entra ID, ...); only the token's hash is stored. -o json prints {\"name\",\"base_url\",\"token\"}. " +
			"For ldap, Roster reads the directory: give --url, --bind-dn, --bind-password-file and --base-dn (the password is stored sealed), " +
			"then run roster sources sync NAME --plan to see what it would do.",
		Example: "  roster sources add scim okta\n  roster sources add scim entra --deactivate-as suspend\n" +
			"  roster sources add ldap corp --url ldaps://dc.corp.example:636 --bind-dn 'CN=roster,OU=Service,DC=corp,DC=example' \\\n" +
			"    --bind-password-file bind.pw --base-dn 'DC=corp,DC=example' --preset ad --scope-group 'CN=Dropbox users,OU=Groups,DC=corp,DC=example' --every 15m",
		Args: exactArgs(2, "KIND and NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			body := map[string]any{"kind": args[0], "name": args[1]}
			if err := f.body(c, body); err != nil {
				return err
			}
			if err := lf.body(c, args[0], body, nil); err != nil {
				return err
			}
			return sourceTokenCall(c, g, "POST", "/api/v1/sources", body, "created")
		},
	}
	f.register(c)
	lf.register(c)
	return c
}

func sourcesRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-token NAME",
		Short: "Give a SCIM source a new token, printed once; the old one stops working at once",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return sourceTokenCall(c, g, "POST", "/api/v1/sources/"+url.PathEscape(args[0])+"/rotate-token", nil, "has a new token")
		},
	}
}

// sourceTokenCall sends a request answered with a source's token and prints it once.
func sourceTokenCall(c *cobra.Command, g *globals, method, path string, body any, what string) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var out sourceTokenJSON
	if err := cl.do(c.Context(), method, path, body, &out); err != nil {
		return err
	}
	w := c.OutOrStdout()
	if g.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "Source %s %s.\n", out.Name, what)
	if out.BaseURL != "" {
		fmt.Fprintf(w, "SCIM base URL: %s\n", out.BaseURL)
	}
	if out.Token != "" {
		fmt.Fprintf(w, "Bearer token:  %s\n", out.Token)
		fmt.Fprintln(c.ErrOrStderr(), "The token is shown only now: paste it into the IdP's provisioning settings (API token / secret token).")
	}
	return nil
}

func sourcesListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List directory sources: what each owns, its last request and its errors",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/sources", nil, &raw); err != nil {
				return err
			}
			var list struct{ Items []sourceJSON }
			if err := json.Unmarshal(raw, &list); err != nil {
				return err
			}
			rows := make([][]string, 0, len(list.Items))
			for _, s := range list.Items {
				rows = append(rows, []string{s.Name, s.Kind, strconv.Itoa(s.Users), strconv.Itoa(s.Groups), when(s.LastRequest, s.LastRun),
					strconv.FormatInt(s.Errors, 10), s.LastError})
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"NAME", "KIND", "USERS", "GROUPS", "LAST SEEN", "ERRORS", "LAST ERROR"}, rows)
		},
	}
}

// when shows the later of a request and a run, or "never".
func when(ts ...*time.Time) string {
	var last *time.Time
	for _, t := range ts {
		if t != nil && (last == nil || t.After(*last)) {
			last = t
		}
	}
	if last == nil {
		return "never"
	}
	return last.Local().Format(time.DateTime)
}

func sourcesGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Show one directory source",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showSource(c, g, "GET", "/api/v1/sources/"+url.PathEscape(args[0]), nil)
		},
	}
}

func sourcesSetCmd(g *globals) *cobra.Command {
	var f sourceFlags
	var lf ldapFlags
	c := &cobra.Command{
		Use:     "set NAME",
		Short:   "Change a source's settings (--adopt, --deactivate-as), config or secret",
		Example: "  roster sources set okta --adopt=true\n  roster sources set okta --deactivate-as suspend",
		Args:    exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			body := map[string]any{}
			if err := f.body(c, body); err != nil {
				return err
			}
			if len(ldapNames(c)) > 0 {
				// The ldap flags change the source's config: start from it.
				if err := setLDAPConfig(c, g, &lf, args[0], body); err != nil {
					return err
				}
			}
			if len(body) == 0 {
				return usageErr("nothing to change: give --adopt, --deactivate-as, --config or a secret")
			}
			return showSource(c, g, "PATCH", "/api/v1/sources/"+url.PathEscape(args[0]), body)
		},
	}
	f.register(c)
	lf.register(c)
	return c
}

func showSource(c *cobra.Command, g *globals, method, path string, body any) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var raw []byte
	if err := cl.do(c.Context(), method, path, body, &raw); err != nil {
		return err
	}
	var s sourceJSON
	if err := json.Unmarshal(raw, &s); err != nil {
		return err
	}
	pairs := [][2]string{{"Name", s.Name}, {"Kind", s.Kind}, {"Users", strconv.Itoa(s.Users)}, {"Groups", strconv.Itoa(s.Groups)},
		{"Adopt", strconv.FormatBool(s.Settings.Adopt)}, {"Deactivate as", s.Settings.DeactivateAs},
		{"Token", map[bool]string{true: "set (shown only when made)", false: "none"}[s.HasToken]},
		{"Last request", when(s.LastRequest)}, {"Last run", when(s.LastRun)},
		{"Errors", strconv.FormatInt(s.Errors, 10)}, {"Last error", s.LastError}, {"Created", s.CreatedAt.Local().Format(time.DateTime)}}
	if s.HasSecret {
		pairs = append(pairs, [2]string{"Secret", "set (sealed)"})
	}
	if len(s.Config) > 0 && string(s.Config) != "{}" {
		pairs = append(pairs, [2]string{"Config", string(s.Config)})
	}
	return fields(c.OutOrStdout(), g, raw, pairs)
}

func sourcesRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a directory source; the users and groups it owned stay and pass to admins (source api)",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "DELETE", "/api/v1/sources/"+url.PathEscape(args[0]), nil, &raw); err != nil {
				return err
			}
			var out struct {
				Users  int `json:"users_detached"`
				Groups int `json:"groups_detached"`
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return err
			}
			if g.output == "json" {
				return printOut(c.OutOrStdout(), g, raw, nil, nil)
			}
			fmt.Fprintf(c.OutOrStdout(), "removed source %s; %d users and %d groups it owned now belong to api\n", args[0], out.Users, out.Groups)
			return nil
		},
	}
}
