package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// nulFrame is one open object or array while walking a JSON document.
type nulFrame struct {
	obj   bool
	key   string // object: the current member's name
	inKey bool   // object: the next string is a member name
	idx   int    // array: the current element
}

// nulPath finds the first string (value or member name) holding a NUL and
// says where it is, as "users"[1] or "settings"."deactivation"."type".
// Malformed JSON reports nothing: the strict decode that follows says why.
func nulPath(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var st []nulFrame
	ended := func() { // a value ended inside the innermost container
		if n := len(st); n > 0 {
			if st[n-1].obj {
				st[n-1].inKey = true
			} else {
				st[n-1].idx++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				st = append(st, nulFrame{obj: true, inKey: true})
			case '[':
				st = append(st, nulFrame{})
			default:
				st = st[:len(st)-1]
				ended()
			}
		case string:
			isKey := len(st) > 0 && st[len(st)-1].obj && st[len(st)-1].inKey
			if isKey {
				st[len(st)-1].key, st[len(st)-1].inKey = t, false
			}
			if strings.ContainsRune(t, 0) {
				return jsonPath(st), true
			}
			if !isKey {
				ended()
			}
		default:
			ended()
		}
	}
}

func jsonPath(st []nulFrame) string {
	if len(st) == 0 {
		return "the JSON value"
	}
	var b strings.Builder
	for _, f := range st {
		if !f.obj {
			fmt.Fprintf(&b, "[%d]", f.idx)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Quote(f.key))
	}
	return b.String()
}

// nulInURL says whether the decoded path or a query parameter holds a NUL,
// and which.
func nulInURL(u *url.URL) (string, bool) {
	if strings.ContainsRune(u.Path, 0) {
		return "the URL path", true
	}
	for k, vs := range u.Query() {
		for _, v := range vs {
			if strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
				return "query parameter " + strconv.Quote(k), true
			}
		}
	}
	return "", false
}
