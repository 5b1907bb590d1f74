package dropbox

import "strings"

// failureHelp explains the Dropbox errors an admin can fix, by the error
// tags (or words) the stored error text holds.
var failureHelp = []struct {
	marks    []string
	why, fix string
}{
	{[]string{"team_license_limit"}, "Out of licences: the Dropbox team has no free seat for this member.", "Add seats (or free some) in the Dropbox admin console, then Retry."},
	{[]string{"user_unrecoverable"}, "The removed member can no longer be brought back in Dropbox.", "Retry to give the person a new, empty account, or Dismiss."},
	{[]string{"group_name_already_used"}, "Dropbox already has a group with this name.", "Rename that group in Dropbox, or push the group again with \"link existing\", then Retry."},
	{[]string{"invalid_access_token", "expired_access_token", ": auth"}, "Dropbox refused Roster's token for this team.", "Reconnect the app under Settings → API authentication, then Retry."},
	{[]string{"missing_scope", "required scope"}, "The Dropbox app lacks a permission Roster needs.", "Add the scope in the Dropbox App Console, authenticate again, then Retry."},
	{[]string{"transfer_"}, "Dropbox refused the file transfer of this leaver.", "Check the destination member and the admin account under Settings → Off-boarding, then Retry."},
	{[]string{"email_address_too_long", "invalid_email"}, "Dropbox refused the member's email address.", "Correct the user's email in Roster, then Retry."},
	{[]string{"id_not_found", "users_not_found", "user_not_found", "user_not_in_team", "members_not_in_team"}, "The member is no longer in Dropbox as Roster knew it.", "Run a full reconciliation from the app's plan page, then Retry."},
	{[]string{"group_not_found", "group_not_in_team"}, "The Dropbox group is gone.", "Retry: Roster creates the group again."},
	{[]string{"too_many_requests", "too_many_write_operations", "rate limited", "ratelimited"}, "Dropbox kept asking Roster to slow down (429).", "Retry later; lower budget.calls_per_second if it keeps happening."},
}

// ExplainFailure says why a stored Dropbox error happened and how an admin
// fixes it; ok is false for an error it does not know.
func ExplainFailure(lastError string) (why, fix string, ok bool) {
	low := strings.ToLower(lastError)
	for _, h := range failureHelp {
		for _, m := range h.marks {
			if strings.Contains(low, m) {
				return h.why, h.fix, true
			}
		}
	}
	return "", "", false
}
