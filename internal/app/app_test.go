package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/connectors"
	"github.com/roster-dev/roster/internal/directory"
)

func TestDefaultsFollowTheSeed(t *testing.T) {
	s := DefaultSettings()
	if s.Provisioning || s.Silent {
		t.Error("provisioning and silent provisioning must start off")
	}
	if s.Deactivation.Type != DeactivateRemove || !s.Deactivation.WipeData || s.Deactivation.FileManagement != FilesManageInDropbox {
		t.Errorf("deactivation defaults = %+v; the seed says remove, wipe, no transfer", s.Deactivation)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestValidateSettings(t *testing.T) {
	transfer := Deactivation{Type: DeactivateRemove, FileManagement: FilesTransfer, TransferDest: "dest@example.com", TransferAdmin: "admin@example.com"}
	cases := []struct {
		name    string
		edit    func(*Settings)
		want    string
		dropbox bool // Dropbox's own rule: checked through the registry, not by Settings.Validate
	}{
		{"transfer ok", func(s *Settings) { s.Deactivation = transfer }, "", false},
		{"suspend ok", func(s *Settings) { s.Deactivation.Type = DeactivateSuspend }, "", false},
		{"silent needs provisioning", func(s *Settings) { s.Silent = true }, "only while provisioning is enabled", true},
		{"silent with provisioning", func(s *Settings) { s.Silent, s.Provisioning = true, true }, "", false},
		{"bad type", func(s *Settings) { s.Deactivation.Type = "delete" }, "not one of suspend, remove", false},
		{"transfer on suspend", func(s *Settings) { s.Deactivation = transfer; s.Deactivation.Type = DeactivateSuspend }, "only when users are removed", true},
		{"transfer without admin", func(s *Settings) { s.Deactivation = transfer; s.Deactivation.TransferAdmin = "" }, "needs both", true},
		{"transfer bad email", func(s *Settings) { s.Deactivation = transfer; s.Deactivation.TransferDest = "dest" }, "not a valid address", true},
		{"accounts without transfer", func(s *Settings) { s.Deactivation.TransferDest = "d@example.com" }, "clear them", true},
		{"bad file management", func(s *Settings) { s.Deactivation.FileManagement = "keep" }, "not one of manage_in_dropbox", true},
		{"guard percent", func(s *Settings) { s.Guard.Percent = 0 }, "between 1 and 100", false},
		{"guard min", func(s *Settings) { s.Guard.Min = -1 }, "negative", false},
		{"match on", func(s *Settings) { s.Import.MatchOn = "name" }, "match_on", false},
		{"safeguard", func(s *Settings) { s.Import.SafeguardPercent = 0 }, "safeguard", false},
		{"activate needs confirm", func(s *Settings) { s.Import.AutoActivateNew = true }, "auto_confirm_new", false},
		{"app sourced ok", func(s *Settings) { s.Import.AppSourced = []string{"first_name", "email"} }, "", false},
		{"app sourced bad", func(s *Settings) { s.Import.AppSourced = []string{"department"} }, "cannot be sourced", false},
		{"full sync daily", func(s *Settings) { s.FullSync.Every = "24h" }, "", false},
		{"full sync too often", func(s *Settings) { s.FullSync.Every = "1m" }, "full_sync.every", false},
		{"full sync not a duration", func(s *Settings) { s.FullSync.Every = "daily" }, "full_sync.every", false},
	}
	for _, c := range cases {
		s := DefaultSettings()
		c.edit(&s)
		err := s.Validate()
		if c.dropbox {
			if err != nil {
				t.Errorf("%s: Settings.Validate = %v; a Dropbox rule is Dropbox's", c.name, err)
			}
			a := Instance{Name: "dbx", Kind: KindDropbox, BaseURL: DefaultDropboxURL, Settings: s}
			err = a.Validate(connectors.Registry())
		}
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// Dropbox's own settings rules are Dropbox's: a kind registered without
// them accepts what Dropbox refuses, unless it lacks a capability the
// settings need.
func TestOtherKindSkipsDropboxRules(t *testing.T) {
	dbx := connectors.Registry()
	full, _ := dbx.Spec(KindDropbox)
	other := connector.NewRegistry(
		connector.Spec{Kind: "full", Title: "Full", Capabilities: full.Capabilities},
		connector.Spec{Kind: "basic", Title: "Basic", Capabilities: []connector.Capability{connector.CapSuspend, connector.CapWipe}},
	)
	transfer := Deactivation{Type: DeactivateRemove, FileManagement: FilesTransfer}
	cases := []struct {
		name           string
		edit           func(*Settings)
		dropbox, basic string // what each refuses with; "full" accepts all
	}{
		{"silent without provisioning", func(s *Settings) { s.Silent = true }, "only while provisioning is enabled", "Basic cannot provision members silently"},
		{"unknown file management", func(s *Settings) { s.Deactivation.FileManagement = "keep" }, "not one of manage_in_dropbox", ""},
		{"accounts without transfer", func(s *Settings) { s.Deactivation.TransferDest = "d@example.com" }, "clear them", ""},
		{"transfer without accounts", func(s *Settings) { s.Deactivation = transfer }, "needs both", "Basic cannot transfer"},
	}
	for _, c := range cases {
		s := DefaultSettings()
		c.edit(&s)
		for _, k := range []struct {
			kind  string
			kinds Kinds
			want  string
		}{{KindDropbox, dbx, c.dropbox}, {"full", other, ""}, {"basic", other, c.basic}} {
			a := Instance{Name: "x", Kind: k.kind, BaseURL: DefaultDropboxURL, Settings: s}
			err := a.Validate(k.kinds)
			if (k.want == "") != (err == nil) || (err != nil && (!errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), k.want))) {
				t.Errorf("%s on %s: err = %v, want %q", c.name, k.kind, err, k.want)
			}
		}
	}
}

func TestValidateInstance(t *testing.T) {
	cases := []struct {
		a    Instance
		want string
	}{
		{Instance{Name: "dbx", Kind: KindDropbox, BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}, ""},
		{Instance{Name: "has space", Kind: KindDropbox, BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}, "no spaces"},
		{Instance{Name: "x", Kind: "box", BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}, "not supported"},
		{Instance{Name: "x", Kind: KindDropbox, BaseURL: "api.dropboxapi.com", Settings: DefaultSettings()}, "http(s) URL"},
	}
	for _, c := range cases {
		err := c.a.Validate(connectors.Registry())
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: err = %v, want %q", c.a.Name, err, c.want)
		}
	}
}

// Plain http would carry the team token in the clear, so it is only for an
// emulator on this machine; anything else must be https.
func TestBaseURLRule(t *testing.T) {
	cases := []struct {
		url  string
		want string // "" accepted
	}{
		{DefaultDropboxURL, ""},
		{"https://dropbox-proxy.corp.example:8443/base", ""},
		{"http://127.0.0.1:8765", ""},
		{"http://127.9.9.9", ""},
		{"http://localhost:8765", ""},
		{"http://LocalHost", ""},
		{"http://[::1]:8765", ""},
		{"http://example.com", "only for a loopback address"},
		{"http://10.0.0.5:8080", "only for a loopback address"},
		{"http://169.254.169.254", "only for a loopback address"},
		{"http://0.0.0.0:8765", "only for a loopback address"},
		{"http://127.0.0.1.nip.io", "only for a loopback address"},
		{"http://localhost.attacker.example", "only for a loopback address"},
		{"ftp://127.0.0.1", "http(s) URL"},
		{"https://", "http(s) URL"},
		{"https://x.example?q=1", "http(s) URL"},
	}
	for _, c := range cases {
		err := CheckBaseURL(c.url)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: err = %v, want %q", c.url, err, c.want)
		}
		a := Instance{Name: "dbx", Kind: KindDropbox, BaseURL: c.url, Settings: DefaultSettings()}
		if err := a.Validate(connectors.Registry()); (c.want == "") != (err == nil) || (err != nil && !errors.Is(err, directory.ErrInvalid)) {
			t.Errorf("%s: Validate = %v, want %q as invalid input", c.url, err, c.want)
		}
	}
}

