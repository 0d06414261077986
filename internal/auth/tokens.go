package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// API keys look like sbk_<prefix>_<secret>. The fixed "sbk_" marker lets
// secret scanners (and people) recognise a leaked key; the prefix is stored in
// clear to find the key's row, so a lookup needs no scan and no slow hash; the
// secret is 52 base32 characters, 260 bits of entropy.
//
// Only SHA-256 of the whole key is stored. Slow password hashing exists to
// make guessing low-entropy human passwords expensive; a 260-bit random
// secret cannot be guessed however fast the hash is, so a slow hash would only
// add latency and CPU to every API request.
const (
	apiKeyMarker    = "sbk_"
	apiKeyPrefixLen = 12
	apiKeySecretLen = 52
	apiKeyLen       = len(apiKeyMarker) + apiKeyPrefixLen + 1 + apiKeySecretLen
)

// Lowercase base32: no characters that need escaping in a header, URL or
// shell, and the whole key is selected by one double-click.
const keyAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+ crashes
		// the program itself rather than return an error).
		panic("auth: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		// 256 is a multiple of 32, so masking keeps the symbols uniform.
		b[i] = keyAlphabet[b[i]&31]
	}
	return string(b)
}

// NewAPIKey returns a fresh key to show the user once, the prefix to store
// and look it up by, and the hash to store.
func NewAPIKey() (secret, prefix string, hash []byte) {
	prefix = randomString(apiKeyPrefixLen)
	secret = apiKeyMarker + prefix + "_" + randomString(apiKeySecretLen)
	sum := sha256.Sum256([]byte(secret))
	return secret, prefix, sum[:]
}

// ParseAPIKey checks a presented key's form and returns the prefix to look up
// and the hash to compare, so malformed keys are refused without touching the
// database.
func ParseAPIKey(s string) (prefix string, hash []byte, err error) {
	if len(s) != apiKeyLen || !strings.HasPrefix(s, apiKeyMarker) || s[len(apiKeyMarker)+apiKeyPrefixLen] != '_' {
		return "", nil, errBadAPIKey()
	}
	prefix = s[len(apiKeyMarker) : len(apiKeyMarker)+apiKeyPrefixLen]
	if !inAlphabet(prefix) || !inAlphabet(s[len(s)-apiKeySecretLen:]) {
		return "", nil, errBadAPIKey()
	}
	sum := sha256.Sum256([]byte(s))
	return prefix, sum[:], nil
}

func errBadAPIKey() error {
	return chat.Errorf(chat.CodeUnauthenticated, "invalid API key")
}

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(keyAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// CheckAPIKey compares a stored hash with a presented one in constant time.
// Empty or truncated hashes never match, so a row with a missing hash cannot
// be opened by a missing key.
func CheckAPIKey(stored, presented []byte) bool {
	return len(stored) == sha256.Size && subtle.ConstantTimeCompare(stored, presented) == 1
}

// Session and CSRF tokens are 32 random bytes in unpadded base64url: safe in
// a cookie and a header as they are.
const (
	tokenBytes = 32
	tokenLen   = 43 // base64.RawURLEncoding.EncodedLen(tokenBytes)
)

func newToken() string {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewSessionToken returns a token for the session cookie and the hash to
// store. Only the hash is stored so that a leaked database (or backup) does
// not hand out live sessions.
func NewSessionToken() (token string, hash []byte) {
	token = newToken()
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

// HashToken checks a presented session token's form and returns the hash to
// look the session up by.
func HashToken(token string) ([]byte, error) {
	if len(token) != tokenLen {
		return nil, errBadSession()
	}
	// Strict decoding gives each token exactly one spelling.
	if _, err := base64.RawURLEncoding.Strict().DecodeString(token); err != nil {
		return nil, errBadSession()
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], nil
}

func errBadSession() error {
	return chat.Errorf(chat.CodeUnauthenticated, "invalid or expired session")
}

// NewCSRFToken returns a token to store with a session and hand to the
// dashboard, which echoes it in the CSRF header on every change.
func NewCSRFToken() string { return newToken() }

// CheckCSRF compares the session's CSRF token with the one the request
// carries, in constant time. An empty token never matches, so a session
// created without one cannot be driven by a request without one.
func CheckCSRF(sessionToken, presentedHeader string) bool {
	if sessionToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sessionToken), []byte(presentedHeader)) == 1
}
