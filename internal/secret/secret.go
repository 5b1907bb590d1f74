// Package secret encrypts stored credentials (app tokens, client secrets) with
// AES-256-GCM. The key comes from ROSTER_SECRET_KEY or a key file created with
// mode 0600; it is never logged or printed.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey names the environment variable that may hold the key.
const EnvKey = "ROSTER_SECRET_KEY"

const keyLen = 32

// Box seals and opens secrets with one key.
type Box struct{ aead cipher.AEAD }

// ErrDecrypt means a sealed value was tampered with, bound to another context,
// or sealed with another key.
var ErrDecrypt = errors.New("cannot decrypt stored secret (wrong key or damaged data)")

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != keyLen {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", keyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext. context (for example "app:7") is authenticated but
// not stored, so a sealed token copied to another app's row will not open.
func (b *Box) Seal(plaintext []byte, context string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(context)), nil
}

// Open decrypts what Seal produced with the same context.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// ParseKey accepts a key as 64 hex digits or as base64 (standard or URL, padded or not).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == keyLen {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == keyLen {
			return k, nil
		}
	}
	return nil, fmt.Errorf("secret key must be %d bytes as 64 hex digits or base64", keyLen)
}

// Load returns a Box keyed from ROSTER_SECRET_KEY when set (getenv lets tests
// supply it), else from the key file at path, which is created with a fresh
// random key and mode 0600 if it does not exist.
func Load(getenv func(string) string, path string) (*Box, error) {
	b, err := Read(getenv, path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path)
	}
	return b, err
}

// Read is Load without creating the key file: a missing one is an error
// that matches fs.ErrNotExist.
func Read(getenv func(string) string, path string) (*Box, error) {
	if v := getenv(EnvKey); v != "" {
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return New(k)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret key file %s does not exist: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s is readable by others (mode %o); run chmod 600 on it", path, fi.Mode().Perm())
	}
	k, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return New(k)
}

// Source says where Load and Read take the key from, for messages.
func Source(getenv func(string) string, path string) string {
	if getenv(EnvKey) != "" {
		return "the environment variable " + EnvKey
	}
	return "the key file " + path
}

func create(path string) (*Box, error) {
	k := make([]byte, keyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret key directory: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load(func(string) string { return "" }, path)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return New(k)
}
