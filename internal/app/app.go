// Package app holds app instances (one Dropbox team each) and their provisioning
// settings (MISSION S1–S4), with the rules a setting must obey before it is saved.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/connector"
	"github.com/roster-dev/roster/internal/directory"
)

// KindDropbox is the only app kind so far.
const KindDropbox = "dropbox"

// DefaultDropboxURL is the real Team API; tests and the demo point it at the emulator.
const DefaultDropboxURL = "https://api.dropboxapi.com"

// Instance is one connected app, for Dropbox one team.
type Instance struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	BaseURL  string    `json:"base_url"`
	Settings Settings  `json:"settings"`
	HasToken bool      `json:"has_token"`
	Created  time.Time `json:"created_at"`
	Updated  time.Time `json:"updated_at"`
}

// Features are the provisioning features of S1, each switched on its own.
type Features struct {
	PushNewUsers         bool `json:"push_new_users"`
	PushProfileUpdates   bool `json:"push_profile_updates"`
	PushDeactivation     bool `json:"push_deactivation"`
	ReactivateUsers      bool `json:"reactivate_users"`
	ImportNewUsers       bool `json:"import_new_users"`
	ImportProfileUpdates bool `json:"import_profile_updates"`
	PushGroups           bool `json:"push_groups"`
}

// DeactivationType says what a leaver's Dropbox account becomes (S4).
type DeactivationType string

// The two deactivation types; the product recommends suspend.
const (
	DeactivateSuspend DeactivationType = "suspend"
	DeactivateRemove  DeactivationType = "remove"
)

// FileManagement says what happens to a removed member's files (S4).
type FileManagement string

// File management choices when removing.
const (
	FilesManageInDropbox FileManagement = "manage_in_dropbox"
	FilesTransfer        FileManagement = "transfer"
)

// Deactivation holds the off-boarding settings of S4.
type Deactivation struct {
	Type           DeactivationType `json:"type"`
	WipeData       bool             `json:"wipe_data"`
	FileManagement FileManagement   `json:"file_management"`
	TransferDest   string           `json:"transfer_dest_email,omitempty"`
	TransferAdmin  string           `json:"transfer_admin_email,omitempty"`
	// RemoveAfter is a grace period ("7d"): a leaver is suspended at once and
	// removed only when it has passed and the user is still gone. "" or "0":
	// removed at once.
	RemoveAfter string `json:"remove_after,omitempty"`
}

// SwitchOffTransfer clears the transfer accounts when a change turns file
// transfer off, by choosing file management manage_in_dropbox or the
// suspend deactivation (suspended members keep their files), and leaves
// the accounts as they were: an admin need not empty them by hand.
// Switching transfer off is never harsher, so nothing needs confirming.
func (d *Deactivation) SwitchOffTransfer(before Deactivation) {
	if before.FileManagement != FilesTransfer || d.TransferDest != before.TransferDest || d.TransferAdmin != before.TransferAdmin {
		return
	}
	if d.FileManagement == FilesManageInDropbox || d.Type == DeactivateSuspend {
		d.FileManagement, d.TransferDest, d.TransferAdmin = FilesManageInDropbox, "", ""
	}
}

// Guard is the deletion guard of E5, judged over a sliding window across
// passes, workers and processes: off-boardings beyond Percent of an app's
// members (but never fewer than Min), or beyond Irreversible removals and
// wipes, within Window are held until an admin releases them.
type Guard struct {
	Percent      int    `json:"percent"`
	Min          int    `json:"min"`
	Irreversible int    `json:"irreversible"`
	Window       string `json:"window"`
}

// Import holds the import matching rules and attribute sourcing (MISSION S5, F6).
type Import struct {
	MatchOn          string   `json:"match_on"`           // username, email or username_or_email
	PartialNames     bool     `json:"partial_names"`      // match on first and last name too
	AutoConfirmExact bool     `json:"auto_confirm_exact"` // confirm exact matches without review
	AutoConfirmNew   bool     `json:"auto_confirm_new"`   // create directory users for unmatched members
	AutoActivateNew  bool     `json:"auto_activate_new"`  // such new users start active, not staged
	SafeguardPercent int      `json:"safeguard_percent"`  // an import that would unassign more stops
	AppSourced       []string `json:"app_sourced"`        // attributes whose source is the app
}

