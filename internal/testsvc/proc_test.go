package testsvc_test

import (
	"syscall"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// The private servers come back on the same address after a crash.
func TestPrivateServersRestart(t *testing.T) {
	pg := testsvc.StartPostgres(t)
	pg.Stop(syscall.SIGQUIT)
	pg.Start()
	nats := testsvc.StartNATS(t)
	nats.Stop(syscall.SIGKILL)
	nats.Start()
	t.Logf("postgres at %s and nats at %s restarted", pg.URL, nats.URL)
}
