package dropbox

import (
	"encoding/json"

	"github.com/roster-dev/roster/internal/connector"
)

// An initial push reads one member per user from add_v2 answers; with
// encoding/json that was the connector's largest cost. The scanner reads
// them in one pass, and gives way to encoding/json on anything unexpected.

// decodeRaw scans the answer, or decodes it with encoding/json when the
// scanner meets anything it does not expect.
func (a *addAnswer) decodeRaw(raw []byte) error {
	s := scanner{b: raw}
	a.scan(&s)
	if !s.bad {
		return nil
	}
	return a.decodeStd(raw)
}

func (a *addAnswer) decodeStd(raw []byte) error {
	type plain addAnswer // without decodeRaw, so nothing recurses
	var p plain
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	*a = addAnswer(p)
	return nil
}

func (a *addAnswer) scan(s *scanner) {
	*a = addAnswer{}
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case ".tag":
			if seen.once(s, 0) {
				a.Tag = s.str()
			}
		case "complete":
			if seen.once(s, 1) {
				if s.null() {
					return
				}
				a.Complete = []addItem{}
				s.array(func() { a.Complete = append(a.Complete, s.addItem()) })
			}
		case "async_job_id":
			if seen.once(s, 2) {
				a.AsyncJobID = s.str()
			}
		case "failed":
			if seen.once(s, 3) {
				a.Failed = s.str()
			}
		default:
			s.unknown(k)
		}
	})
	s.end()
}

// addItem reads a MemberAddV2Result: a tag and, on success, the member's
// TeamMemberInfoV2 flattened beside it.
func (s *scanner) addItem() addItem {
	var it addItem
	var m connector.Member
	var roles []wireRole
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case ".tag":
			if seen.once(s, 0) {
				it.Tag = s.str()
			}
		case "profile":
			if seen.once(s, 1) {
				s.profile(&m)
			}
		case "roles":
			if seen.once(s, 2) {
				s.array(func() { roles = append(roles, s.role()) })
			}
		default:
			s.unknown(k)
		}
	})
	m.Role = roleOf(roles)
	it.scanned = &m
	return it
}
