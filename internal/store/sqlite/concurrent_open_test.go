package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
)

// openChildEnv names the database a re-executed test binary opens.
const openChildEnv = "SWITCHBOARD_TEST_SQLITE_OPEN_CHILD"

// Two processes opening the same new database file at once (a service
// restarted while the old process is still shutting down, or an admin
// command run beside the server) both succeed: the second waits for the
// first's migrations instead of failing with "database is locked" or
// applying them again.
func TestOpenFromTwoProcesses(t *testing.T) {
	if path := os.Getenv(openChildEnv); path != "" {
		openAsChild(t, path)
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "switchboard.db")
	gate := filepath.Join(dir, "go")
	const procs = 2
	cmds := make([]*exec.Cmd, procs)
	outs := make([]bytes.Buffer, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenFromTwoProcesses$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), openChildEnv+"="+path, "SWITCHBOARD_TEST_GATE="+gate)
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	// Both children are waiting on the gate; open it so they race.
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if err := waitWithin(cmd, 2*time.Minute); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(os.DirFS("."), "*.sql")
	if n != len(files) || n == 0 {
		t.Fatalf("%d migrations recorded, want %d", n, len(files))
	}
}

// openAsChild waits for the parent's gate, then opens the store, failing
// the child (and so its exit status) on error.
func openAsChild(t *testing.T, path string) {
	gate := os.Getenv("SWITCHBOARD_TEST_GATE")
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(gate); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the parent never opened the gate")
		}
		time.Sleep(2 * time.Millisecond)
	}
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitWithin(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
		return &timeoutError{pid: cmd.Process.Pid}
	}
}

type timeoutError struct{ pid int }

func (e *timeoutError) Error() string { return "process " + strconv.Itoa(e.pid) + " still running" }
