package auth

import (
	"strings"
	"testing"
)

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"", "correct horse battery staple", "pässwörd ✓", strings.Repeat("x", 4096)} {
		enc, err := HashPassword(TestParams, pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("unexpected encoding %q", enc)
		}
		ok, err := VerifyPassword(enc, pw)
		if err != nil || !ok {
			t.Fatalf("VerifyPassword(own hash) = %v, %v", ok, err)
		}
		ok, err = VerifyPassword(enc, pw+"x")
		if err != nil || ok {
			t.Fatalf("wrong password accepted: %v, %v", ok, err)
		}
	}
}

func TestHashPasswordSalts(t *testing.T) {
	a, _ := HashPassword(TestParams, "pw")
	b, _ := HashPassword(TestParams, "pw")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestDefaultParamsVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("uses the production cost")
	}
	enc, err := HashPassword(DefaultParams, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(enc, "$m=19456,t=2,p=1$") {
		t.Fatalf("default params not encoded: %q", enc)
	}
	if ok, err := VerifyPassword(enc, "pw"); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestHashPasswordRejectsBadParams(t *testing.T) {
	for _, p := range []Params{{}, {Memory: 64, Time: 0, Threads: 1}, {Memory: 4, Time: 1, Threads: 1}, {Memory: 1 << 30, Time: 1, Threads: 1}} {
		if _, err := HashPassword(p, "pw"); err == nil {
			t.Errorf("HashPassword(%+v) succeeded", p)
		}
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, err := HashPassword(TestParams, "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	cases := map[string]string{
		"empty":             "",
		"bcrypt":            "$2a$10$abcdefghijklmnopqrstuu5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b",
		"argon2i":           "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"old version":       "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"missing params":    "$argon2id$v=19$" + salt + "$" + key,
		"param order":       "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"leading zero":      "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key,
		"negative":          "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"huge memory":       "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,
		"overflow memory":   "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key,
		"huge time":         "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"huge cost":         "$argon2id$v=19$m=262144,t=32,p=1$" + salt + "$" + key,
		"huge threads":      "$argon2id$v=19$m=65536,t=1,p=255$" + salt + "$" + key,
		"wrapping threads":  "$argon2id$v=19$m=64,t=1,p=257$" + salt + "$" + key,
		"zero threads":      "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"tiny memory":       "$argon2id$v=19$m=1,t=1,p=1$" + salt + "$" + key,
		"padded salt":       "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"short salt":        "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key,
		"short hash":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"huge hash":         "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 200),
		"bad base64":        "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:len(key)-1] + "!",
		"trailing field":    good + "$",
		"extra param":       "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key,
		"missing leading $": good[1:],
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, err := VerifyPassword(enc, "pw")
			if err == nil || ok {
				t.Fatalf("VerifyPassword(%q) = %v, %v; want an error", enc, ok, err)
			}
		})
	}
}

func TestVerifyPasswordTampered(t *testing.T) {
	good, err := HashPassword(TestParams, "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	for name, enc := range map[string]string{
		"salt":   strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$"),
		"hash":   strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], flip(parts[5])}, "$"),
		"params": strings.Replace(good, "t=1", "t=2", 1),
	} {
		ok, err := VerifyPassword(enc, "pw")
		if err != nil || ok {
			t.Errorf("%s tampered: VerifyPassword = %v, %v; want false, nil", name, ok, err)
		}
	}
}

func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword(TestParams, "pw")
	f.Add(good)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, enc string) {
		p, salt, key, err := parseHash(enc)
		if err != nil {
			return
		}
		// Anything the parser accepts must be cheap to compute and must
		// be the one canonical spelling of itself.
		if p.validate() != nil || p.Memory > maxMemory {
			t.Fatalf("parser accepted out-of-range params %+v", p)
		}
		if len(salt) < minSalt || len(key) < minKey {
			t.Fatalf("parser accepted short salt or key")
		}
		if p.Memory > 4096 || p.Time > 4 {
			return // valid but too slow to run on every fuzz input
		}
		if _, err := VerifyPassword(enc, "pw"); err != nil {
			t.Fatalf("VerifyPassword rejected what parseHash accepted: %v", err)
		}
	})
}
