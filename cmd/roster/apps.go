package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type appJSON struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	BaseURL  string `json:"base_url"`
	HasToken bool   `json:"has_token"`
	Settings struct {
		Provisioning bool            `json:"provisioning"`
		Features     map[string]bool `json:"features"`
		Silent       bool            `json:"silent_provisioning"`
		Deactivation struct {
			Type           string `json:"type"`
			WipeData       bool   `json:"wipe_data"`
			FileManagement string `json:"file_management"`
			TransferDest   string `json:"transfer_dest_email"`
			TransferAdmin  string `json:"transfer_admin_email"`
			RemoveAfter    string `json:"remove_after"`
		} `json:"deactivation"`
		Guard struct {
			Percent      int    `json:"percent"`
			Min          int    `json:"min"`
			Irreversible int    `json:"irreversible"`
			Window       string `json:"window"`
		} `json:"deletion_guard"`
		Budget struct {
			CallsPerSecond    any     `json:"calls_per_second"` // "auto" or a number
			MaxCallsPerSecond float64 `json:"max_calls_per_second"`
		} `json:"budget"`
		FullSync struct {
			Every string `json:"every"`
		} `json:"full_sync"`
		Import struct {
			MatchOn          string   `json:"match_on"`
			PartialNames     bool     `json:"partial_names"`
			AutoConfirmExact bool     `json:"auto_confirm_exact"`
			AutoConfirmNew   bool     `json:"auto_confirm_new"`
			AutoActivateNew  bool     `json:"auto_activate_new"`
			SafeguardPercent int      `json:"safeguard_percent"`
			AppSourced       []string `json:"app_sourced"`
		} `json:"import"`
	} `json:"settings"`
	// Notes say what saving did beyond what was asked.
	Notes  []string `json:"notes"`
	Pacing *struct {
		Auto    bool      `json:"auto"`
		Rate    float64   `json:"calls_per_second"`
		Reason  string    `json:"reason"`
		Since   time.Time `json:"since"`
		Last429 time.Time `json:"last_429"`
		At      time.Time `json:"at"`
	} `json:"pacing"`
}

// callRate says how fast Roster may call the app and, once a worker has,
// how fast it does now and why.
func (a appJSON) callRate() [][2]string {
	b := a.Settings.Budget
	set := "auto"
	if n, ok := b.CallsPerSecond.(float64); ok && n > 0 {
		set = fmt.Sprintf("fixed, %g calls/s (paced at 80 %%)", n)
	} else if b.MaxCallsPerSecond > 0 {
		set = fmt.Sprintf("auto, at most %g calls/s", b.MaxCallsPerSecond)
	}
	out := [][2]string{{"Call rate", set}}
	if p := a.Pacing; p != nil {
		now := fmt.Sprintf("%.1f calls/s, %s since %s", p.Rate, p.Reason, p.Since.Local().Format(time.DateTime))
		if !p.Last429.IsZero() {
			now += fmt.Sprintf("; last 429 at %s", p.Last429.Local().Format(time.DateTime))
		}
		out = append(out, [2]string{"  Now", now})
	}
	return out
}

const settingKeys = `Settings (KEY=VALUE, dotted for nested ones):
  provisioning=true|false                enable provisioning for this app
  silent_provisioning=true|false         create members without a welcome email (needs SSO required and a verified domain)
  features.push_new_users, features.push_profile_updates, features.push_deactivation,
  features.reactivate_users, features.import_new_users, features.import_profile_updates,
  features.push_groups=true|false
  deactivation.type=suspend|remove       suspend is recommended: files are kept
  deactivation.wipe_data=true|false      wipe linked devices on deactivation
  deactivation.file_management=manage_in_dropbox|transfer
  deactivation.transfer_dest_email=EMAIL  member who receives a removed user's files
  deactivation.transfer_admin_email=EMAIL team admin told about transfer errors
  deactivation.remove_after=DURATION     grace before a removal, e.g. 7d: suspended at once, removed after it ("" none)
  deletion_guard.percent=N, deletion_guard.min=N, deletion_guard.irreversible=N, deletion_guard.window=DURATION
                                         hold off-boardings beyond N% of members (never fewer than min) or beyond
                                         N removals and wipes within the window (default 20, 10, 10, 1h) for an admin
  budget.calls_per_second=auto|N        calls a second to this team, over the whole fleet: auto (the default)
                                         finds the team's limit by trial (starts at 5, rises while calls
                                         succeed, backs off on 429 and on slower answers); N is a fixed rate
  budget.max_calls_per_second=N          cap on an auto rate (0: none but 10,000)
  full_sync.every=DURATION               list the team and repair drift on a schedule, e.g. 24h ("" off)
  import.match_on=username|email|username_or_email   how an import matches members (default username_or_email)
  import.partial_names, import.auto_confirm_exact, import.auto_confirm_new, import.auto_activate_new=true|false
  import.safeguard_percent=N             an import that would unassign more than N% stops (default 20)
  import.app_sourced=first_name,last_name,email   attributes Dropbox is the source of ("" none)
  base_url=URL                           Dropbox API base (default the real one); https, or http only for
                                         127.0.0.1, ::1 or localhost; a new one drops the stored token
                                         unless --dropbox-token-file or --dropbox-token-stdin gives one
  name=NEW-NAME`

func newAppsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "apps", Short: "Manage app instances (one Dropbox team each)"}
	c.AddCommand(appsAddCmd(g), appsListCmd(g), appsShowCmd(g), appsSetCmd(g), appsTestCmd(g), appsPendingCmd(g))
	c.AddCommand(appsOffboardingCmds(g)...)
	return c
}

// tokenFlags read a Dropbox token from a file or stdin, never from the command line.
type tokenFlags struct {
	file  string
	stdin bool
}

func (t *tokenFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&t.file, "dropbox-token-file", "", "read the Dropbox team access token from this file")
	c.Flags().BoolVar(&t.stdin, "dropbox-token-stdin", false, "read the Dropbox team access token from standard input")
}

func (t *tokenFlags) read(in io.Reader) (string, bool, error) {
	var data []byte
	var err error
	switch {
	case t.file != "" && t.stdin:
		return "", false, usageErr("give --dropbox-token-file or --dropbox-token-stdin, not both")
	case t.file != "":
		data, err = os.ReadFile(t.file)
	case t.stdin:
		data, err = io.ReadAll(io.LimitReader(in, 8192))
	default:
		return "", false, nil
	}
	if err != nil {
		return "", false, usageErr("read Dropbox token: %v", err)
	}
	return strings.TrimSpace(string(data)), true, nil
}

func appsAddCmd(g *globals) *cobra.Command {
	var baseURL string
	var tok tokenFlags
	c := &cobra.Command{
		Use:     "add NAME [KEY=VALUE...]",
		Short:   "Add a Dropbox app instance",
		Long:    "Adds a Dropbox team as an app instance, with default settings (provisioning off; deactivation removes and wipes, no file transfer) changed by any KEY=VALUE given.\n\n" + settingKeys,
		Example: "  roster apps add dropbox --dropbox-token-file token.txt provisioning=true deactivation.type=suspend",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			body, err := settingsBody(args[1:])
			if err != nil {
				return err
			}
			body["name"], body["kind"] = args[0], "dropbox"
			if baseURL != "" {
				body["base_url"] = baseURL
			}
			if t, ok, err := tok.read(c.InOrStdin()); err != nil {
				return err
			} else if ok {
				body["token"] = t
			}
			return showApp(c, g, "POST", "/api/v1/apps", body)
		},
	}
	c.Flags().StringVar(&baseURL, "base-url", "", "Dropbox API base URL (default https://api.dropboxapi.com)")
	tok.register(c)
	return c
}

func appsSetCmd(g *globals) *cobra.Command {
	var tok tokenFlags
	c := &cobra.Command{
		Use:     "set NAME [KEY=VALUE...]",
		Short:   "Change an app's settings or token",
		Long:    "Changes only the settings given. Settings are checked as a whole and refused with the reason when they do not fit together.\n\n" + settingKeys,
		Example: "  roster apps set dropbox deactivation.type=remove deactivation.file_management=transfer \\\n    deactivation.transfer_dest_email=archive@corp.example deactivation.transfer_admin_email=it@corp.example",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			path := "/api/v1/apps/" + url.PathEscape(args[0])
			t, hasTok, err := tok.read(c.InOrStdin())
			if err != nil {
				return err
			}
			if !hasTok && len(args) == 1 {
				return usageErr("nothing to change: give KEY=VALUE settings or a Dropbox token")
			}
			if len(args) == 1 {
				if err := cl.do(c.Context(), "PUT", path+"/token", map[string]string{"token": t}, nil); err != nil {
					return err
				}
				return showApp(c, g, "GET", path, nil)
			}
			body, err := settingsBody(args[1:])
			if err != nil {
				return err
			}
			if hasTok { // with the settings, so that a new base_url keeps it
				body["token"] = t
			}
			return showApp(c, g, "PATCH", path, body)
		},
	}
	tok.register(c)
	return c
}

