package dropbox

import (
	"reflect"
	"testing"
)

// Pages the scanner must read exactly as encoding/json does; the fuzzer
// mutates them.
var scanSeeds = []string{
	listPage,
	`{"members":[],"cursor":"c","has_more":false}`,
	`null`,
	` {"has_more":true,"cursor":"c\u00e9\n","members":[null,{"roles":[{"name":"Support admin","role_id":"x"}],"profile":null},
	  {"profile":{"team_member_id":"dbmid:\u0041","email":"j\u00f6rg@x.de","name":{"given_name":"J\u00f6rg","surname":"M\u00fcller \"Jr\""},
	   "external_id":null,"groups":null,"status":{"is_recoverable":true,".tag":"removed","is_disconnected":true},
	   "extra":[1,-0.5e+3,true,false,null,{"a":[]},"s"]}}]} `,
	`{"members":[{"profile":{"email":"Jörg@x.de","name":{"given_name":"名前","surname":""},"groups":["g:1","g:2"]}}],"cursor":""}`,
}

func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, raw := range scanSeeds {
		fast, ok := scanPage([]byte(raw))
		if !ok {
			t.Fatalf("scanner gave up on %s", raw)
		}
		var std memberPage
		if err := std.decodeStd([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		samePage(t, fast, std)
	}
	// The scanner gives up, and decodeRaw falls back, on keys encoding/json folds.
	var p memberPage
	raw := `{"members":[{"profile":{"EMAIL":"a@b.c"}}],"has_more":false}`
	if _, ok := scanPage([]byte(raw)); ok {
		t.Fatal("scanner took a case-folded key")
	}
	if err := p.decodeRaw([]byte(raw)); err != nil || p.members[0].Email != "a@b.c" {
		t.Fatalf("fallback: %v %+v", err, p)
	}
}

func FuzzListPage(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, ok := scanPage(raw)
		if !ok {
			return // decodeRaw uses encoding/json then
		}
		var std memberPage
		if err := std.decodeStd(raw); err != nil {
			t.Fatalf("scanner accepted what encoding/json rejects (%v): %q", err, raw)
		}
		samePage(t, fast, std)
	})
}

func scanPage(raw []byte) (memberPage, bool) {
	var p memberPage
	s := scanner{b: raw}
	p.scan(&s)
	return p, !s.bad
}

func samePage(t *testing.T, fast, std memberPage) {
	t.Helper()
	if fast.cursor != std.cursor || fast.hasMore != std.hasMore || len(fast.members) != len(std.members) {
		t.Fatalf("scanner %q %v %d members; encoding/json %q %v %d", fast.cursor, fast.hasMore, len(fast.members),
			std.cursor, std.hasMore, len(std.members))
	}
	for i := range fast.members {
		if !reflect.DeepEqual(fast.members[i], std.members[i]) {
			t.Fatalf("member %d: scanner %+v, encoding/json %+v", i, fast.members[i], std.members[i])
		}
	}
}
