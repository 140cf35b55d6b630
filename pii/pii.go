// Package pii keeps personal data (ID number, phone, card number) encrypted at
// rest and findable (docs/security.md "Personal data"): a value is sealed with
// AES-256-GCM under the newest of several keys, the key's id stored with it so
// an older key still opens what it sealed (rotation); a keyed hash
// (HMAC-SHA256 under a key of its own) stands in for the value wherever it is
// compared: uniqueness of a verified ID number, the blacklist, ops' search.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// Prefix starts every sealed value: "pii:<key id>:<base64 of nonce and
// ciphertext>". No ID number, phone or card number contains it, so the
// migration step tells a plain value from a sealed one.
const Prefix = "pii:"

// Env names the keys come from (app.Config).
const (
	// EnvKeys is the encryption keys, "id:base64,id:base64…", each 32 bytes;
	// the first seals, any opens what it sealed.
	EnvKeys = "PII_KEYS"
	// EnvHashKey is the keyed hash's key (base64, at least 32 bytes).
	EnvHashKey = "PII_HASH_KEY"
)

// Keyring is the keys of one process.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	hashKey []byte
}

// Parse reads the keys in the forms of EnvKeys and EnvHashKey.
func Parse(keys, hashKey string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, item := range strings.Split(keys, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok || id == "" || strings.ContainsAny(id, ":") {
			return nil, fmt.Errorf("%s item %d: want id:base64", EnvKeys, i+1)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s key %q: want 32 bytes in base64", EnvKeys, id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("%s: key id %q twice", EnvKeys, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		if k.aeads[id], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
		if i == 0 {
			k.current = id
		}
	}
	raw, err := base64.StdEncoding.DecodeString(hashKey)
	if err != nil || len(raw) < 32 {
		return nil, fmt.Errorf("%s: want at least 32 bytes in base64", EnvHashKey)
	}
	k.hashKey = raw
	return k, nil
}

// Dev is the keyring of a sandbox (make up, tests) when the environment
// names none: its keys are derived from words in this file, so they protect
// nothing and app.Config refuses them outside the sandbox.
func Dev() *Keyring {
	key := func(s string) string {
		sum := sha256.Sum256([]byte("lendflow dev only: " + s))
		return base64.StdEncoding.EncodeToString(sum[:])
	}
	k, err := Parse("dev:"+key("seal"), key("hash"))
	if err != nil {
		panic(err)
	}
	return k
}

// Seal encrypts plain under the current key; "" stays "" (an ops user has no
// ID number), so emptiness needs no key.
func (k *Keyring) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on the platforms Go supports
	}
	// The key id is authenticated too: a value moved under another id fails.
	out := aead.Seal(nonce, nonce, []byte(plain), []byte(k.current))
	return Prefix + k.current + ":" + base64.StdEncoding.EncodeToString(out)
}

// ErrNotSealed is Open's answer for a value that is not sealed.
var ErrNotSealed = errors.New("pii: value is not sealed")

// Open decrypts what Seal made under any key of the ring.
func (k *Keyring) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, Prefix)
	if !ok {
		return "", ErrNotSealed
	}
	id, b64, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrNotSealed
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", fmt.Errorf("pii: no key %q in %s", id, EnvKeys)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", ErrNotSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(id))
	if err != nil {
		return "", fmt.Errorf("pii: key %q does not open the value: %w", id, err)
	}
	return string(plain), nil
}

// Hash is the keyed hash of v, the same for the same person however typed
// (spaces around, a lower-case x check character); nil for "".
func (k *Keyring) Hash(v string) []byte {
	v = Normalize(v)
	if v == "" {
		return nil
	}
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(v))
	return m.Sum(nil)
}

// Normalize is v as compared: trimmed, upper case.
func Normalize(v string) string { return strings.ToUpper(strings.TrimSpace(v)) }

// The process's keyring: every reader and writer of a users row needs it, and
// a process has one set of keys, so it is set once at start (app) rather
// than threaded through every service.
var current atomic.Pointer[Keyring]

// Use makes k the process's keyring.
func Use(k *Keyring) { current.Store(k) }

// Ring is the process's keyring. Package tests, which start no process, get
// Dev; a process that never called Use stops here rather than store plain
// values.
func Ring() *Keyring {
	if k := current.Load(); k != nil {
		return k
	}
	if testing.Testing() {
		k := Dev()
		current.CompareAndSwap(nil, k)
		return current.Load()
	}
	panic("pii: no keyring: the process must call pii.Use (" + EnvKeys + ")")
}

// Seal is Ring().Seal.
func Seal(plain string) string { return Ring().Seal(plain) }

// Open is Ring().Open.
func Open(sealed string) (string, error) { return Ring().Open(sealed) }

// Hash is Ring().Hash.
func Hash(v string) []byte { return Ring().Hash(v) }

// OpenPtr opens a nullable column.
func OpenPtr(sealed *string) (*string, error) {
	if sealed == nil {
		return nil, nil
	}
	v, err := Open(*sealed)
	return &v, err
}
