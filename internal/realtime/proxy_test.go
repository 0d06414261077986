package realtime

import (
	"net/http"
	"net/netip"
	"testing"
)

// TestConnectionsPerClientBehindTrustedProxy: behind a trusted proxy each
// client has its own connection budget; a peer that is not trusted cannot
// escape its budget by forging the forwarding headers.
func TestConnectionsPerClientBehindTrustedProxy(t *testing.T) {
	w := newWorld(t)
	from := func(client string) http.Header {
		h := keyHeader()
		h.Set("X-Forwarded-For", client)
		return h
	}
	refused := func(n *node, h http.Header) bool {
		t.Helper()
		_, resp, err := n.dial(t, h, "")
		if err == nil {
			return false
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("dial: %v, %v; want a connection or 429", err, resp)
		}
		return true
	}

	// The test's own loopback connections play the proxy.
	proxied := w.node(func(o *Options) {
		o.MaxConnsPerIP = 2
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	for i := 0; i < 2; i++ {
		if refused(proxied, from("198.51.100.1")) {
			t.Fatalf("client A's connection %d refused within its budget", i+1)
		}
	}
	if !refused(proxied, from("198.51.100.1")) {
		t.Fatal("client A's third connection passed a limit of 2")
	}
	if refused(proxied, from("198.51.100.2")) {
		t.Fatal("client B behind the same proxy was refused: it shares A's budget")
	}

	// Trusting someone else: the loopback peer's header is its own claim.
	direct := w.node(func(o *Options) {
		o.MaxConnsPerIP = 2
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	for i, forged := range []string{"198.51.100.1", "198.51.100.2"} {
		if refused(direct, from(forged)) {
			t.Fatalf("connection %d refused within the peer's budget", i+1)
		}
	}
	h := from("198.51.100.3")
	h.Set("Forwarded", "for=198.51.100.3")
	if !refused(direct, h) {
		t.Fatal("an untrusted peer's forged headers bought it a third connection")
	}
}
