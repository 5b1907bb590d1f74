package dropbox

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roster-dev/roster/internal/directory"
)

// Settings is the view of an app instance's settings that Dropbox's own
// rules read: the keys it uses beyond what every kind has (decoded from the
// JSON of app.Settings, which this package does not import).
type Settings struct {
	Provisioning bool `json:"provisioning"`
	// Silent creates members without Dropbox's welcome email.
	Silent       bool `json:"silent_provisioning"`
	Deactivation struct {
		Type           string `json:"type"`
		FileManagement string `json:"file_management"` // manage_in_dropbox or transfer
		TransferDest   string `json:"transfer_dest_email"`
		TransferAdmin  string `json:"transfer_admin_email"`
	} `json:"deactivation"`
}

// The file management values of deactivation.file_management.
const (
	filesManageInDropbox = "manage_in_dropbox"
	filesTransfer        = "transfer"
)

// ValidateSettings checks Dropbox's own rules on an instance's settings
// (given as JSON); whether the transfer accounts are active team members and
// an admin is checked against Dropbox by the engine.
func ValidateSettings(js []byte) error {
	var s Settings
	if err := json.Unmarshal(js, &s); err != nil {
		return fmt.Errorf("dropbox settings: %w", err)
	}
	return errors.Join(s.Validate()...)
}

// Validate lists the broken rules.
func (s Settings) Validate() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.Silent && !s.Provisioning {
		add("silent provisioning works only while provisioning is enabled")
	}
	d := s.Deactivation
	switch d.FileManagement {
	case filesManageInDropbox:
		if d.TransferDest != "" || d.TransferAdmin != "" {
			add("transfer accounts are set but file management is manage_in_dropbox; clear them (deactivation.transfer_dest_email= deactivation.transfer_admin_email=) or choose deactivation.file_management=transfer")
		}
	case filesTransfer:
		if d.Type == "suspend" { // another unknown type is refused on its own
			add("file transfer happens only when users are removed; set deactivation type to remove or file management to manage_in_dropbox")
		}
		if d.TransferDest == "" || d.TransferAdmin == "" {
			add("file transfer needs both a destination member and an admin-notification account")
		}
		for _, e := range []string{d.TransferDest, d.TransferAdmin} {
			if e != "" {
				if err := directory.ValidateEmail(e); err != nil {
					errs = append(errs, err)
				}
			}
		}
	default:
		add("file management %q is not one of manage_in_dropbox, transfer", d.FileManagement)
	}
	return errs
}
