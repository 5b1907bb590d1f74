package dropbox

import (
	"encoding/base64"
	"encoding/json"
)

// cursor is what list cursors encode. Clients treat it as opaque; positions
// index append-only slices, so a cursor stays valid across changes and restarts.
type cursor struct {
	Team    string `json:"t"`
	Kind    string `json:"k"` // members, groups, group_members
	Pos     int64  `json:"p"` // members/groups: next index; group_members: last join seq returned
	Limit   int    `json:"l"`
	Removed bool   `json:"r,omitempty"`
	Group   string `json:"g,omitempty"`
}

func (t *Team) encodeCursor(c cursor) string {
	c.Team = t.id
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of the given kind issued by this team.
func (t *Team) decodeCursor(s, kind string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Team != t.id || c.Kind != kind || c.Pos < 0 || c.Limit < 1 || c.Limit > 1000 {
		return cursor{}, false
	}
	return c, true
}

// continueArg reads {"cursor": "…"} and resolves it, answering 400 or 409
// invalid_cursor otherwise.
func (c *call) continueArg(kind string) (cursor, bool) {
	var arg struct {
		Cursor *string `json:"cursor"`
	}
	if !c.decode(&arg) {
		return cursor{}, false
	}
	if arg.Cursor == nil {
		c.bad(missing("cursor"))
		return cursor{}, false
	}
	cur, ok := c.t.decodeCursor(*arg.Cursor, kind)
	if !ok {
		c.fail("invalid_cursor")
	}
	return cur, ok
}
