package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func testKeyring(t *testing.T, seed byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(bytes.Repeat([]byte{seed}, MasterKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	valid := map[string]string{
		"hex":            hex.EncodeToString(raw),
		"hex upper":      strings.ToUpper(hex.EncodeToString(raw)),
		"base64":         base64.StdEncoding.EncodeToString(raw),
		"base64 newline": base64.StdEncoding.EncodeToString(raw) + "\n",
		"raw base64url":  base64.RawURLEncoding.EncodeToString(raw),
	}
	for name, s := range valid {
		k, err := ParseKey(s)
		if err != nil || !bytes.Equal(k, raw) {
			t.Errorf("%s: ParseKey = %x, %v", name, k, err)
		}
	}
	invalid := map[string]string{
		"empty":        "",
		"short hex":    hex.EncodeToString(raw[:31]),
		"short base64": base64.StdEncoding.EncodeToString(raw[:16]),
		"passphrase":   "my very secret passphrase!!!!!!!!!!!!!!",
	}
	for name, s := range invalid {
		_, err := ParseKey(s)
		if err == nil {
			t.Errorf("%s: ParseKey accepted %q", name, s)
			continue
		}
		if !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
			t.Errorf("%s: error does not name the setting: %v", name, err)
		}
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("%s: error repeats the value: %v", name, err)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != MasterKeyLen {
		t.Fatalf("key is %d bytes", len(k1))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load = %x, %v; want the same key", k2, err)
	}
	// The file's content is usable as SWITCHBOARD_SECRET_KEY.
	b, _ := os.ReadFile(path)
	if k3, err := ParseKey(string(b)); err != nil || !bytes.Equal(k1, k3) {
		t.Fatalf("file content does not parse as a configured key: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first starts got different keys")
		}
	}
}

func TestLoadOrCreateKeyCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
	// It must not have been replaced: that would orphan every secret
	// encrypted with the old key.
	if b, _ := os.ReadFile(path); string(b) != "short" {
		t.Fatal("corrupt key file was overwritten")
	}
}

func TestNewKeyringShortKey(t *testing.T) {
	if _, err := NewKeyring(make([]byte, 16)); err == nil {
		t.Fatal("16-byte master key accepted")
	}
}

func TestSealOpen(t *testing.T) {
	k := testKeyring(t, 1)
	ad := []byte("app1/bot1")
	pt := []byte("AKIA... wJalrXUtnFEMI/K7MDENG")
	sealed, err := k.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, pt) {
		t.Fatal("ciphertext contains the plaintext")
	}
	again, _ := k.Seal(pt, ad)
	if bytes.Equal(sealed, again) {
		t.Fatal("sealing twice gives the same bytes: nonce is not random")
	}
	got, err := k.Open(sealed, ad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := k.Open(mustSeal(t, k, nil, ad), ad); err != nil || len(got) != 0 {
		t.Fatalf("empty plaintext: Open = %q, %v", got, err)
	}

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	cases := []struct {
		name   string
		k      *Keyring
		sealed []byte
		ad     []byte
	}{
		{"other app", k, sealed, []byte("app2/bot1")},
		{"no ad", k, sealed, nil},
		{"wrong key", testKeyring(t, 2), sealed, ad},
		{"version byte", k, flip(0), ad},
		{"nonce", k, flip(3), ad},
		{"ciphertext", k, flip(len(sealed) - 20), ad},
		{"tag", k, flip(len(sealed) - 1), ad},
		{"truncated", k, sealed[:len(sealed)-1], ad},
		{"too short", k, sealed[:10], ad},
		{"empty", k, nil, ad},
	}
	for _, c := range cases {
		if _, err := c.k.Open(c.sealed, c.ad); err == nil {
			t.Errorf("%s: Open succeeded", c.name)
		}
	}
}

func mustSeal(t *testing.T, k *Keyring, pt, ad []byte) []byte {
	t.Helper()
	s, err := k.Seal(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubkeysIndependent(t *testing.T) {
	k := testKeyring(t, 1)
	if bytes.Equal(k.urlKey, k.widget) || len(k.widget) != 32 {
		t.Fatal("subkeys are not independent")
	}
	w := k.WidgetKey()
	w[0] ^= 1
	if bytes.Equal(w, k.widget) {
		t.Fatal("WidgetKey exposes the keyring's own slice")
	}
}

func TestSignedURL(t *testing.T) {
	k := testKeyring(t, 1)
	now := time.Unix(1_700_000_000, 0)
	path := "/files/01hx/upload 1/résumé.pdf"
	signed := k.SignURL(path, now.Add(time.Hour))
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != path {
		t.Fatalf("signed URL decodes to path %q, want %q", u.Path, path)
	}
	q := u.Query()
	exp, sig := q.Get("expires"), q.Get("sig")
	if err := k.VerifyURL(u.Path, exp, sig, now); err != nil {
		t.Fatalf("fresh URL rejected: %v", err)
	}
	if err := k.VerifyURL(u.Path, exp, sig, now.Add(time.Hour)); err != nil {
		t.Fatalf("URL rejected at its expiry second: %v", err)
	}
	cases := []struct {
		name, path, exp, sig string
		now                  time.Time
	}{
		{"expired", path, exp, sig, now.Add(time.Hour + time.Second)},
		{"other path", "/files/01hx/upload 2/résumé.pdf", exp, sig, now},
		{"extended expiry", path, "9999999999", sig, now},
		{"non-canonical expiry", path, "+" + exp, sig, now},
		{"forged sig", path, exp, strings.Repeat("A", 43), now},
		{"empty sig", path, exp, "", now},
		{"bad base64", path, exp, "!!!", now},
		{"wrong key", path, exp, sig, time.Time{}},
	}
	for _, c := range cases {
		kr := k
		if c.name == "wrong key" {
			kr, c.now = testKeyring(t, 2), now
		}
		err := kr.VerifyURL(c.path, c.exp, c.sig, c.now)
		if !chat.IsCode(err, chat.CodeNotFound) {
			t.Errorf("%s: VerifyURL = %v, want not_found", c.name, err)
		}
	}
}
