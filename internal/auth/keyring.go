package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Each purpose gets its own subkey, so that no value made for one purpose
// (a URL signature, a ciphertext, a widget token) can ever be replayed as
// another, and a subkey leaked through one feature exposes nothing else.
// The strings are part of the stored data's format: never change them.
const (
	purposeSecrets = "switchboard/v1/secrets" // AES-GCM for stored secrets
	purposeURLs    = "switchboard/v1/urls"    // HMAC for signed file URLs
	purposeWidget  = "switchboard/v1/widget"  // reserved for widget identity tokens
)

// sealVersion is the first byte of every sealed value. It names the key and
// format that made it, so a later key rotation can add version 2 and still
// open version 1 values while they are re-encrypted.
const sealVersion byte = 1

// Keyring holds the subkeys derived from the installation's secret key.
type Keyring struct {
	aead   cipher.AEAD
	urlKey []byte
	widget []byte
}

// NewKeyring derives the subkeys from master (from ParseKey or
// LoadOrCreateKey).
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) < MasterKeyLen {
		return nil, fmt.Errorf("auth: secret key is %d bytes, need at least %d", len(master), MasterKeyLen)
	}
	derive := func(purpose string) ([]byte, error) {
		// The master key is already uniformly random, so HKDF needs no salt.
		return hkdf.Key(sha256.New, master, nil, purpose, 32)
	}
	secrets, err := derive(purposeSecrets)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(secrets)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Keyring{aead: aead}
	if k.urlKey, err = derive(purposeURLs); err != nil {
		return nil, err
	}
	if k.widget, err = derive(purposeWidget); err != nil {
		return nil, err
	}
	return k, nil
}

// WidgetKey returns the subkey reserved for signing widget identity tokens.
func (k *Keyring) WidgetKey() []byte { return append([]byte(nil), k.widget...) }

var errOpen = errors.New("auth: cannot decrypt: wrong key, tampered data or wrong owner")

// Seal encrypts a secret for storage with AES-256-GCM. associatedData names
// the secret's owner (for example app id and bot id): it is not stored, but
// Open must be given the same value, so a ciphertext copied into another
// app's row does not decrypt there.
func (k *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	// Random 96-bit nonces are safe for far more secrets than an
	// installation will ever store (the limit is around 2^32 per key).
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		return nil, fmt.Errorf("auth: reading random nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:1+ns], plaintext, sealAD(sealVersion, associatedData)), nil
}

// Open decrypts what Seal produced for the same associatedData.
func (k *Keyring) Open(sealed, associatedData []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errOpen
	}
	pt, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealAD(sealVersion, associatedData))
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

// sealAD covers the version byte too, so it cannot be altered to make a
// future version's code misread a value.
func sealAD(version byte, ad []byte) []byte {
	return append([]byte{version}, ad...)
}

// SignURL returns path (unescaped, as in url.URL.Path) escaped, with an
// expiry and a signature appended, for links that must work without a
// session: a contact's browser loading an image, or a bot's code fetching an
// attachment.
func (k *Keyring) SignURL(path string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	u := url.URL{Path: path}
	return u.EscapedPath() + "?expires=" + exp + "&sig=" + k.urlSig(path, exp)
}

func (k *Keyring) urlSig(path, expires string) string {
	m := hmac.New(sha256.New, k.urlKey)
	// The length prefix keeps (path, expires) pairs from colliding when
	// concatenated.
	fmt.Fprintf(m, "%d:%s|%s", len(path), path, expires)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyURL checks a signed URL's query values against its path (unescaped,
// as in r.URL.Path). Forged, altered and expired URLs all get the same
// CodeNotFound: a 404 tells a prober nothing about whether the file exists
// or which part was wrong, and answers the same as an unknown id. The reason
// is kept in the error's Cause for logs.
func (k *Keyring) VerifyURL(path, expires, sig string, now time.Time) error {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	want, _ := base64.RawURLEncoding.DecodeString(k.urlSig(path, expires))
	if err != nil || !hmac.Equal(got, want) {
		return urlError("bad signature")
	}
	// Only values this package signed get here, so expires parses.
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return urlError("bad expiry")
	}
	if now.Unix() > exp {
		return urlError("expired")
	}
	return nil
}

func urlError(reason string) error {
	e := chat.NotFound("file")
	e.Cause = errors.New("signed url: " + reason)
	return e
}