// settingsBody turns KEY=VALUE pairs into the API's JSON: name and base_url at
// the top, everything else nested under settings by its dots.
func settingsBody(pairs []string) (map[string]any, error) {
	body := map[string]any{}
	settings := map[string]any{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErr("%q must be KEY=VALUE; see roster apps set --help", p)
		}
		if k == "name" || k == "base_url" {
			body[k] = v
			continue
		}
		node := settings
		parts := strings.Split(k, ".")
		for _, part := range parts[:len(parts)-1] {
			next, ok := node[part].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[part] = next
			}
			node = next
		}
		node[parts[len(parts)-1]] = settingValue(k, v)
	}
	if len(settings) > 0 {
		body["settings"] = settings
	}
	return body, nil
}

// settingValue is the JSON of a typed value: true and false are booleans,
// digits numbers, a list setting (import.app_sourced) comma-separated names.
func settingValue(key, v string) any {
	if key == "import.app_sourced" {
		list := []string{}
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		return list
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && strings.Contains(v, ".") {
		return f
	}
	if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		return b
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
		return x // e.g. budget.calls_per_second=0.5
	}
	return v
}

func appsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List app instances",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/apps", nil, &raw); err != nil {
				return err
			}
			var l struct{ Items []appJSON }
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			rows := make([][]string, len(l.Items))
			for i, a := range l.Items {
				rows[i] = []string{a.Name, a.Kind, onOff(a.Settings.Provisioning), yesNo(a.HasToken), a.BaseURL}
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"NAME", "KIND", "PROVISIONING", "TOKEN", "BASE URL"}, rows)
		},
	}
}

func appsShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show an app's settings",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showApp(c, g, "GET", "/api/v1/apps/"+url.PathEscape(args[0]), nil)
		},
	}
}

func showApp(c *cobra.Command, g *globals, method, path string, body any) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var raw []byte
	if err := cl.do(c.Context(), method, path, body, &raw); err != nil {
		return err
	}
	var a appJSON
	if err := json.Unmarshal(raw, &a); err != nil {
		return err
	}
	s := a.Settings
	d := s.Deactivation
	pairs := [][2]string{
		{"Name", a.Name}, {"Kind", a.Kind}, {"Base URL", a.BaseURL}, {"Token", map[bool]string{true: "set (encrypted)", false: "not set"}[a.HasToken]},
		{"Provisioning", onOff(s.Provisioning)}, {"Silent provisioning", onOff(s.Silent)},
	}
	for _, f := range []string{"push_new_users", "push_profile_updates", "push_deactivation", "reactivate_users", "import_new_users", "import_profile_updates", "push_groups"} {
		pairs = append(pairs, [2]string{"  " + f, onOff(s.Features[f])})
	}
	pairs = append(pairs, [2]string{"Deactivation", d.Type}, [2]string{"Wipe linked devices", yesNo(d.WipeData)},
		[2]string{"File management", d.FileManagement})
	if d.FileManagement == "transfer" {
		pairs = append(pairs, [2]string{"  Transfer files to", d.TransferDest}, [2]string{"  Notify admin", d.TransferAdmin})
	}
	if d.RemoveAfter != "" {
		pairs = append(pairs, [2]string{"Remove after", d.RemoveAfter + " (suspended until then)"})
	}
	pairs = append(pairs, [2]string{"Deletion guard", fmt.Sprintf("%d%% of members (at least %d), or %d removals and wipes, within %s",
		s.Guard.Percent, s.Guard.Min, s.Guard.Irreversible, s.Guard.Window)})
	pairs = append(pairs, a.callRate()...)
	pairs = append(pairs, [2]string{"Full sync", or(s.FullSync.Every, "off", "every ")})
	im := s.Import
	pairs = append(pairs, [2]string{"Import", ""},
		[2]string{"  match_on", im.MatchOn}, [2]string{"  partial_names", onOff(im.PartialNames)},
		[2]string{"  auto_confirm_exact", onOff(im.AutoConfirmExact)}, [2]string{"  auto_confirm_new", onOff(im.AutoConfirmNew)},
		[2]string{"  auto_activate_new", onOff(im.AutoActivateNew)}, [2]string{"  safeguard_percent", fmt.Sprintf("%d%%", im.SafeguardPercent)},
		[2]string{"  app_sourced", or(strings.Join(im.AppSourced, ", "), "none", "")})
	if err := fields(c.OutOrStdout(), g, raw, pairs); err != nil || g.output == "json" {
		return err
	}
	for _, n := range a.Notes {
		fmt.Fprintln(c.OutOrStdout(), "Note:", n)
	}
	return nil
}

// or is prefix+v, or none when v is empty.
func or(v, none, prefix string) string {
	if v == "" {
		return none
	}
	return prefix + v
}

func onOff(b bool) string { return map[bool]string{true: "on", false: "off"}[b] }
func yesNo(b bool) string { return map[bool]string{true: "yes", false: "no"}[b] }
