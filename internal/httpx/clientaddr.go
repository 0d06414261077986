package httpx

import (
	"net/http"
	"net/netip"
	"strings"
)

// Limits on the forwarding headers' walk. Only the right-hand end of a
// header is examined: everything left of the first untrusted hop was
// written by the client and is never believed, so its length costs
// nothing. A chain of more trusted hops than any real deployment has is
// a misconfiguration or an attack, and is not believed either.
const (
	maxForwardedHops  = 16
	maxForwardedEntry = 128 // bytes; a bracketed IPv6 address with port and quotes is < 64
)

// ClientAddr is the address a per-address decision (a rate limit, a
// connection count, a sign-in limit) is keyed on. It is the connecting
// peer's address unless the peer is in trusted, the reverse proxies the
// operator vouches for. Then the forwarding headers are walked from the
// right (the hop nearest this server) past every trusted proxy, and the
// first untrusted address is the client. A proxy appends what it saw, so
// entries left of that point are the client's own claims and are ignored.
//
// Headers are read only from a trusted peer: anyone else could forge
// them. When a trusted hop's entry is malformed, when the chain is longer
// than any real one, or when X-Forwarded-For and Forwarded both name a
// client but disagree (a proxy that sets one passes the other through
// from the client), the connecting address is used. When every hop is
// trusted, the leftmost is the client (a host on the proxies' network).
//
// The result is unmapped (an IPv4-mapped IPv6 peer is its IPv4 address)
// and without zone, so that one host has one key. It is the zero Addr
// only when the peer's own address cannot be parsed.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	xff, xffOK := walk(r.Header.Values("X-Forwarded-For"), trusted, xffEntry)
	fwd, fwdOK := walk(r.Header.Values("Forwarded"), trusted, forwardedFor)
	switch {
	case !xffOK || !fwdOK:
		return peer
	case xff.IsValid() && fwd.IsValid() && xff != fwd:
		return peer
	case xff.IsValid():
		return xff
	case fwd.IsValid():
		return fwd
	}
	return peer
}

// peerAddr parses a RemoteAddr, host:port as net/http sets it, or a bare
// address (bracketed, for IPv6) as some wrappers and proxies write it.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return canonical(ap.Addr())
	}
	if len(remote) > 2 && remote[0] == '[' && remote[len(remote)-1] == ']' {
		remote = remote[1 : len(remote)-1]
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return canonical(a)
	}
	return netip.Addr{}
}

func canonical(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// walk goes through the comma-separated entries of a header's values from
// the right, and returns the first untrusted address, or the leftmost
// address when all are trusted. ok is false when the header cannot be
// believed; a missing header is ok with the zero Addr.
func walk(values []string, trusted []netip.Prefix, parse func(string) (netip.Addr, bool)) (client netip.Addr, ok bool) {
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for {
			entry := rest
			cut := strings.LastIndexByte(rest, ',')
			if cut >= 0 {
				entry, rest = rest[cut+1:], rest[:cut]
			}
			entry = strings.TrimSpace(entry)
			if entry == "" && cut >= 0 {
				continue // "a,,b": an empty list element, allowed by RFC 9110
			}
			if entry != "" {
				if hops++; hops > maxForwardedHops || len(entry) > maxForwardedEntry {
					return netip.Addr{}, false
				}
				a, good := parse(entry)
				if !good {
					return netip.Addr{}, false
				}
				client = a
				if !isTrusted(a, trusted) {
					return a, true
				}
			}
			if cut < 0 {
				break
			}
		}
	}
	return client, true
}

// xffEntry parses one X-Forwarded-For entry: an address, or an address
// with a port as some proxies write it ("192.0.2.1:4711", "[2001:db8::1]:4711").
func xffEntry(s string) (netip.Addr, bool) {
	a := peerAddr(s)
	return a, a.IsValid()
}

// forwardedFor parses one element of an RFC 7239 Forwarded header
// (for=192.0.2.60;proto=https;by=203.0.113.43) for its for= node. An
// element without for=, or whose node is "unknown" or an obfuscated
// name, cannot be keyed on.
func forwardedFor(element string) (netip.Addr, bool) {
	for _, pair := range strings.Split(element, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(pair), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return xffEntry(v)
	}
	return netip.Addr{}, false
}
