package httpapi

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/service"
)

// TestLoginBruteForceLimit checks the limit as a client sees it: 429
// rate_limited with Retry-After, the right password refused too, and the
// same answer for an email that does not exist.
func TestLoginBruteForceLimit(t *testing.T) {
	e := newEnv(t)
	attempt := func(email, password string) resp {
		return e.call(req{route: "POST /api/v1/auth/login", body: map[string]string{"email": email, "password": password}})
	}
	for _, email := range []string{ownerEmail, "ghost@example.com"} {
		for i := 0; i < service.LoginMaxFailuresPerEmail; i++ {
			if r := attempt(email, "wrong-password"); r.status != 401 {
				t.Fatalf("%s failure %d: status %d: %s", email, i+1, r.status, r.body)
			}
		}
	}
	var shapes []string
	for _, email := range []string{ownerEmail, "ghost@example.com"} {
		r := attempt(email, ownerPassword)
		if r.status != 429 {
			t.Fatalf("%s: status %d, want 429: %s", email, r.status, r.body)
		}
		if code, _ := r.errorCode(t); code != "rate_limited" {
			t.Errorf("%s: code %q", email, code)
		}
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > int(service.LoginWindow/time.Second) {
			t.Errorf("%s: Retry-After %q", email, r.header.Get("Retry-After"))
		}
		if r.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a refused sign-in set a cookie", email)
		}
		shapes = append(shapes, string(r.body))
	}
	if shapes[0] != shapes[1] {
		t.Errorf("the refusal differs for a real and an unknown email:\n%s\n%s", shapes[0], shapes[1])
	}
	e.clock.Add(service.LoginWindow + time.Second)
	e.login(ownerEmail, ownerPassword)
}
