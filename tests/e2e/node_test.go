package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the switchboard executable built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(embeddedEnv) == "1" {
		runEmbedded() // this process is a node started by a test; it never returns
	}
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	args := []string{"build", "-o", binary}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/switchboard")...)
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building switchboard:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// node is one running switchboard process.
type node struct {
	t *testing.T
	// exe is the program to run; "" means the built binary.
	exe  string
	env  []string
	addr string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode runs the binary with env (plus an address of its own) and waits
// until it reports ready.
func startNode(t *testing.T, env map[string]string) *node {
	t.Helper()
	n := &node{t: t, addr: freeAddr(t)}
	if _, ok := env["SWITCHBOARD_DEMO"]; !ok {
		// The demo bot would answer every test's conversations; the tests
		// that are about it turn it on.
		n.env = append(n.env, "SWITCHBOARD_DEMO=false")
	}
	for k, v := range env {
		n.env = append(n.env, k+"="+v)
	}
	n.env = append(n.env, "SWITCHBOARD_ADDR="+n.addr)
	n.start()
	return n
}

func (n *node) start() {
	n.t.Helper()
	n.out = &syncBuffer{}
	exe := binary
	if n.exe != "" {
		exe = n.exe
	}
	n.cmd = exec.Command(exe)
	n.cmd.Env = append(os.Environ(), n.env...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan error, 1)
	go func() { n.done <- n.cmd.Wait() }()
	n.t.Cleanup(func() {
		if n.cmd.ProcessState == nil {
			_ = n.cmd.Process.Kill()
			<-n.done
		}
		if n.t.Failed() {
			n.t.Logf("node %s output:\n%s", n.addr, n.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-n.done:
			n.t.Fatalf("switchboard exited early: %v\n%s", err, n.out.String())
		default:
		}
		resp, err := http.Get(n.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("switchboard not ready after 30s:\n%s", n.out.String())
}

// kill ends the process abruptly, as a crash or an OOM kill would.
func (n *node) kill() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		n.t.Fatal(err)
	}
	<-n.done
}

// stop asks for a graceful shutdown and requires a clean exit.
func (n *node) stop() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatal(err)
	}
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Fatalf("switchboard did not exit cleanly: %v\n%s", err, n.out.String())
		}
	case <-time.After(30 * time.Second):
		n.t.Fatal("switchboard did not stop within 30s of SIGTERM")
	}
}

func (n *node) url(path string) string { return "http://" + n.addr + path }

// client is a small HTTP client for one identity.
type client struct {
	t       *testing.T
	n       *node
	headers map[string]string
	http    *http.Client
}

func (n *node) client(headers map[string]string) *client {
	return &client{t: n.t, n: n, headers: headers, http: &http.Client{Timeout: 15 * time.Second}}
}

// do sends a JSON request and decodes a JSON answer into out (when non-nil),
// failing the test unless the status is want.
func (c *client) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.n.url(path), rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
}