// AppSourceable lists the attributes that can be sourced from Dropbox.
var AppSourceable = []string{"first_name", "last_name", "email"}

// FromApp reports whether the app is the source of attribute attr.
func (i Import) FromApp(attr string) bool {
	for _, a := range i.AppSourced {
		if a == attr {
			return true
		}
	}
	return false
}

// Settings are all per-app provisioning settings.
type Settings struct {
	Provisioning bool         `json:"provisioning"`
	Features     Features     `json:"features"`
	Silent       bool         `json:"silent_provisioning"`
	Deactivation Deactivation `json:"deactivation"`
	Guard        Guard        `json:"deletion_guard"`
	Import       Import       `json:"import"`
	Budget       Budget       `json:"budget"`
	FullSync     FullSync     `json:"full_sync"`
}

// DefaultSettings follow the seed: provisioning off until the admin enables it,
// deactivation removes and wipes, no file transfer, no silent provisioning.
func DefaultSettings() Settings {
	return Settings{
		Features: Features{
			PushNewUsers: true, PushProfileUpdates: true, PushDeactivation: true,
			ReactivateUsers: true, ImportNewUsers: true, ImportProfileUpdates: true,
		},
		Deactivation: Deactivation{Type: DeactivateRemove, WipeData: true, FileManagement: FilesManageInDropbox},
		Guard:        Guard{Percent: 20, Min: 10, Irreversible: 10, Window: "1h"},
		Import:       Import{MatchOn: "username_or_email", PartialNames: true, SafeguardPercent: 20},
	}
}

// Normalize trims values an admin typed.
func (s *Settings) Normalize() {
	s.Deactivation.TransferDest = strings.TrimSpace(s.Deactivation.TransferDest)
	s.Deactivation.TransferAdmin = strings.TrimSpace(s.Deactivation.TransferAdmin)
	s.Deactivation.RemoveAfter = strings.TrimSpace(s.Deactivation.RemoveAfter)
	if s.Deactivation.RemoveAfter == "0" {
		s.Deactivation.RemoveAfter = ""
	}
}

