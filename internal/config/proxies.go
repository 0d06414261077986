package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxTrustedProxies bounds the list: it is checked on every request from
// a proxy, and no deployment has this many separate proxy ranges.
const maxTrustedProxies = 64

// parseTrustedProxies reads SWITCHBOARD_TRUSTED_PROXIES: comma-separated
// CIDRs (10.0.0.0/8, fd00::/64) or single addresses. Empty trusts none.
// Errors give an entry's position rather than its text, as every config
// error leaves values out.
func parseTrustedProxies(v string) ([]netip.Prefix, error) {
	const setting = "SWITCHBOARD_TRUSTED_PROXIES"
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	entries := strings.Split(v, ",")
	if len(entries) > maxTrustedProxies {
		return nil, &Error{setting, fmt.Sprintf("must list at most %d addresses or CIDRs", maxTrustedProxies)}
	}
	out := make([]netip.Prefix, 0, len(entries))
	for i, e := range entries {
		p, err := parseProxy(strings.TrimSpace(e))
		if err != nil {
			return nil, &Error{setting, fmt.Sprintf("entry %d: %s", i+1, err)}
		}
		out = append(out, p)
	}
	return out, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("is empty: separate addresses and CIDRs with single commas")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("must be a CIDR such as 10.0.0.0/8 or fd00::/64")
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("must be an IP address such as 10.0.0.5 or a CIDR such as 10.0.0.0/8")
		}
		a = a.WithZone("")
		p = netip.PrefixFrom(a, a.BitLen())
	}
	// Client addresses are compared unmapped, so an IPv4-mapped range is
	// kept as the IPv4 range it means.
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("trusts every address, which would let any client choose the address it is limited by")
	}
	return p.Masked(), nil
}
