package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/service"
)

// trustLoopback makes the test's own loopback connections the proxy.
func trustLoopback(o *Options) {
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// sessionsUntilLimited starts widget sessions with the headers of
// header(i) until one is refused, and returns how many passed; -1 when
// none was refused within well over the burst.
func (e *env) sessionsUntilLimited(header func(i int) map[string]string) int {
	e.t.Helper()
	for i := 0; i < widgetSessionBurst+5; i++ {
		r := e.call(req{route: "POST /api/v1/widget/session", header: header(i),
			body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA}})
		switch r.status {
		case http.StatusCreated:
		case http.StatusTooManyRequests:
			return i
		default:
			e.t.Fatalf("session %d: status %d: %s", i+1, r.status, r.body)
		}
	}
	return -1
}

func forwardedFor(client string) func(int) map[string]string {
	return func(int) map[string]string { return map[string]string{"X-Forwarded-For": client} }
}

// TestWidgetSessionBudgetPerClientBehindTrustedProxy: two clients behind
// a trusted proxy have a budget each; a peer that is not trusted keeps its
// one budget however it forges the forwarding headers.
func TestWidgetSessionBudgetPerClientBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, trustLoopback)
	e.seed()
	if n := e.sessionsUntilLimited(forwardedFor("198.51.100.1")); n != widgetSessionBurst {
		t.Fatalf("client A: %d sessions before the limit, want the burst of %d", n, widgetSessionBurst)
	}
	if n := e.sessionsUntilLimited(forwardedFor("198.51.100.2")); n != widgetSessionBurst {
		t.Fatalf("client B behind the same proxy: %d sessions before the limit, want its own burst of %d", n, widgetSessionBurst)
	}
	// The proxy's own requests (a health check, say) are a third client.
	if n := e.sessionsUntilLimited(func(int) map[string]string { return nil }); n != widgetSessionBurst {
		t.Fatalf("the proxy itself: %d sessions before the limit, want %d", n, widgetSessionBurst)
	}

	untrusted := newEnv(t)
	untrusted.seed()
	n := untrusted.sessionsUntilLimited(func(i int) map[string]string {
		c := fmt.Sprintf("198.51.100.%d", i+1)
		return map[string]string{"X-Forwarded-For": c, "Forwarded": "for=" + c}
	})
	if n != widgetSessionBurst {
		t.Fatalf("an untrusted peer forging a new address each time: %d sessions before the limit, want %d", n, widgetSessionBurst)
	}
}

// TestLoginAddressLimitPerClientBehindTrustedProxy: one client's failed
// sign-ins behind a trusted proxy do not lock out another client of the
// same proxy.
func TestLoginAddressLimitPerClientBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, trustLoopback)
	attempt := func(client, email, password string) resp {
		return e.call(req{route: "POST /api/v1/auth/login", header: map[string]string{"X-Forwarded-For": client},
			body: map[string]string{"email": email, "password": password}})
	}
	// Distinct emails, so that only the per-address limit is reached.
	for i := 0; i < service.LoginMaxFailuresPerAddress; i++ {
		if r := attempt("198.51.100.1", fmt.Sprintf("guess-%d@example.com", i), "wrong-password"); r.status != 401 {
			t.Fatalf("failure %d: status %d: %s", i+1, r.status, r.body)
		}
	}
	if r := attempt("198.51.100.1", ownerEmail, ownerPassword); r.status != 429 {
		t.Fatalf("client A after %d failures: status %d, want 429", service.LoginMaxFailuresPerAddress, r.status)
	}
	if r := attempt("198.51.100.2", ownerEmail, ownerPassword); r.status != 200 {
		t.Fatalf("client B behind the same proxy: status %d, want 200: %s", r.status, r.body)
	}
}
