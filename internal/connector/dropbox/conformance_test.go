package dropbox

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connector/connectortest"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
)

// The Dropbox connector passes the connector conformance suite against a
// fresh emulated team per case.
func TestConformance(t *testing.T) {
	connectortest.Run(t, func(t *testing.T) connectortest.App {
		srv, url := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: teamName, Token: testToken}}})
		team := srv.Team(teamName)
		// A 429 comes back at once rather than after Retry-After waits.
		c := New(Options{BaseURL: url, Token: testToken, PollInterval: time.Millisecond, MaxRateLimitRetries: -1})
		return connectortest.App{
			Conn: c, Spec: Spec(), MissingID: "dbmid:nope", PageSize: listLimit,
			Seed: func(ms []connector.NewMember) error {
				seeds := make([]emu.SeedMember, len(ms))
				for i, m := range ms {
					seeds[i] = emu.SeedMember{Email: m.Email, GivenName: m.GivenName, Surname: m.Surname,
						ExternalID: m.ExternalID, Status: "active"}
				}
				_, err := team.Seed(seeds)
				return err
			},
			Activate: func(emails ...string) error { team.Activate(emails...); return nil },
			Throttle: func() { srv.SetFaults(emu.Faults{Rate429: 1}) },
			NoLicences: func() error {
				one := 1 // the team's admin holds it
				return team.Configure(emu.TeamSettings{Licenses: &one})
			},
			GiveFiles: func(email string, names ...string) error { return team.AddFiles(email, names...) },
			Files: func(email string) []string {
				m, _ := team.Member(email)
				return m.Files
			},
		}
	})
}
