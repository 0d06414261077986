package webhookbot

import (
	"errors"
	"syscall"
)

// GuardControl is the dialer Control hook that refuses private, loopback
// and link-local addresses at connect time. Outgoing webhooks dial through
// it as well, so both kinds of outbound request share one guard.
func GuardControl(network, address string, c syscall.RawConn) error {
	return guardControl(network, address, c)
}

// IsPrivateAddress reports whether err is GuardControl's refusal.
func IsPrivateAddress(err error) bool { return errors.Is(err, errPrivateAddress) }
