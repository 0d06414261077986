// Package deploy holds the files that install Switchboard (a systemd unit, a
// container image definition) and the tests that check them against the
// code they run, since neither systemd nor a container engine runs them in
// CI.
package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/config"
)

// unit is a parsed systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value inside a section: %q", path, n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) == 0 {
		t.Fatalf("[%s] has no %s=", section, key)
	}
	return v[len(v)-1]
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "switchboard.service")
	for key, want := range map[string]string{
		"NoNewPrivileges": "yes",
		"ProtectSystem":   "strict",
		"Restart":         "on-failure",
		"PrivateTmp":      "yes",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("%s=%s, want %s", key, got, want)
		}
	}
	if user := u.one(t, "Service", "User"); user == "" || user == "root" || user == "0" {
		t.Errorf("User=%q: the service must run as its own account", user)
	}
	if f := u.one(t, "Service", "EnvironmentFile"); !filepath.IsAbs(strings.TrimPrefix(f, "-")) {
		t.Errorf("EnvironmentFile=%q is not an absolute path", f)
	}
	cmdline := strings.Fields(u.one(t, "Service", "ExecStart"))
	if len(cmdline) != 2 || cmdline[1] != "serve" {
		t.Fatalf("ExecStart=%v, want the binary and serve", cmdline)
	}

	// The data directory set for the service must be writable under
	// ProtectSystem=strict.
	dataDir := ""
	for _, e := range u["Service"]["Environment"] {
		if v, ok := strings.CutPrefix(e, "SWITCHBOARD_DATA_DIR="); ok {
			dataDir = v
		}
	}
	if dataDir == "" {
		t.Fatal("the unit does not set SWITCHBOARD_DATA_DIR")
	}
	if !strings.Contains(" "+u.one(t, "Service", "ReadWritePaths")+" ", " "+dataDir+" ") {
		t.Errorf("ReadWritePaths=%s does not include the data directory %s", u.one(t, "Service", "ReadWritePaths"), dataDir)
	}

	// systemd must wait longer than the node's own graceful shutdown.
	def, err := config.Load(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	stop, err := time.ParseDuration(u.one(t, "Service", "TimeoutStopSec"))
	if err != nil || stop <= def.ShutdownTimeout {
		t.Errorf("TimeoutStopSec=%s, want more than the default shutdown timeout %s", u.one(t, "Service", "TimeoutStopSec"), def.ShutdownTimeout)
	}
	if u.one(t, "Install", "WantedBy") != "multi-user.target" {
		t.Error("WantedBy is not multi-user.target")
	}

	// systemd's own check, where systemd is installed: unknown keys and
	// unparsable values are reported (on stderr, with exit status 0).
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed; skipping systemd's own check")
		return
	}
	// verify also checks that ExecStart's binary exists: point it at the
	// one the image would contain.
	bin := buildAsContainerfile(t)
	data, _ := os.ReadFile("switchboard.service")
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "switchboard.service")
	if err := os.WriteFile(copyPath, bytes.ReplaceAll(data, []byte(cmdline[0]), []byte(bin)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", copyPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// containerfile is deploy/Containerfile's instructions, continuation lines
// joined.
func containerfile(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if l, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// words splits a shell command line on spaces outside double quotes and
// drops the quotes; enough for the Containerfile's build command.
func words(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

const testVersion = "v0.0.0-containerfile-test"

var built = struct {
	sync.Once
	dir, path string
	err       error
	out       []byte
}{}

// TestMain removes the binary the tests shared.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildAsContainerfile runs the image's go build command, with its
// environment and flags, from the repository root, and returns the binary.
func buildAsContainerfile(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	var run string
	for _, ins := range containerfile(t) {
		if strings.HasPrefix(ins, "RUN ") && strings.Contains(ins, " go build ") {
			run = strings.TrimPrefix(ins, "RUN ")
		}
	}
	if run == "" {
		t.Fatal("the Containerfile has no go build step")
	}
	built.Do(func() {
		dir, err := os.MkdirTemp("", "switchboard-containerfile-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		args := words(strings.ReplaceAll(run, "${VERSION}", testVersion))
		env := os.Environ()
		for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-") {
			env = append(env, args[0])
			args = args[1:]
		}
		if len(args) < 2 || args[0] != "go" || args[1] != "build" {
			built.err = fmt.Errorf("build step %q does not run go build", run)
			return
		}
		for i := range args {
			if args[i] == "-o" && i+1 < len(args) {
				built.path = filepath.Join(dir, filepath.Base(args[i+1]))
				args[i+1] = built.path
			}
		}
		cmd := exec.Command("go", args[1:]...)
		cmd.Dir = ".."
		cmd.Env = env
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building as the Containerfile does: %v\n%s", built.err, built.out)
	}
	return built.path
}

func TestContainerfile(t *testing.T) {
	ins := containerfile(t)
	stages := 0
	var runtime []string // instructions of the last stage
	for _, i := range ins {
		if strings.HasPrefix(i, "FROM ") {
			stages++
			runtime = nil
		}
		runtime = append(runtime, i)
	}
	if stages < 2 {
		t.Fatalf("%d stages, want a build stage and a runtime stage", stages)
	}
	get := func(prefix string) string {
		for _, i := range runtime {
			if v, ok := strings.CutPrefix(i, prefix+" "); ok {
				return v
			}
		}
		t.Fatalf("the runtime stage has no %s", prefix)
		return ""
	}
	if user := get("USER"); strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %s: the image must not run as root", user)
	}
	if v := get("VOLUME"); !strings.Contains(v, "/data") {
		t.Errorf("VOLUME %s, want /data", v)
	}
	env := get("ENV")
	if !strings.Contains(env, "SWITCHBOARD_DATA_DIR=/data") {
		t.Errorf("ENV %s does not put the data directory on the volume", env)
	}
	addr := regexp.MustCompile(`SWITCHBOARD_ADDR=(\S+)`).FindStringSubmatch(env)
	if addr == nil {
		t.Fatalf("ENV %s does not set SWITCHBOARD_ADDR", env)
	}
	host, port, err := net.SplitHostPort(addr[1])
	if err != nil || host != "0.0.0.0" {
		t.Errorf("SWITCHBOARD_ADDR=%s: a container must listen on all interfaces", addr[1])
	}
	if get("EXPOSE") != port {
		t.Errorf("EXPOSE %s, but the node listens on %s", get("EXPOSE"), port)
	}
	if hc := get("HEALTHCHECK"); !strings.Contains(hc, `"healthcheck"`) {
		t.Errorf("HEALTHCHECK %s does not use switchboard healthcheck", hc)
	}

	bin := buildAsContainerfile(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), testVersion) {
		t.Errorf("built binary's version: %v %s", err, out)
	}
	// A static binary is what lets the runtime image have no libc.
	info, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil || !strings.Contains(string(info), "CGO_ENABLED=0") {
		t.Errorf("the binary is not built without cgo: %v\n%s", err, info)
	}
}

// Every setting the operations guide and the deploy files name is one the
// node reads: a misspelt or stale name in a deployment file is silently
// ignored otherwise.
func TestDocumentedSettingsExist(t *testing.T) {
	var code strings.Builder
	srcs, _ := filepath.Glob("../internal/config/*.go")
	for _, f := range srcs {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code.Write(b)
	}
	name := regexp.MustCompile(`SWITCHBOARD_[A-Z0-9_]*[A-Z0-9]\b\*?`)
	docs := []string{"../docs/operations.md", "switchboard.service", "switchboard.env.example", "Containerfile"}
	seen := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllString(string(b), -1) {
			if strings.HasSuffix(m, "*") {
				continue // a family of names, like SWITCHBOARD_S3_*
			}
			seen++
			if !strings.Contains(code.String(), `"`+m+`"`) {
				t.Errorf("%s names %s, which internal/config does not read", doc, m)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d setting names; is the pattern right?", seen)
	}
}
