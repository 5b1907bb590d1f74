package dropbox

import (
	"encoding/json"
	"unicode/utf8"
)

// scanner is a one-pass JSON reader for the hot path, the members/list pages:
// it keeps the fields a Member needs and skips the rest without building
// anything. It sets bad on anything it does not expect (malformed JSON, other
// types, duplicate or case-folded keys), and the caller then decodes with
// encoding/json, which stays the reference (FuzzListPage checks they agree).
type scanner struct {
	b   []byte
	i   int
	bad bool
}

func (s *scanner) fail() { s.bad = true; s.i = len(s.b) }

func (s *scanner) peek() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	s.fail()
	return 0
}

func (s *scanner) eat(c byte) bool {
	if !s.bad && s.peek() == c {
		s.i++
		return true
	}
	return false
}

// null consumes a null, which encoding/json treats as "leave unset".
func (s *scanner) null() bool { return s.peek() == 'n' && s.lit("null") }

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		s.fail()
		return false
	}
	s.i += len(w)
	return true
}

// object calls field for each key (its bytes are only valid during the call);
// field must consume the value.
func (s *scanner) object(field func(key []byte)) {
	if s.null() {
		return
	}
	if !s.eat('{') {
		s.fail()
		return
	}
	if s.eat('}') {
		return
	}
	for !s.bad {
		k := s.strBytes()
		if !s.eat(':') {
			s.fail()
			return
		}
		field(k)
		if !s.eat(',') {
			if !s.eat('}') {
				s.fail()
			}
			return
		}
	}
}

func (s *scanner) array(elem func()) {
	if s.null() {
		return
	}
	if !s.eat('[') {
		s.fail()
		return
	}
	if s.eat(']') {
		return
	}
	for !s.bad {
		elem()
		if !s.eat(',') {
			if !s.eat(']') {
				s.fail()
			}
			return
		}
	}
}

// strBytes reads a string; plain ASCII or valid UTF-8 without escapes is
// returned in place, anything else is unquoted by encoding/json.
func (s *scanner) strBytes() []byte {
	if !s.eat('"') {
		s.fail()
		return nil
	}
	start, plain := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			if !plain || !utf8.Valid(s.b[start:s.i-1]) {
				return s.unquote(start - 1)
			}
			return s.b[start : s.i-1]
		case c == '\\':
			plain = false
			s.i++
		case c < 0x20:
			s.fail()
			return nil
		}
	}
	s.fail()
	return nil
}

func (s *scanner) unquote(from int) []byte {
	var v string
	if json.Unmarshal(s.b[from:s.i], &v) != nil {
		s.fail()
		return nil
	}
	return []byte(v)
}

func (s *scanner) str() string {
	if s.null() {
		return ""
	}
	return string(s.strBytes())
}

func (s *scanner) boolean() bool {
	switch s.peek() {
	case 't':
		return s.lit("true")
	case 'f':
		s.lit("false")
	case 'n':
		s.lit("null")
	default:
		s.fail()
	}
	return false
}

// skip consumes any value, checking it is well formed.
func (s *scanner) skip() {
	switch c := s.peek(); {
	case c == '{':
		s.object(func([]byte) { s.skip() })
	case c == '[':
		s.array(s.skip)
	case c == '"':
		s.strBytes()
	case c == 't':
		s.lit("true")
	case c == 'f':
		s.lit("false")
	case c == 'n':
		s.lit("null")
	default:
		s.number()
	}
}

// number checks -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *scanner) number() {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		s.fail()
		return
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			s.fail()
			return
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			s.fail()
		}
	}
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// end checks that nothing but white space follows the value.
func (s *scanner) end() {
	for s.i < len(s.b) {
		if c := s.b[s.i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			s.fail()
			return
		}
		s.i++
	}
}

// keys guards an object's known keys: a repeat, or an unknown key that is not
// plain lower-case ASCII (encoding/json matches keys case-insensitively), makes
// the scanner give up rather than differ from encoding/json.
type keys uint16

func (k *keys) once(s *scanner, bit int) bool {
	if *k&(1<<bit) != 0 {
		s.fail()
		return false
	}
	*k |= 1 << bit
	return true
}

func (s *scanner) unknown(key []byte) {
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			s.fail()
			return
		}
	}
	s.skip()
}
