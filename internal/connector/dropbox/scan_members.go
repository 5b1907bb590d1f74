package dropbox

import (
	"encoding/json"

	"github.com/roster-dev/roster/internal/connector"
)

// memberPage is one members/list_v2 (or continue_v2) answer.
type memberPage struct {
	members []connector.Member
	cursor  string
	hasMore bool
}

// decodeRaw scans the page in one pass, or decodes it with encoding/json
// when the scanner meets anything it does not expect.
func (p *memberPage) decodeRaw(raw []byte) error {
	s := scanner{b: raw}
	p.scan(&s)
	if !s.bad {
		return nil
	}
	return p.decodeStd(raw)
}

func (p *memberPage) decodeStd(raw []byte) error {
	var r struct {
		Members []memberInfo `json:"members"`
		Cursor  string       `json:"cursor"`
		HasMore bool         `json:"has_more"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	*p = memberPage{members: make([]connector.Member, len(r.Members)), cursor: r.Cursor, hasMore: r.HasMore}
	for i := range r.Members {
		p.members[i] = r.Members[i].member()
	}
	return nil
}

func (p *memberPage) scan(s *scanner) {
	*p = memberPage{members: make([]connector.Member, 0, listLimit)}
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case "members":
			if seen.once(s, 0) {
				s.array(func() { p.members = append(p.members, s.memberInfo()) })
			}
		case "cursor":
			if seen.once(s, 1) {
				p.cursor = s.str()
			}
		case "has_more":
			if seen.once(s, 2) {
				p.hasMore = s.boolean()
			}
		default:
			s.unknown(k)
		}
	})
	s.end()
}

// memberInfo reads a TeamMemberInfoV2 into a Member.
func (s *scanner) memberInfo() connector.Member {
	var m connector.Member
	var roles []wireRole
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case "profile":
			if seen.once(s, 0) {
				s.profile(&m)
			}
		case "roles":
			if seen.once(s, 1) {
				s.array(func() { roles = append(roles, s.role()) })
			}
		default:
			s.unknown(k)
		}
	})
	m.Role = roleOf(roles)
	return m
}

func (s *scanner) profile(m *connector.Member) {
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case "team_member_id":
			if seen.once(s, 0) {
				m.ID = s.str()
			}
		case "account_id":
			if seen.once(s, 1) {
				m.AccountID = s.str()
			}
		case "email":
			if seen.once(s, 2) {
				m.Email = s.str()
			}
		case "external_id":
			if seen.once(s, 3) {
				m.ExternalID = s.str()
			}
		case "status":
			if seen.once(s, 4) {
				s.status(m)
			}
		case "name":
			if seen.once(s, 5) {
				s.name(m)
			}
		case "groups":
			if seen.once(s, 6) {
				s.groups(m)
			}
		default:
			s.unknown(k)
		}
	})
}

func (s *scanner) status(m *connector.Member) {
	var seen keys
	recoverable := false
	s.object(func(k []byte) {
		switch string(k) {
		case ".tag":
			if seen.once(s, 0) {
				m.Status = connector.MemberStatus(s.str())
			}
		case "is_recoverable":
			if seen.once(s, 1) {
				recoverable = s.boolean()
			}
		default:
			s.unknown(k)
		}
	})
	m.Recoverable = m.Status == connector.StatusRemoved && recoverable
}

func (s *scanner) name(m *connector.Member) {
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case "given_name":
			if seen.once(s, 0) {
				m.GivenName = s.str()
			}
		case "surname":
			if seen.once(s, 1) {
				m.Surname = s.str()
			}
		default:
			s.unknown(k)
		}
	})
}

// groups mirrors encoding/json: null leaves nil, [] gives an empty list.
func (s *scanner) groups(m *connector.Member) {
	if s.null() {
		return
	}
	g := []string{}
	s.array(func() { g = append(g, s.str()) })
	m.Groups = g
}

func (s *scanner) role() wireRole {
	var r wireRole
	var seen keys
	s.object(func(k []byte) {
		switch string(k) {
		case "role_id":
			if seen.once(s, 0) {
				r.RoleID = s.str()
			}
		case "name":
			if seen.once(s, 1) {
				r.Name = s.str()
			}
		default:
			s.unknown(k)
		}
	})
	return r
}
