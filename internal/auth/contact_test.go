package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestContactToken(t *testing.T) {
	k := testKeyring(t, 1)
	other := testKeyring(t, 2)
	now := time.Unix(1_700_000_000, 0)
	tok := k.ContactToken("app1", "contact1", now.Add(time.Hour))

	app, contact, err := k.VerifyContactToken(tok, now)
	if err != nil || app != "app1" || contact != "contact1" {
		t.Fatalf("verify = %q %q %v", app, contact, err)
	}
	if len(tok) > 100 {
		t.Errorf("token is %d bytes; it should be compact", len(tok))
	}
	// Ids may hold dots and colons: a token for one split must not verify
	// as another.
	dotted := k.ContactToken("a.b", "c:d", now.Add(time.Hour))
	if app, contact, err := k.VerifyContactToken(dotted, now); err != nil || app != "a.b" || contact != "c:d" {
		t.Fatalf("dotted ids: %q %q %v", app, contact, err)
	}

	sigAt := strings.LastIndexByte(tok, '~')
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	bad := map[string]string{
		"empty":            "",
		"garbage":          "not a token",
		"other key":        other.ContactToken("app1", "contact1", now.Add(time.Hour)),
		"changed contact":  strings.Replace(tok, "contact1", "contact2", 1),
		"changed app":      strings.Replace(tok, "app1", "app2", 1),
		"flipped sig":      flip(tok, len(tok)-2),
		"truncated sig":    tok[:len(tok)-3],
		"no sig":           tok[:sigAt],
		"extra field":      "x~" + tok,
		"too long":         tok + strings.Repeat("A", MaxContactTokenLen),
		"expired":          k.ContactToken("app1", "contact1", now.Add(-time.Second)),
		"signed bad id":    k.ContactToken("app 1", "contact1", now.Add(time.Hour)),
		"signed empty ids": k.ContactToken("", "", now.Add(time.Hour)),
	}
	for name, tok := range bad {
		_, _, err := k.VerifyContactToken(tok, now)
		if !chat.IsCode(err, chat.CodeUnauthenticated) {
			t.Errorf("%s: err = %v, want unauthenticated", name, err)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("%s: empty error", name)
		}
	}
	// Valid up to and including the expiry second.
	if _, _, err := k.VerifyContactToken(tok, now.Add(time.Hour)); err != nil {
		t.Errorf("at expiry: %v", err)
	}
}
