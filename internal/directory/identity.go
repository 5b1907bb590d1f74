package directory

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// SourceAPI owns every user and group an admin creates: through the API, the
// CLI, the web UI or a CSV file. Sources such as SCIM or LDAP name themselves,
// and each changes only what it owns.
const SourceAPI = "api"

// sourceRE allows names such as "api", "scim" or "ldap:corp-eu".
var sourceRE = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,63}$`)

// ValidSource reports whether s can name an owning source.
func ValidSource(s string) bool { return sourceRE.MatchString(s) }

// keyRE is the canonical, lowercase text form of a UUID (RFC 9562).
var keyRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ValidExternalKey reports whether k is a UUID in canonical lowercase form.
func ValidExternalKey(k string) bool { return keyRE.MatchString(k) }

// NewExternalKey returns a fresh external key: a version 7 UUID (RFC 9562),
// 48 bits of Unix milliseconds of at and 74 random bits. It never changes
// once given, whatever is renamed. Keys made later sort later, so a bulk
// load appends to the key index instead of touching a random page per row.
func NewExternalKey(at time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(b[:6], ms[2:])
	b[6] = 0x70 | b[6]&0x0f // version 7
	b[8] = 0x80 | b[8]&0x3f // variant 10
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:], b[10:])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// checkIdentity checks an owning source and external key; empty ones are
// filled in on creation (Normalize, the store).
func checkIdentity(source, key string) []error {
	var errs []error
	if source != "" && !ValidSource(source) {
		errs = append(errs, fmt.Errorf("source %q must start with a lowercase letter and hold only a-z, 0-9, _ . : - (at most 64)", source))
	}
	if key != "" && !ValidExternalKey(key) {
		errs = append(errs, fmt.Errorf("external key %q is not a lowercase UUID", key))
	}
	return errs
}

const maxAttrNameLen = 255

var (
	// plainAttrRE is the attribute name of old: an identifier.
	plainAttrRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// urnAttrRE is a SCIM-style name: a URN (RFC 8141, ASCII letters, digits
	// and - . _ in its parts) whose last part is a SCIM attribute name,
	// optionally with one sub-attribute (RFC 7643 §2.1), e.g.
	// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department.
	urnAttrRE = regexp.MustCompile(`^(?i:urn):[A-Za-z0-9][A-Za-z0-9-]{0,31}(:[A-Za-z0-9._-]+)*:[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)?$`)
)

// ValidAttributeName reports whether k may name a profile attribute: an
// identifier of at most 64 characters, or a URN-style SCIM name of at most 255.
func ValidAttributeName(k string) bool {
	return plainAttrRE.MatchString(k) || len(k) <= maxAttrNameLen && urnAttrRE.MatchString(k)
}
