package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/roster-dev/roster/internal/directory"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), so a
// sign-in costs tens of milliseconds on a small server while a stolen hash
// stays expensive to guess. They are stored with each hash, so raising them
// later keeps old hashes working.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password length limits: long enough to resist guessing, bounded so a huge
// input cannot make hashing a denial of service.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// CheckPasswordPolicy says what is wrong with a new password, if anything.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || len(pw) > MaxPasswordLen {
		return fmt.Errorf("%w: a password must be %d to %d characters long", directory.ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// HashPassword returns an encoded argon2id hash of pw with a fresh salt.
func HashPassword(pw string) ([]byte, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return nil, err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

var errBadHash = errors.New("stored password hash is not an argon2id hash")

// PasswordMatches reports whether pw matches an encoded hash.
func PasswordMatches(encoded []byte, pw string) (bool, error) {
	parts := strings.Split(string(encoded), "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version, mem, iter int
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil || mem < 1 || iter < 1 || threads < 1 {
		return false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, uint32(iter), uint32(mem), threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// hashSlots bounds how many password checks run at once. Each holds 19 MiB
// of argon2id memory and a core for tens of milliseconds: unbounded, a flood
// of sign-ins takes the machine's memory and CPU from everything else.
type hashSlots struct {
	ch   chan struct{}
	wait time.Duration // the longest a check waits for a slot
}

func newHashSlots(n int, wait time.Duration) *hashSlots {
	return &hashSlots{ch: make(chan struct{}, n), wait: wait}
}

// defaultHashSlots is one slot per core, from 2 to 4.
func defaultHashSlots() int { return min(4, max(2, runtime.GOMAXPROCS(0))) }

var errBusy = errors.New("too many password checks at once")

// matches is PasswordMatches in a slot; errBusy if none is free within the wait.
func (h *hashSlots) matches(ctx context.Context, encoded []byte, pw string) (bool, error) {
	if len(pw) > MaxPasswordLen {
		return false, nil // never hashed, so it need not wait
	}
	select {
	case h.ch <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case h.ch <- struct{}{}:
		case <-t.C:
			return false, errBusy
		case <-ctx.Done():
			return false, fmt.Errorf("%w: %w", errBusy, ctx.Err())
		}
	}
	defer func() { <-h.ch }()
	return PasswordMatches(encoded, pw)
}
