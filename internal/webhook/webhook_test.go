package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// The example of the Standard Webhooks specification: a receiver using any
// of its libraries verifies what Sign produces.
func TestSignMatchesTheSpecification(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := SecretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if err := Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,bogus "+got, []byte(`{"test": 2432232314}`),
		time.Unix(1614265330, 0), time.Minute); err != nil {
		t.Fatalf("Verify with the right signature among others: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecret()
	if _, err := SecretKey(s); err != nil || !strings.HasPrefix(s, "whsec_") || NewSecret() == s {
		t.Fatalf("NewSecret %q: %v", s, err)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ=", "whsec_" + strings.Repeat("QUFB", 30)} {
		if _, err := SecretKey(bad); !chat.IsCode(err, chat.CodeInvalid) {
			t.Errorf("SecretKey(%q) = %v, want invalid", bad, err)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	r := Retry{Base: time.Second, Max: 8 * time.Second, MaxAge: time.Minute}
	created := time.Unix(1000, 0)
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 8 * time.Second} {
		for range 50 {
			d := r.Next(attempt, created, created).Sub(created)
			// Jitter only shortens a wait, by at most a fifth.
			if d > want || d < want*4/5 {
				t.Fatalf("attempt %d waits %s, want (%s, %s]", attempt, d, want*4/5, want)
			}
		}
	}
	if at := r.Next(1, created, created.Add(time.Minute)); !at.IsZero() {
		t.Fatalf("an event past its max age is retried at %s", at)
	}
	if at := (Retry{}).Next(1, created, created); at.Sub(created) > DefaultRetryBase || at.IsZero() {
		t.Fatalf("defaults: first retry at +%s", at.Sub(created))
	}
}

func TestValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "https://", "/relative", "https://u:p@x.example.com", "https://x.example.com/#frag", "https://x/" + strings.Repeat("a", MaxURLLen)} {
		if err := ValidateURL(u); !chat.IsCode(err, chat.CodeInvalid) {
			t.Errorf("ValidateURL(%q) = %v", u, err)
		}
	}
	if err := ValidateURL("https://hooks.example.com/in?token=1"); err != nil {
		t.Error(err)
	}
	got, err := NormalizeEvents([]EventType{CSATSubmitted, MessageCreated, CSATSubmitted})
	if err != nil || len(got) != 2 || got[0] != CSATSubmitted {
		t.Fatalf("NormalizeEvents = %v, %v", got, err)
	}
	for _, bad := range [][]EventType{nil, {}, {"message.deleted"}} {
		if _, err := NormalizeEvents(bad); !chat.IsCode(err, chat.CodeInvalid) {
			t.Errorf("NormalizeEvents(%v) = %v", bad, err)
		}
	}
	for _, bad := range []string{"nocolon", ":pw", "a:b\nc", "a:" + strings.Repeat("x", MaxBasicAuthLen)} {
		if err := ValidateBasicAuth(bad); !chat.IsCode(err, chat.CodeInvalid) {
			t.Errorf("ValidateBasicAuth(%q) = %v", bad, err)
		}
	}
	e := Endpoint{Events: []EventType{All}}
	if !e.Subscribes(ConversationHandedOff) {
		t.Error(`"*" does not subscribe to everything`)
	}
}
