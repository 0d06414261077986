package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// A contact token lets a widget (a browser with no account) open the
// realtime connection as one contact of one app. It is stateless: the
// server keeps nothing per token, so issuing one costs nothing and any node
// can check it. Its form is
//
//	ct1~<appId>~<contactId>~<expiry, unix seconds in base 36>~<signature>
//
// "~" is URL-safe and appears neither in ids (chat.ValidateID allows dots
// and colons, so those could shift a field boundary) nor in base64url, so
// the fields cannot be re-split into another valid token; the signature is a truncated HMAC-SHA256 with the widget subkey
// over everything before it. 128 bits of MAC are plenty for a value that
// expires within a day and cannot be checked offline without the key.
const (
	contactTokenPrefix = "ct1"
	contactTokenDomain = "switchboard/contact-token/v1|"
	contactTokenMACLen = 16
	// ContactTokenTTL is how long an issued contact token is valid. A day
	// covers a long chat; the widget asks for a new one when it reloads.
	ContactTokenTTL = 24 * time.Hour
	// MaxContactTokenLen bounds what VerifyContactToken will look at.
	MaxContactTokenLen = 256
)

// ErrContactToken is the one answer to a forged, malformed or expired
// contact token: a client learns nothing about which part was wrong.
var ErrContactToken = chat.Errorf(chat.CodeUnauthenticated, "invalid or expired contact token")

// ContactToken signs a token for contactID of appID, valid until expires.
func (k *Keyring) ContactToken(appID, contactID string, expires time.Time) string {
	body := contactTokenPrefix + "~" + appID + "~" + contactID + "~" + strconv.FormatInt(expires.Unix(), 36)
	return body + "~" + base64.RawURLEncoding.EncodeToString(k.contactMAC(body))
}

func (k *Keyring) contactMAC(body string) []byte {
	m := hmac.New(sha256.New, k.widget)
	m.Write([]byte(contactTokenDomain))
	m.Write([]byte(body))
	return m.Sum(nil)[:contactTokenMACLen]
}

// VerifyContactToken checks tok's signature (in constant time) and expiry
// and returns whom it names. Every failure is ErrContactToken, with the
// reason kept as its cause for logs.
func (k *Keyring) VerifyContactToken(tok string, now time.Time) (appID, contactID string, err error) {
	if len(tok) > MaxContactTokenLen {
		return "", "", contactTokenError("too long")
	}
	i := strings.LastIndexByte(tok, '~')
	if i < 0 {
		return "", "", contactTokenError("malformed")
	}
	body, sig := tok[:i], tok[i+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.contactMAC(body)) {
		return "", "", contactTokenError("bad signature")
	}
	parts := strings.Split(body, "~")
	if len(parts) != 4 || parts[0] != contactTokenPrefix {
		return "", "", contactTokenError("malformed")
	}
	exp, err := strconv.ParseInt(parts[3], 36, 64)
	if err != nil {
		return "", "", contactTokenError("bad expiry")
	}
	if now.Unix() > exp {
		return "", "", contactTokenError("expired")
	}
	if chat.ValidateID("appId", parts[1]) != nil || chat.ValidateID("contactId", parts[2]) != nil {
		return "", "", contactTokenError("bad id")
	}
	return parts[1], parts[2], nil
}

func contactTokenError(reason string) error {
	e := *ErrContactToken
	e.Cause = errors.New("contact token: " + reason)
	return &e
}
