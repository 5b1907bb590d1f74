package web

import (
	"fmt"
	"strings"
)

// taskHelp is what a task's error means and how to fix it, in plain words.
type taskHelp struct {
	Why, Fix string
}

// taskHelps match a task's last error by the Dropbox error tag (or words)
// it holds; the first that matches explains it.
var taskHelps = []struct {
	marks []string
	help  taskHelp
}{
	{[]string{"team_license_limit"}, taskHelp{"Out of licences: the Dropbox team has no free seat for this member.", "Add seats (or free some) in the Dropbox admin console, then Retry."}},
	{[]string{"user_unrecoverable"}, taskHelp{"The removed member can no longer be brought back in Dropbox.", "Retry to give the person a new, empty account, or Dismiss."}},
	{[]string{"group_name_already_used"}, taskHelp{"Dropbox already has a group with this name.", "Rename that group in Dropbox, or push the group again with \"link existing\", then Retry."}},
	{[]string{"invalid_access_token", "expired_access_token", "auth:", "(auth)", "unauthorized"}, taskHelp{"Dropbox refused Roster's token for this team.", "Reconnect the app under Settings → API authentication, then Retry."}},
	{[]string{"missing_scope", "required scope"}, taskHelp{"The Dropbox app lacks a permission Roster needs.", "Add the scope in the Dropbox App Console, authenticate again, then Retry."}},
	{[]string{"transfer_"}, taskHelp{"Dropbox refused the file transfer of this leaver.", "Check the destination member and the admin account under Settings → Off-boarding, then Retry."}},
	{[]string{"email_address_too_long", "invalid_email", "bad email"}, taskHelp{"Dropbox refused the member's email address.", "Correct the user's email in Roster, then Retry."}},
	{[]string{"id_not_found", "users_not_found", "user_not_found", "member_not_found"}, taskHelp{"The member is no longer in Dropbox as Roster knew it.", "Run a full reconciliation from the app's plan page, then Retry."}},
	{[]string{"group_not_found", "group_not_in_team"}, taskHelp{"The Dropbox group is gone.", "Retry: Roster creates the group again."}},
	{[]string{"rate limited", "too_many_requests", "too_many_write_operations"}, taskHelp{"Dropbox kept asking Roster to slow down (429).", "Retry later; lower budget.calls_per_second if it keeps happening."}},
}

// explainTask says why a task failed and what to do.
func explainTask(lastError string, attempts int) taskHelp {
	low := strings.ToLower(lastError)
	for _, h := range taskHelps {
		for _, m := range h.marks {
			if strings.Contains(low, m) {
				return h.help
			}
		}
	}
	if attempts > 1 {
		return taskHelp{fmt.Sprintf("It failed %d times in a row.", attempts), "Read the last error below; Retry once its cause is fixed, or Dismiss."}
	}
	return taskHelp{"Dropbox refused the change for good.", "Read the last error below; Retry once its cause is fixed, or Dismiss."}
}
