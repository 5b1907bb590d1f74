package dropbox

import (
	"reflect"
	"testing"
)

var addSeeds = []string{
	`{".tag":"complete","complete":[{".tag":"success","profile":{"team_member_id":"dbmid:AA1","account_id":"dbid:1","email":"a@corp.example",
	  "external_id":"roster:1","status":{".tag":"invited"},"name":{"given_name":"A","surname":"B"},"groups":[]},"roles":[{"role_id":"pid_dbtmr:x","name":"Team"}]},
	 {".tag":"user_already_on_team","user_already_on_team":"b@corp.example"},
	 {".tag":"success","profile":{"team_member_id":"dbmid:AA2","email":"c\u00e9@corp.example","status":{".tag":"active"},"name":{"given_name":"C","surname":"\"D\""}},"roles":[]},
	 null]}`,
	`{".tag":"async_job_id","async_job_id":"dbjid:xyz"}`,
	`{".tag":"failed","failed":"too many members"}`,
	`{".tag":"in_progress"}`,
	`{".tag":"complete","complete":null}`,
	`{".tag":"complete","complete":[],"extra":{"a":[1,2.5e3,null]}}`,
}

func TestScanAddMatchesEncodingJSON(t *testing.T) {
	for _, raw := range addSeeds {
		fast, ok := scanAdd([]byte(raw))
		if !ok {
			t.Fatalf("scanner gave up on %s", raw)
		}
		var std addAnswer
		if err := std.decodeStd([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		sameAdd(t, fast, std)
	}
	// Case-folded keys fall back to encoding/json.
	var a addAnswer
	raw := `{".TAG":"complete","complete":[]}`
	if _, ok := scanAdd([]byte(raw)); ok {
		t.Fatal("scanner took a case-folded key")
	}
	if err := a.decodeRaw([]byte(raw)); err != nil || a.Tag != "complete" {
		t.Fatalf("fallback: %v %+v", err, a)
	}
}

func FuzzAddAnswer(f *testing.F) {
	for _, s := range addSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, ok := scanAdd(raw)
		if !ok {
			return
		}
		var std addAnswer
		if err := std.decodeStd(raw); err != nil {
			t.Fatalf("scanner accepted what encoding/json rejects (%v): %q", err, raw)
		}
		sameAdd(t, fast, std)
	})
}

func scanAdd(raw []byte) (addAnswer, bool) {
	var a addAnswer
	s := scanner{b: raw}
	a.scan(&s)
	return a, !s.bad
}

// sameAdd compares what the connector takes from each answer.
func sameAdd(t *testing.T, fast, std addAnswer) {
	t.Helper()
	if fast.Tag != std.Tag || fast.AsyncJobID != std.AsyncJobID || fast.Failed != std.Failed ||
		len(fast.Complete) != len(std.Complete) || (fast.Complete == nil) != (std.Complete == nil) {
		t.Fatalf("scanner %+v; encoding/json %+v", fast, std)
	}
	for i := range fast.Complete {
		fm, ferr := fast.Complete[i].result("x")
		sm, serr := std.Complete[i].result("x")
		if !reflect.DeepEqual(fm, sm) || !reflect.DeepEqual(ferr, serr) {
			t.Fatalf("item %d: scanner %+v %v, encoding/json %+v %v", i, fm, ferr, sm, serr)
		}
	}
}
