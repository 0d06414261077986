package testsvc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A Proc is a private server run by one test as a child process, so that
// the test may kill and restart it without disturbing the shared services
// other packages are using at the same time. Restarts keep the port and
// the data directory.
type Proc struct {
	t    testing.TB
	name string
	args []string
	// cred, when set, runs the server as another user.
	cred *syscall.Credential
	// ready reports whether the server answers; polled after each start.
	ready func() error

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  bytes.Buffer
}

// Start runs the server and waits until it answers.
func (p *Proc) Start() {
	p.t.Helper()
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		p.t.Fatalf("%s is already running", p.name)
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = &lockedWriter{p}, &lockedWriter{p}
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		p.t.Fatalf("starting %s: %v", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := p.ready()
		if err == nil {
			return
		}
		select {
		case <-done:
			p.t.Fatalf("%s exited while starting: %s", p.name, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready after 30s: %v\n%s", p.name, err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends sig to the server and waits (at most 30 s) for it to exit.
// SIGKILL is a crash; for PostgreSQL, SIGQUIT is an immediate shutdown
// (no checkpoint: the next start recovers from the WAL, as after a crash).
func (p *Proc) Stop(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		p.t.Fatalf("%s did not exit within 30s of %v", p.name, sig)
	}
}

// Output is everything the server has written so far.
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type lockedWriter struct{ p *Proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

func (p *Proc) cleanup() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
	if p.t.Failed() {
		p.t.Logf("%s output:\n%s", p.name, p.Output())
	}
}

// FreePort returns a loopback TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialable reports whether addr accepts TCP connections.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

// missing ends the test because a server binary is absent: a skip, or a
// failure when SWITCHBOARD_REQUIRE_SERVICES=1.
func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv(RequireServices) == "1" {
		t.Fatalf("%s not installed and %s=1: %v", what, RequireServices, err)
	}
	t.Skipf("%s not installed: %v", what, err)
}

// NATS is a private nats-server with JetStream, on a port of its own.
type NATS struct {
	*Proc
	URL string
}

// NATSBinary is where the server is looked for first; then $PATH.
const NATSBinary = "/usr/sbin/nats-server"

// StartNATS runs a private NATS server for t; it is killed when t ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	exe, err := findExe(NATSBinary, "nats-server")
	if err != nil {
		missing(t, "nats-server", err)
	}
	port := FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := &NATS{URL: "nats://" + addr, Proc: &Proc{t: t, name: "nats-server",
		args:  []string{exe, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", t.TempDir()},
		ready: func() error { return dialable(addr) },
	}}
	t.Cleanup(n.cleanup)
	n.Start()
	return n
}

// Postgres is a private PostgreSQL cluster in a temporary directory.
type Postgres struct {
	*Proc
	// URL reaches the cluster's "postgres" database as user postgres.
	URL string
}

// StartPostgres initialises and runs a private PostgreSQL cluster for t;
// it is killed and removed when t ends. PostgreSQL refuses to run as root,
// so under root the cluster belongs to the postgres user.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, err := postgresBin()
	if err != nil {
		missing(t, "postgresql server", err)
	}
	// Not t.TempDir: its parents are private to the test's user, and the
	// server may run as another one.
	dir, err := os.MkdirTemp("", "switchboard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Under root both programs run as the postgres user.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "the postgres user", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// fsync=off is safe for what tests do: they crash the server, not the
	// machine, and the kernel keeps what the server wrote.
	p := &Postgres{URL: fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", addr), Proc: &Proc{t: t, name: "postgres",
		args: []string{filepath.Join(bin, "postgres"), "-D", data, "-p", fmt.Sprint(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50"},
		cred:  cred,
		ready: func() error { return pgReady(bin, addr) },
	}}
	t.Cleanup(p.cleanup)
	p.Start()
	return p
}

// pgReady asks the server itself, through pg_isready, whether it accepts
// connections: a listening socket alone is not enough while it recovers.
func pgReady(bin, addr string) error {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command(filepath.Join(bin, "pg_isready"), "-h", host, "-p", port, "-t", "2").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// postgresBin finds the directory of the PostgreSQL server binaries
// (Debian keeps them out of $PATH), the newest version first.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no postgres binary in /usr/lib/postgresql/*/bin or $PATH")
}

func findExe(preferred, name string) (string, error) {
	if _, err := os.Stat(preferred); err == nil {
		return preferred, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join([]string{preferred, name}, " or "), err)
	}
	return p, nil
}
