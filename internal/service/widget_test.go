package service_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/service"
)

func TestUserHashIsHMACSHA256OfTheUserID(t *testing.T) {
	// What an app's server computes, by the book.
	m := hmac.New(sha256.New, []byte("app-secret"))
	m.Write([]byte("user-42"))
	want := hex.EncodeToString(m.Sum(nil))
	if got := service.UserHash("app-secret", "user-42"); got != want {
		t.Fatalf("UserHash = %s, want %s", got, want)
	}
	if service.UserHash("app-secret", "user-43") == want || service.UserHash("other-secret", "user-42") == want {
		t.Fatal("the hash ignores its inputs")
	}
}

func TestPseudonymIsStablePerVisitor(t *testing.T) {
	a := service.Pseudonym("aaaaaaaaaaaaaaaaaaaaaa")
	if a == "" || a != service.Pseudonym("aaaaaaaaaaaaaaaaaaaaaa") {
		t.Fatalf("pseudonym %q is not stable", a)
	}
	seen := map[string]bool{}
	for _, id := range []string{"v1v1v1v1v1v1v1v1", "v2v2v2v2v2v2v2v2", "v3v3v3v3v3v3v3v3", "v4v4v4v4v4v4v4v4", "v5v5v5v5v5v5v5v5", "v6v6v6v6v6v6v6v6"} {
		seen[service.Pseudonym(id)] = true
	}
	if len(seen) < 4 {
		t.Errorf("six visitors share %d pseudonyms: %v", len(seen), seen)
	}
}