func TestKeepsCredential(t *testing.T) {
	old := Instance{Name: "dbx", BaseURL: "https://api.dropboxapi.com", Settings: DefaultSettings()}
	renamed, moved := old, old
	renamed.Name, renamed.Settings.Provisioning = "dbx2", true
	moved.BaseURL = "https://api.dropboxapi.com.attacker.example"
	if !KeepsCredential(old, renamed) {
		t.Error("a change of name or settings drops the token")
	}
	if KeepsCredential(old, moved) {
		t.Error("a change of base URL keeps the token")
	}
}

// Settings an app kind cannot carry out are refused by Validate, naming what
// it cannot do; the store's kind-blind ValidateFields leaves kinds alone.
func TestValidateAgainstKind(t *testing.T) {
	kinds := connector.NewRegistry(connector.Spec{Kind: "basic", Title: "Basic",
		Capabilities: []connector.Capability{connector.CapSuspend}})
	transfer := Deactivation{Type: DeactivateRemove, FileManagement: FilesTransfer, TransferDest: "d@example.com", TransferAdmin: "a@example.com"}
	cases := []struct {
		name string
		edit func(*Settings)
		want string
	}{
		{"suspend only", func(s *Settings) {
			s.Deactivation = Deactivation{Type: DeactivateSuspend, FileManagement: FilesManageInDropbox}
		}, ""},
		{"wipe", func(s *Settings) { s.Deactivation.WipeData = true }, "Basic cannot wipe"},
		{"transfer", func(s *Settings) { s.Deactivation = transfer }, "Basic cannot transfer"},
		{"silent", func(s *Settings) {
			s.Deactivation.WipeData, s.Silent, s.Provisioning = false, true, true
		}, "Basic cannot provision members silently"},
		{"groups", func(s *Settings) { s.Deactivation.WipeData, s.Features.PushGroups = false, true }, "Basic cannot take groups"},
	}
	for _, c := range cases {
		a := Instance{Name: "b", Kind: "basic", BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}
		c.edit(&a.Settings)
		err := a.Validate(kinds)
		if (c.want == "") != (err == nil) || (err != nil && (!errors.Is(err, directory.ErrInvalid) || !strings.Contains(err.Error(), c.want))) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
		if err := a.ValidateFields(); err != nil {
			t.Errorf("%s: ValidateFields = %v; the store knows no kinds", c.name, err)
		}
	}
	if err := (&Instance{Name: "x", Kind: "", BaseURL: DefaultDropboxURL, Settings: DefaultSettings()}).ValidateFields(); err == nil {
		t.Error("ValidateFields accepted an app without a kind")
	}
}
