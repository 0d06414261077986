package webhookbot

import (
	"errors"
	"net/netip"
	"syscall"
)

// errPrivateAddress is returned by the dialer's Control hook. Checking at
// dial time, on the address the socket is about to connect to, is what makes
// the guard hold against DNS rebinding: a name that resolved to a public
// address when the settings were saved, and to 127.0.0.1 now, is refused
// now.
var errPrivateAddress = errors.New("address is private, loopback or link-local")

// privateAddressError carries the refused address for the admin's message.
type privateAddressError struct{ addr netip.Addr }

func (e *privateAddressError) Error() string {
	return e.addr.String() + ": " + errPrivateAddress.Error()
}
func (e *privateAddressError) Unwrap() error { return errPrivateAddress }

// nonPublic lists the ranges a bot on the internet never lives in: the
// server's own host and network, cloud metadata endpoints (169.254.169.254)
// and ranges that are not routable at all.
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network"
		"10.0.0.0/8",     // RFC 1918
		"100.64.0.0/10",  // carrier-grade NAT, often the cluster network
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata
		"172.16.0.0/12",  // RFC 1918
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // RFC 1918
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, and broadcast
		"::/128",         // unspecified
		"::1/128",        // loopback
		"fc00::/7",       // unique local
		"fe80::/10",      // link-local
		"ff00::/8",       // multicast
		"2001:db8::/32",  // documentation
		"100::/64",       // discard-only
		"64:ff9b:1::/48", // local-use NAT64
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// isPublic reports whether a connection to a may go ahead.
func isPublic(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	// A well-known NAT64 prefix reaches the IPv4 address embedded in it.
	if nat64.Contains(a) {
		b := a.As16()
		return isPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// guardControl is a net.Dialer Control hook that refuses non-public
// addresses.
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Control always sees a resolved ip:port; anything else is not
		// something we can vouch for.
		return errPrivateAddress
	}
	if !isPublic(ap.Addr()) {
		return &privateAddressError{addr: ap.Addr().Unmap()}
	}
	return nil
}
