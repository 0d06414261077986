package bus_test

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/bus/bustest"
)

// One process has one Local bus, so both "nodes" are the same value.
func TestLocal(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (bus.Bus, bus.Bus) {
		l := bus.NewLocal()
		t.Cleanup(func() { l.Close() })
		return l, l
	})
}