// Validate checks the rules that hold whatever the app's kind; each kind
// checks its own (Dropbox: file management, transfer accounts, silent
// provisioning) through its registered ValidateSettings.
func (s *Settings) Validate() error {
	if errs := s.problems(); len(errs) > 0 {
		return fmt.Errorf("%w: %w", directory.ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// problems lists the broken rules of Validate, unwrapped, so that an
// instance reports them with its own under one "invalid".
func (s *Settings) problems() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	d := s.Deactivation
	switch d.Type {
	case DeactivateSuspend, DeactivateRemove:
	default:
		add("deactivation type %q is not one of suspend, remove", d.Type)
	}
	if g, err := ParseGrace(d.RemoveAfter); err != nil || g > MaxRemoveAfter {
		add("deactivation.remove_after must be a grace period such as 7d or 36h, at most 90d, or 0 for none; got %q", d.RemoveAfter)
	} else if g > 0 && d.Type != DeactivateRemove {
		add("deactivation.remove_after delays removals; it needs deactivation.type=remove (suspended members are never removed)")
	}
	errs = append(errs, s.Guard.validate()...)
	errs = append(errs, s.Import.validate()...)
	errs = append(errs, s.Budget.validate()...)
	errs = append(errs, s.FullSync.validate()...)
	return errs
}

// Kinds answers for the app kinds a binary supports; *connector.Registry is one.
type Kinds interface {
	CheckKind(kind string) error
	// CheckSettings refuses settings that need a capability the kind lacks
	// or break the kind's own rules (settings as JSON).
	CheckSettings(kind string, needs []connector.Capability, settings []byte) error
}

// Validate checks an instance's own fields and its settings, and that kinds
// supports its kind and can carry its settings out. Every admin change of an
// app passes it before it is stored.
func (a *Instance) Validate(kinds Kinds) error { return a.validate(kinds) }

// ValidateFields checks what holds whatever the app's kind: the store's
// check, which knows no kinds.
func (a *Instance) ValidateFields() error { return a.validate(nil) }

func (a *Instance) validate(kinds Kinds) error {
	a.Name = strings.TrimSpace(a.Name)
	var errs []error
	if a.Name == "" || len(a.Name) > 100 || strings.ContainsAny(a.Name, "/ \t\n") {
		errs = append(errs, fmt.Errorf("app name %q must be 1–100 characters with no spaces or slashes", a.Name))
	}
	kindOK := kinds != nil
	if kinds != nil {
		if err := kinds.CheckKind(a.Kind); err != nil {
			errs, kindOK = append(errs, err), false
		}
	} else if a.Kind == "" {
		errs = append(errs, errors.New("app kind is missing"))
	}
	if err := CheckBaseURL(a.BaseURL); err != nil {
		errs = append(errs, err)
	}
	a.Settings.Normalize()
	errs = append(errs, a.Settings.problems()...)
	if kindOK {
		errs = append(errs, a.checkKindSettings(kinds))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", directory.ErrInvalid, err)
	}
	return nil
}

func (a *Instance) checkKindSettings(kinds Kinds) error {
	js, err := json.Marshal(a.Settings)
	if err != nil {
		return err
	}
	return kinds.CheckSettings(a.Kind, a.Settings.Needs(), js)
}

// Needs lists the capabilities an app kind must have to carry the settings out.
func (s *Settings) Needs() []connector.Capability {
	var out []connector.Capability
	d := s.Deactivation
	for _, n := range []struct {
		on  bool
		cap connector.Capability
	}{
		{s.Silent, connector.CapSilent},
		{s.Features.PushGroups, connector.CapGroupPush},
		{d.Type == DeactivateSuspend || d.RemoveAfter != "", connector.CapSuspend},
		{d.WipeData, connector.CapWipe},
		{d.FileManagement == FilesTransfer, connector.CapTransfer},
	} {
		if n.on {
			out = append(out, n.cap)
		}
	}
	return out
}

// CheckBaseURL refuses a Dropbox API base the team token must not be sent to
// in the clear: https anywhere, plain http only to this machine (an emulator).
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("base URL %q must be an http(s) URL with a host and no query", s)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("base URL %q: plain http is only for a loopback address (127.0.0.0/8, ::1, localhost); use https", s)
	}
	return nil
}

// loopback says whether host is this machine, by address or as "localhost".
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// KeepsCredential says whether an app's stored token (and OAuth connection)
// may stay when it changes from old to next. The token goes to the base URL
// with every call, so a new base URL needs the token entered again: an admin
// must not be able to send the team's token to a host of their choosing.
func KeepsCredential(old, next Instance) bool { return old.BaseURL == next.BaseURL }

func (i Import) validate() []error {
	var errs []error
	switch i.MatchOn {
	case "username", "email", "username_or_email":
	default:
		errs = append(errs, fmt.Errorf("import match_on %q is not one of username, email, username_or_email", i.MatchOn))
	}
	if i.SafeguardPercent < 1 || i.SafeguardPercent > 100 {
		errs = append(errs, fmt.Errorf("import safeguard percent must be between 1 and 100, got %d", i.SafeguardPercent))
	}
	if i.AutoActivateNew && !i.AutoConfirmNew {
		errs = append(errs, errors.New("auto-activating new users needs auto-confirming them (import.auto_confirm_new=true)"))
	}
	for _, a := range i.AppSourced {
		ok := false
		for _, s := range AppSourceable {
			ok = ok || a == s
		}
		if !ok {
			errs = append(errs, fmt.Errorf("attribute %q cannot be sourced from the app (only first_name, last_name, email)", a))
		}
	}
	return errs
}
