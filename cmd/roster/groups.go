package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

type groupJSON struct {
	ID          int64  `json:"id"`
	ExternalKey string `json:"external_key"`
	Source      string `json:"source"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Members     int    `json:"members"`
}

func newGroupsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "groups", Short: "Manage directory groups"}
	var desc string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a group",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showGroup(c, g, "POST", "/api/v1/groups", map[string]string{"name": args[0], "description": desc})
		},
	}
	add.Flags().StringVar(&desc, "description", "", "what the group is for")
	var limit int
	var all bool
	var source string
	list := &cobra.Command{
		Use:   "list",
		Short: "List groups",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			q := url.Values{}
			if source != "" {
				q.Set("source", source)
			}
			return listPaged(c, g, "/api/v1/groups", q, limit, all, []string{"NAME", "MEMBERS", "DESCRIPTION"},
				func(raw json.RawMessage) ([]string, error) {
					var gr groupJSON
					err := json.Unmarshal(raw, &gr)
					return []string{gr.Name, strconv.Itoa(gr.Members), gr.Description}, err
				})
		},
	}
	list.Flags().IntVar(&limit, "limit", 100, "groups per page (1–1000)")
	list.Flags().BoolVar(&all, "all", false, "fetch every page")
	list.Flags().StringVar(&source, "source", "", "only groups this source owns (api: created by admins)")
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show one group",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			return showGroup(c, g, "GET", "/api/v1/groups/"+url.PathEscape(args[0]), nil)
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a group (its members lose the apps it gave them)",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			if err := cl.doConfirmed(c, g, "DELETE", "/api/v1/groups/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "deleted group %s\n", args[0])
			return nil
		},
	}
	addYesFlag(del, g)
	c.AddCommand(add, list, get, del, groupMembersCmd(g))
	c.AddCommand(groupPushCmds(g)...)
	return c
}

func showGroup(c *cobra.Command, g *globals, method, path string, body any) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var raw []byte
	if err := cl.doConfirmed(c, g, method, path, body, &raw); err != nil {
		return err
	}
	var gr groupJSON
	if err := json.Unmarshal(raw, &gr); err != nil {
		return err
	}
	return fields(c.OutOrStdout(), g, raw, [][2]string{{"Name", gr.Name}, {"Description", gr.Description}, {"Members", strconv.Itoa(gr.Members)},
		{"Source", gr.Source}, {"External key", gr.ExternalKey}})
}

func groupMembersCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "members", Short: "Manage a group's members"}
	change := func(verb, path, short string) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " GROUP USERNAME...",
			Short: short,
			Args: func(c *cobra.Command, args []string) error {
				if len(args) < 2 {
					return usageErr("%s needs GROUP and at least one USERNAME", c.CommandPath())
				}
				return nil
			},
			RunE: func(c *cobra.Command, args []string) error {
				return showGroup(c, g, "POST", "/api/v1/groups/"+url.PathEscape(args[0])+path, map[string][]string{"users": args[1:]})
			},
		}
	}
	var limit int
	var all bool
	list := &cobra.Command{
		Use:   "list GROUP",
		Short: "List a group's members",
		Args:  exactArgs(1, "GROUP"),
		RunE: func(c *cobra.Command, args []string) error {
			return listPaged(c, g, "/api/v1/groups/"+url.PathEscape(args[0])+"/members", url.Values{}, limit, all, userHeader,
				func(raw json.RawMessage) ([]string, error) {
					var u userJSON
					err := json.Unmarshal(raw, &u)
					return userRow(u), err
				})
		},
	}
	list.Flags().IntVar(&limit, "limit", 100, "members per page (1–1000)")
	list.Flags().BoolVar(&all, "all", false, "fetch every page")
	remove := change("remove", "/members/remove", "Remove users from a group")
	addYesFlag(remove, g)
	c.AddCommand(change("add", "/members", "Add users to a group"), remove, list)
	return c
}
