package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/app"
	"github.com/roster-dev/roster/internal/connector/dropbox"
	"github.com/roster-dev/roster/internal/directory"
	emu "github.com/roster-dev/roster/internal/emulator/dropbox"
	"github.com/roster-dev/roster/internal/engine"
)

func TestCheckOffboarding(t *testing.T) {
	s, base := emu.StartTest(t, emu.Options{Teams: []emu.TeamConfig{{Name: "acme", Token: "tok"}}})
	_, err := s.Team("acme").Seed([]emu.SeedMember{
		{Email: "keeper@corp.example", Status: "active"},
		{Email: "it@corp.example", Status: "active", Role: "Team"},
		{Email: "helpdesk@corp.example", Status: "active", Role: "User management admin"},
		{Email: "new@corp.example", Status: "invited"},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := dropbox.New(dropbox.Options{BaseURL: base, Token: "tok"})
	transfer := func(dest, admin string) app.Deactivation {
		return app.Deactivation{FileManagement: app.FilesTransfer, TransferDest: dest, TransferAdmin: admin}
	}
	for _, tc := range []struct {
		name string
		d    app.Deactivation
		want []string // problems named; none: accepted
	}{
		{"no transfer", app.Deactivation{}, nil},
		{"good", transfer("keeper@corp.example", "it@corp.example"), nil},
		{"unknown destination", transfer("nobody@corp.example", "it@corp.example"), []string{"destination nobody@corp.example is not an active member"}},
		{"invited destination", transfer("new@corp.example", "it@corp.example"), []string{"destination new@corp.example is not an active member"}},
		{"admin not team admin", transfer("keeper@corp.example", "helpdesk@corp.example"), []string{"helpdesk@corp.example is not a team admin"}},
		{"both wrong", transfer("nobody@corp.example", "keeper@corp.example"), []string{"destination nobody", "keeper@corp.example is not a team admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := engine.CheckOffboarding(bg, conn, tc.d)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, directory.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("%q does not say %q", err, w)
				}
			}
		})
	}
	// A lookup that fails says nothing against the settings.
	bad := dropbox.New(dropbox.Options{BaseURL: base, Token: "wrong"})
	var le *engine.LookupError
	if err := engine.CheckOffboarding(bg, bad, transfer("keeper@corp.example", "it@corp.example")); !errors.As(err, &le) || errors.Is(err, directory.ErrInvalid) {
		t.Fatalf("failed lookup = %v, want a LookupError", err)
	}
}
