package auth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestAPIKeyRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		secret, prefix, hash := NewAPIKey()
		if !strings.HasPrefix(secret, "sbk_"+prefix+"_") || len(prefix) != 12 {
			t.Fatalf("unexpected key shape %q (prefix %q)", secret, prefix)
		}
		if seen[prefix] {
			t.Fatalf("prefix %q repeated", prefix)
		}
		seen[prefix] = true
		p, h, err := ParseAPIKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if p != prefix || !CheckAPIKey(hash, h) {
			t.Fatal("a fresh key does not check against its own hash")
		}
	}
}

func TestParseAPIKeyMalformed(t *testing.T) {
	good, _, _ := NewAPIKey()
	cases := map[string]string{
		"empty":         "",
		"bearer word":   "Bearer " + good,
		"uppercase":     strings.ToUpper(good),
		"other marker":  "sk_" + good[3:],
		"no separator":  good[:16] + "x" + good[17:],
		"truncated":     good[:len(good)-1],
		"extra char":    good + "a",
		"bad char":      good[:len(good)-1] + "1",
		"space":         good[:20] + " " + good[21:],
		"prefix symbol": good[:5] + "-" + good[6:],
		"newline":       good[:len(good)-1] + "\n",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := ParseAPIKey(s)
			if !chat.IsCode(err, chat.CodeUnauthenticated) {
				t.Fatalf("err = %v, want unauthenticated", err)
			}
			if s != "" && strings.Contains(err.Error(), s) {
				t.Fatal("error message repeats the presented key")
			}
		})
	}
}

func TestCheckAPIKey(t *testing.T) {
	_, _, hash := NewAPIKey()
	other := sha256.Sum256([]byte("other"))
	cases := []struct {
		name              string
		stored, presented []byte
		want              bool
	}{
		{"same", hash, bytes.Clone(hash), true},
		{"different", hash, other[:], false},
		{"both empty", nil, nil, false},
		{"stored empty", nil, hash, false},
		{"presented truncated", hash, hash[:16], false},
		{"stored truncated", hash[:16], hash[:16], false},
	}
	for _, c := range cases {
		if got := CheckAPIKey(c.stored, c.presented); got != c.want {
			t.Errorf("%s: CheckAPIKey = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSessionToken(t *testing.T) {
	tok, hash := NewSessionToken()
	got, err := HashToken(tok)
	if err != nil || !bytes.Equal(got, hash) {
		t.Fatalf("HashToken(new token) = %x, %v; want %x", got, err, hash)
	}
	if _, err := HashToken(strings.Repeat("A", 43)); err != nil {
		t.Fatalf("canonical all-zero token rejected: %v", err)
	}
	tok2, hash2 := NewSessionToken()
	if tok2 == tok || bytes.Equal(hash, hash2) {
		t.Fatal("two session tokens are equal")
	}
	for name, s := range map[string]string{
		"empty":      "",
		"short":      tok[:42],
		"long":       tok + "A",
		"padded":     tok[:42] + "=",
		"std base64": tok[:42] + "+",
		"space":      " " + tok[1:],
		// 43 symbols carry 258 bits; the 2 spare bits of a canonical
		// 32-byte token are zero, and "B" sets one of them.
		"noncanonical": strings.Repeat("A", 42) + "B",
		"quoted json":  `"` + tok[2:] + `"`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := HashToken(s); !chat.IsCode(err, chat.CodeUnauthenticated) {
				t.Fatalf("HashToken(%q) err = %v, want unauthenticated", s, err)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	a, b := NewCSRFToken(), NewCSRFToken()
	cases := []struct {
		name, stored, presented string
		want                    bool
	}{
		{"match", a, a, true},
		{"other token", a, b, false},
		{"missing header", a, "", false},
		{"empty both", "", "", false},
		{"prefix", a, a[:10], false},
	}
	for _, c := range cases {
		if got := CheckCSRF(c.stored, c.presented); got != c.want {
			t.Errorf("%s: CheckCSRF = %v, want %v", c.name, got, c.want)
		}
	}
}

func FuzzParseAPIKey(f *testing.F) {
	good, _, _ := NewAPIKey()
	f.Add(good)
	f.Add("sbk_aaaaaaaaaaaa_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		prefix, hash, err := ParseAPIKey(s)
		if err != nil {
			if !chat.IsCode(err, chat.CodeUnauthenticated) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if len(prefix) != apiKeyPrefixLen || !strings.HasPrefix(s, "sbk_"+prefix+"_") || len(hash) != sha256.Size {
			t.Fatalf("accepted %q with prefix %q", s, prefix)
		}
		if want := sha256.Sum256([]byte(s)); !CheckAPIKey(want[:], hash) {
			t.Fatal("hash is not SHA-256 of the key")
		}
	})
}

func FuzzHashToken(f *testing.F) {
	tok, _ := NewSessionToken()
	f.Add(tok)
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Fuzz(func(t *testing.T, s string) {
		hash, err := HashToken(s)
		if err != nil {
			if !chat.IsCode(err, chat.CodeUnauthenticated) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if len(s) != tokenLen || len(hash) != sha256.Size {
			t.Fatalf("accepted %q", s)
		}
	})
}
