package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newLogCmd(g *globals) *cobra.Command {
	var actor, action, target, targetKind, app, outcome, since, until string
	var limit int
	c := &cobra.Command{
		Use:     "log",
		Short:   "Show the system log, newest first",
		Example: "  roster log --target ann@corp.example\n  roster log --app dropbox --outcome failure --since 24h",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{"actor": actor, "action": action, "target": target, "target_kind": targetKind,
				"app": app, "outcome": outcome, "since": since, "until": until} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var raw []byte
			if err := cl.do(c.Context(), "GET", "/api/v1/log?"+q.Encode(), nil, &raw); err != nil {
				return err
			}
			var l struct {
				Items []struct {
					At      string         `json:"at"`
					Actor   string         `json:"actor"`
					Action  string         `json:"action"`
					Kind    string         `json:"target_kind"`
					Target  string         `json:"target"`
					App     string         `json:"app"`
					Outcome string         `json:"outcome"`
					Message string         `json:"message"`
					Detail  map[string]any `json:"detail"`
				}
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			rows := make([][]string, len(l.Items))
			for i, e := range l.Items {
				detail := e.Message
				if len(e.Detail) > 0 {
					b, _ := json.Marshal(e.Detail)
					detail = strings.TrimSpace(detail + " " + string(b))
				}
				rows[i] = []string{e.At, e.Actor, e.Action, e.Kind + ":" + e.Target, e.App, e.Outcome, detail}
			}
			return printOut(c.OutOrStdout(), g, raw, []string{"TIME", "ACTOR", "ACTION", "TARGET", "APP", "OUTCOME", "DETAIL"}, rows)
		},
	}
	f := c.Flags()
	f.StringVar(&actor, "actor", "", "who made the change (token:NAME, engine, …)")
	f.StringVar(&action, "action", "", "action, such as user.suspend or assign")
	f.StringVar(&target, "target", "", "username, group or app name")
	f.StringVar(&targetKind, "target-kind", "", "user, group, app or token")
	f.StringVar(&app, "app", "", "app instance")
	f.StringVar(&outcome, "outcome", "", "success, failure or skipped")
	f.StringVar(&since, "since", "", "a duration ago (24h, 7d), today, yesterday, a date (2026-12-01) or an RFC 3339 time")
	f.StringVar(&until, "until", "", "RFC 3339 time or a duration ago")
	f.IntVar(&limit, "limit", 50, "entries to show (1–1000)")
	return c
}
