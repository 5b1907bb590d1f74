package dropbox

import (
	"errors"
	"strings"
	"testing"
)

// Dropbox's rules on file transfer speak only of what is wrong: an unknown
// deactivation type is refused by the common rules, not answered with
// advice about transfers; suspend with transfer is.
func TestTransferRuleNamesOnlyWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		want bool // a complaint about transfers
	}{{"delete", false}, {"remove", false}, {"suspend", true}} {
		var s Settings
		s.Deactivation.Type, s.Deactivation.FileManagement = tc.typ, filesTransfer
		s.Deactivation.TransferDest, s.Deactivation.TransferAdmin = "keeper@corp.example", "it@corp.example"
		err := errors.Join(s.Validate()...)
		if got := err != nil && strings.Contains(err.Error(), "only when users are removed"); got != tc.want {
			t.Errorf("type %s: %v", tc.typ, err)
		}
	}
}
