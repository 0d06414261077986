package httpx

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestClientAddr(t *testing.T) {
	// The proxies: a load balancer subnet, one more hop, an IPv6 subnet.
	trusted := prefixes(t, "10.0.0.0/8", "192.0.2.10/32", "fd00::/64")
	cases := []struct {
		name   string
		remote string
		header map[string][]string
		want   string
	}{
		{"no header, untrusted peer", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"no header, trusted peer", "10.0.0.1:4000", nil, "10.0.0.1"},
		{"spoofed header from an untrusted peer is ignored", "203.0.113.5:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"spoofed Forwarded from an untrusted peer is ignored", "203.0.113.5:4000",
			map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.5"},
		{"one trusted hop", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"client's own claims left of the proxy's entry are ignored", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2, 198.51.100.1"}}, "198.51.100.1"},
		{"several trusted hops", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1, 192.0.2.10, 10.9.9.9"}}, "198.51.100.1"},
		{"several header lines are one list", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1", "192.0.2.10", "10.9.9.9"}}, "198.51.100.1"},
		{"every hop trusted: the leftmost is the client", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"10.1.2.3, 10.0.0.2"}}, "10.1.2.3"},
		{"entries with ports", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1:5555, 10.0.0.2:80"}}, "198.51.100.1"},
		{"empty list elements", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {" , 198.51.100.1 ,, "}}, "198.51.100.1"},
		{"IPv6 peer and client", "[fd00::1]:4000",
			map[string][]string{"X-Forwarded-For": {"2001:db8::7"}}, "2001:db8::7"},
		{"IPv6 client with port", "[fd00::1]:4000",
			map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:4711"}}, "2001:db8::7"},
		{"IPv4-mapped peer matches an IPv4 prefix", "[::ffff:10.0.0.1]:4000",
			map[string][]string{"X-Forwarded-For": {"::ffff:198.51.100.1"}}, "198.51.100.1"},
		{"zoned peer matches its prefix", "[fd00::1%eth0]:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"IPv6 peer outside the trusted prefix", "[fd00:0:0:1::1]:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "fd00:0:0:1::1"},
		{"malformed entry at a trusted hop", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip"}}, "10.0.0.1"},
		{"unknown at a trusted hop", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"unknown"}}, "10.0.0.1"},
		{"malformed entries left of the client do not matter", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"<script>, 999.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"oversized entry at a trusted hop", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {strings.Repeat("1", 200)}}, "10.0.0.1"},
		{"too many trusted hops", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, " + strings.Repeat("10.0.0.2, ", 20) + "10.0.0.2"}}, "10.0.0.1"},
		{"huge client-written prefix is never read", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {strings.Repeat("x,", 500_000) + "198.51.100.1"}}, "198.51.100.1"},
		{"Forwarded", "10.0.0.1:4000",
			map[string][]string{"Forwarded": {"for=6.6.6.6, for=198.51.100.1;proto=https;by=10.0.0.1"}}, "198.51.100.1"},
		{"Forwarded with quoted IPv6 and port, several hops", "10.0.0.1:4000",
			map[string][]string{"Forwarded": {`for="[2001:db8::7]:4711", For=192.0.2.10`}}, "2001:db8::7"},
		{"Forwarded obfuscated at a trusted hop", "10.0.0.1:4000",
			map[string][]string{"Forwarded": {"for=_hidden"}}, "10.0.0.1"},
		{"Forwarded element without for", "10.0.0.1:4000",
			map[string][]string{"Forwarded": {"proto=https"}}, "10.0.0.1"},
		{"both headers agree", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.1"}}, "198.51.100.1"},
		{"both headers disagree: one was passed through from the client", "10.0.0.1:4000",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=6.6.6.6"}}, "10.0.0.1"},
		{"unparsable peer", "pipe", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "invalid IP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
			r.RemoteAddr = c.remote
			for k, vs := range c.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			start := time.Now()
			if got := ClientAddr(r, trusted).String(); got != c.want {
				t.Fatalf("ClientAddr = %s, want %s", got, c.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("ClientAddr took %v", d)
			}
		})
	}
}

// With nothing trusted (the default), no header is ever believed, even
// from loopback.
func TestClientAddrTrustsNoneByDefault(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("Forwarded", "for=198.51.100.1")
	if got := ClientAddr(r, nil).String(); got != "127.0.0.1" {
		t.Fatalf("ClientAddr = %s, want the peer", got)
	}
}
