package dropbox

import (
	"context"

	"github.com/roster-dev/roster/internal/connector"
)

// Kind is the app kind of a Dropbox team.
const Kind = "dropbox"

// Dropbox's member roles (MISSION F10), as Roster names them.
const (
	RoleMember              connector.Role = "member"
	RoleTeamAdmin           connector.Role = "team_admin"
	RoleUserManagementAdmin connector.Role = "user_management_admin"
	RoleSupportAdmin        connector.Role = "support_admin"
)

// Spec registers Dropbox with a connector.Registry: its capabilities, its
// admin roles, its name rule, its settings rules (the keys of Settings) and
// its constructor.
func Spec() connector.Spec {
	return connector.Spec{
		Kind: Kind, Title: "Dropbox", DefaultBaseURL: DefaultBaseURL,
		Capabilities: []connector.Capability{connector.CapSuspend, connector.CapRecover, connector.CapTransfer,
			connector.CapWipe, connector.CapRoles, connector.CapWelcomeEmail, connector.CapSilent, connector.CapGroupPush},
		Roles: []string{string(RoleMember), string(RoleSupportAdmin),
			string(RoleUserManagementAdmin), string(RoleTeamAdmin)},
		NormalizeName:    NormalizeName,
		ValidateSettings: ValidateSettings,
		ExplainFailure:   ExplainFailure,
		Open: func(_ context.Context, o connector.OpenOptions) (connector.Connector, error) {
			return New(Options{BaseURL: o.BaseURL, Token: o.Token, TokenSource: o.TokenSource,
				TokenExpired: o.TokenExpired, Pacer: o.Pacer, Logger: o.Logger}), nil
		},
	}
}

// NormalizeName trims a name to Dropbox's 50-character limit and drops the
// characters Dropbox refuses in names, so that a legal directory name never
// blocks provisioning.
func NormalizeName(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '/', ':', '?', '*', '<', '>', '"', '|':
			continue
		}
		if len(out) == 50 {
			break
		}
		out = append(out, r)
	}
	return string(out)
}
