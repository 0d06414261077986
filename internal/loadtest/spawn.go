package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Spawn describes nodes the e2e bench starts itself, as child processes,
// so that it knows their process ids (CPU time and peak resident memory
// come from the kernel, not from the node's own metrics) and can give them
// a configuration the load needs: a shared secret key and API key, the demo
// Lex bot, and webhook bots allowed on loopback.
type Spawn struct {
	// Store is "sqlite" (one node, its own data directory) or "postgres"
	// (Nodes nodes on DatabaseURL and NATSURL).
	Store       string
	Nodes       int
	DatabaseURL string // a database (or schema, via search_path) for this run alone
	NATSURL     string
	// Command starts one node, which reads its settings from SWITCHBOARD_*
	// variables: normally this binary with `bench node`.
	Command []string
	// Env is added to every node's environment (after this process's).
	Env []string
	// CPUProfileDir, when set, asks each node to write a CPU profile
	// there (node1.pprof, …), through SWITCHBOARD_BENCH_CPUPROFILE.
	CPUProfileDir string
	Log           io.Writer
}

// CPUProfileEnv names the file a node started by `bench node` writes its
// CPU profile to, from start to shutdown.
const CPUProfileEnv = "SWITCHBOARD_BENCH_CPUPROFILE"

func (s *Spawn) check() error {
	switch s.Store {
	case "sqlite":
		if s.Nodes != 1 {
			return errors.New("-spawn sqlite runs one node: SQLite is a single node's database")
		}
	case "postgres":
		if s.Nodes < 1 || s.Nodes > 8 {
			return errors.New("-nodes must be between 1 and 8")
		}
		if !strings.HasPrefix(s.DatabaseURL, "postgres://") && !strings.HasPrefix(s.DatabaseURL, "postgresql://") {
			return errors.New("-spawn postgres needs -database-url postgres://… (an empty database for this run)")
		}
		if s.Nodes > 1 && !strings.HasPrefix(s.NATSURL, "nats://") {
			return errors.New("several nodes need -nats-url nats://… to share events")
		}
	default:
		return fmt.Errorf("-spawn %q: want sqlite or postgres", s.Store)
	}
	if len(s.Command) == 0 {
		return errors.New("no command to start a node with")
	}
	return nil
}

// node is one spawned process.
type node struct {
	url  string
	cmd  *exec.Cmd
	logf string
	done chan error
}

// cluster is the spawned nodes and what they share.
type cluster struct {
	nodes  []*node
	apiKey string
	dir    string
	log    io.Writer
}

func (c *cluster) urls() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.url
	}
	return out
}

// readyTimeout bounds a node's start, migrations included.
const readyTimeout = 60 * time.Second

// start runs the nodes one after another, each once the previous is
// ready, so that first-start setup (the app, the demo bot) happens once.
func (s *Spawn) start(ctx context.Context) (*cluster, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		return nil, err
	}
	c := &cluster{apiKey: "bench-key-" + randHex(16), dir: dir, log: s.Log}
	secret := randHex(32)
	for i := range s.Nodes {
		n, err := s.startNode(ctx, i, dir, secret, c.apiKey)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

func (s *Spawn) startNode(ctx context.Context, i int, dir, secret, apiKey string) (*node, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	ndir := filepath.Join(dir, "node"+strconv.Itoa(i+1))
	if err := os.MkdirAll(ndir, 0o700); err != nil {
		return nil, err
	}
	env := append(withoutSwitchboardEnv(os.Environ()),
		"SWITCHBOARD_ADDR="+addr,
		"SWITCHBOARD_PUBLIC_URL=http://"+addr,
		"SWITCHBOARD_DATA_DIR="+ndir,
		"SWITCHBOARD_SECRET_KEY="+secret,
		"SWITCHBOARD_BOOTSTRAP_API_KEY="+apiKey,
		"SWITCHBOARD_DEMO=true",
		"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=true",
		"SWITCHBOARD_LOG_LEVEL=warn",
	)
	if s.Store == "postgres" {
		env = append(env, "SWITCHBOARD_DATABASE_URL="+s.DatabaseURL)
		if s.NATSURL != "" {
			env = append(env, "SWITCHBOARD_NATS_URL="+s.NATSURL)
		}
	}
	if s.CPUProfileDir != "" {
		env = append(env, CPUProfileEnv+"="+filepath.Join(s.CPUProfileDir, "node"+strconv.Itoa(i+1)+".pprof"))
	}
	env = append(env, s.Env...)
	logPath := filepath.Join(ndir, "node.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer lf.Close() // the child holds its own descriptor
	cmd := exec.Command(s.Command[0], s.Command[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node %d: %w", i+1, err)
	}
	n := &node{url: "http://" + addr, cmd: cmd, logf: logPath, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	logf(s.Log, "node %d: pid %d on %s (log %s)", i+1, cmd.Process.Pid, n.url, logPath)
	if err := n.waitReady(ctx); err != nil {
		n.stop()
		return nil, fmt.Errorf("node %d: %w\n%s", i+1, err, tail(logPath, 2000))
	}
	return n, nil
}

// waitReady polls /readyz until it answers 200, the process exits or
// readyTimeout passes.
func (n *node) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", n.url+"/readyz", nil)
		if resp, err := cl.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-n.done:
			n.done <- err
			return fmt.Errorf("exited before it was ready: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s", readyTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop asks the node to shut down gracefully (which also ends its CPU
// profile) and kills it if it has not within 30 s.
func (n *node) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		n.done <- <-n.done
	}
}

// alive reports whether the node's process is still running.
func (n *node) alive() bool {
	select {
	case err := <-n.done:
		n.done <- err
		return false
	default:
		return true
	}
}

func (c *cluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
	_ = os.RemoveAll(c.dir)
}

// withoutSwitchboardEnv drops the caller's SWITCHBOARD_* settings, so a
// spawned node is configured by the bench alone.
func withoutSwitchboardEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "SWITCHBOARD_") || strings.HasPrefix(e, "SWITCHBOARD_BENCH_TEST_") {
			out = append(out, e)
		}
	}
	return out
}

// freeLoopbackAddr picks a free port on 127.0.0.1. Another process could
// take it before the node binds it; the node then fails to start and says so.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail returns the last max bytes of a file, for an error message.
func tail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// peakRSS reads a process's peak resident set (VmHWM) from /proc; 0 where
// there is no /proc.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
