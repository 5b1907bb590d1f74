package main

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// newAssignCmd builds "assign" or, with assign false, "unassign".
func newAssignCmd(g *globals, assign bool) *cobra.Command {
	var user, group, role string
	c := &cobra.Command{
		Use:   "assign APP (--user USERNAME | --group GROUP) [--role ROLE]",
		Short: "Assign an app to a user or to every member of a group",
		Long: `Assigns an app instance to a user directly or to a group. The role is the Dropbox
permissions attribute: member (default), team_admin, user_management_admin or
support_admin. Assigning again changes the role. Where a user is assigned both
directly and through groups, the direct assignment's role wins; among groups,
the most privileged role.`,
		Args: exactArgs(1, "APP"),
		RunE: func(c *cobra.Command, args []string) error {
			if (user == "") == (group == "") {
				return usageErr("give exactly one of --user or --group")
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			if !assign {
				q := url.Values{"app": {args[0]}, "user": {user}, "group": {group}}
				if err := cl.doConfirmed(c, g, "DELETE", "/api/v1/assignments?"+q.Encode(), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "unassigned %s%s from %s\n", user, group, args[0])
				return nil
			}
			var raw []byte
			body := map[string]string{"app": args[0], "user": user, "group": group, "role": role}
			if err := cl.do(c.Context(), "POST", "/api/v1/assignments", body, &raw); err != nil {
				return err
			}
			var a struct {
				Role string `json:"role"`
			}
			_ = json.Unmarshal(raw, &a)
			return fields(c.OutOrStdout(), g, raw, [][2]string{{"App", args[0]}, {"Assigned", user + group}, {"Role", a.Role}})
		},
	}
	if !assign {
		c.Use = "unassign APP (--user USERNAME | --group GROUP)"
		c.Short = "Remove an assignment; the app's deactivation settings then apply to who loses it"
		c.Long = `Removes a user's direct assignment to an app, or a group's. Whoever no longer
holds the app through any other assignment is off-boarded as the app's
deactivation settings say (suspend, or remove with wipe and transfer). Roster
first shows who would be off-boarded and how, and asks (--yes for scripts).
A user still assigned through a group, or directly, keeps the app.`
		c.Example = "  roster unassign dropbox --group Contractors\n  roster unassign dropbox --user ann --yes"
	}
	verb := "assign the app to"
	if !assign {
		verb = "remove the app's assignment of"
	}
	c.Flags().StringVar(&user, "user", "", verb+" this user (username)")
	c.Flags().StringVar(&group, "group", "", verb+" this group")
	if !assign {
		addYesFlag(c, g)
	}
	if assign {
		c.Flags().StringVar(&role, "role", "member", "member, team_admin, user_management_admin or support_admin")
	}
	return c
}
