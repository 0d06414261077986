package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	c, err := Load(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 0 {
		t.Fatalf("default trusts %v, want none", c.TrustedProxies)
	}
	c, err = Load(nil, envOf(map[string]string{
		"SWITCHBOARD_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,fd00::1:2/64, 2001:db8::5, ::ffff:198.51.100.0/120, fe80::1%eth0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.0.2.7/32 fd00::/64 2001:db8::5/128 198.51.100.0/24 fe80::1/128]"
	if got := fmt.Sprint(c.TrustedProxies); got != want {
		t.Fatalf("trusted proxies = %s, want %s", got, want)
	}
}

func TestTrustedProxiesRefused(t *testing.T) {
	for _, v := range []string{
		"10.0.0.0/33",
		"10.0.0.300",
		"proxy.internal",
		"10.0.0.1,,10.0.0.2",
		"10.0.0.1,",
		"0.0.0.0/0",
		"::/0",
		"10.0.0.0/8; 192.0.2.0/24",
		strings.Repeat("10.0.0.1,", maxTrustedProxies) + "10.0.0.1",
	} {
		t.Run(v[:min(len(v), 30)], func(t *testing.T) {
			_, err := Load(nil, envOf(map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": v}))
			if err == nil || !IsConfigError(err) || !strings.Contains(err.Error(), "SWITCHBOARD_TRUSTED_PROXIES") {
				t.Fatalf("want a config error naming SWITCHBOARD_TRUSTED_PROXIES, got %v", err)
			}
		})
	}
}
