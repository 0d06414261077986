package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/loadtest"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// nodeEnv makes this test binary act as `switchboard` when `bench e2e
// -spawn` starts it as a node (the command re-executes its own binary).
const nodeEnv = "SWITCHBOARD_BENCH_TEST_NODE"

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) == "1" {
		if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runE2E runs `switchboard bench e2e` with args and -json, and returns
// its report; the run must succeed.
func runE2E(t *testing.T, args ...string) *loadtest.E2EReport {
	t.Helper()
	t.Setenv(nodeEnv, "1")
	var out, log bytes.Buffer
	err := run(append([]string{"bench", "e2e", "-json"}, args...), func(string) string { return "" }, &out, &log)
	if err != nil {
		t.Fatalf("bench e2e: %v\nreport: %s\nlog:\n%s", err, out.String(), log.String())
	}
	var rep loadtest.E2EReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("the -json report does not decode: %v\n%s", err, out.String())
	}
	return &rep
}

// checkE2E asserts what every run must show: each latency measured, no
// error of any kind, a baseline from the same run, and the nodes' use.
func checkE2E(t *testing.T, rep *loadtest.E2EReport, nodes int) {
	t.Helper()
	s := rep.Switchboard
	if s == nil || rep.Baseline == nil || rep.Ratios == nil {
		t.Fatalf("report lacks a part: %+v", rep)
	}
	for name, l := range map[string]loadtest.Latency{"bot reply": s.BotReply, "handoff": s.Handoff, "agent reply": s.AgentReply, "ack": s.Ack} {
		if l.N == 0 || l.P50 <= 0 || l.Max < l.P99 || l.P99 < l.P50 {
			t.Errorf("%s latency: %+v", name, l)
		}
	}
	if len(s.Errors) != 0 || s.MetricsErrors != 0 {
		t.Errorf("errors: %v %v (metrics reads failed: %d)", s.Errors, s.FirstErrors, s.MetricsErrors)
	}
	if s.Acked == 0 || s.Acked != s.Sent || s.Throughput <= 0 {
		t.Errorf("sent %d, acked %d, throughput %.1f", s.Sent, s.Acked, s.Throughput)
	}
	if rep.Baseline.Delivery.N == 0 || rep.Baseline.Faults != 0 {
		t.Errorf("baseline: %+v", rep.Baseline)
	}
	if len(s.Nodes) != nodes {
		t.Fatalf("resource use for %d nodes, want %d", len(s.Nodes), nodes)
	}
	for _, n := range s.Nodes {
		if n.PID == 0 || n.CPUSeconds <= 0 || n.PeakRSSMiB <= 0 || n.PeakFrom != "kernel VmHWM" {
			t.Errorf("node use: %+v", n)
		}
	}
}

// TestBenchE2ESQLite runs the tool briefly on one node it spawns, with the
// demo Lex bot, and checks the node's CPU profile was written.
func TestBenchE2ESQLite(t *testing.T) {
	prof := t.TempDir()
	rep := runE2E(t, "-spawn", "sqlite", "-bot", "lex", "-contacts", "4", "-agents", "2", "-rate", "8",
		"-duration", "3s", "-handoff-share", "0.5", "-cpuprofile-dir", prof)
	checkE2E(t, rep, 1)
	if rep.Spawned != "sqlite" || rep.Bot != "lex" {
		t.Errorf("report names %q / %q", rep.Spawned, rep.Bot)
	}
	st, err := os.Stat(filepath.Join(prof, "node1.pprof"))
	if err != nil || st.Size() == 0 {
		t.Errorf("node CPU profile: %v", err)
	}
}

// TestBenchE2EPostgresTwoNodes runs it on two nodes sharing PostgreSQL and
// NATS, with an instant webhook bot: contacts and agents alternate between
// the nodes, so notifications and replies cross them.
func TestBenchE2EPostgresTwoNodes(t *testing.T) {
	db := pgtest.URL(t)
	nats := natstest.URL(t)
	rep := runE2E(t, "-spawn", "postgres", "-nodes", "2", "-database-url", db, "-nats-url", nats, "-bot", "webhook",
		"-contacts", "4", "-agents", "2", "-rate", "8", "-duration", "3s", "-handoff-share", "0.5")
	checkE2E(t, rep, 2)
	if len(rep.Nodes) != 2 || rep.Nodes[0] == rep.Nodes[1] {
		t.Errorf("nodes: %v", rep.Nodes)
	}
}

func TestBenchE2EFlags(t *testing.T) {
	for _, args := range [][]string{
		{},                                    // neither -url nor -spawn
		{"-spawn", "mysql"},                   // unknown store
		{"-spawn", "postgres", "-nodes", "2"}, // no database
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "-bot", "dialogflow"},
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "-handoff-share", "1.5"},
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "-agents", "0"},
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "-duration", "31m"},
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "-rate", "0"},
		{"-url", "http://127.0.0.1:1", "-api-key", "k", "extra"},
	} {
		var out, log bytes.Buffer
		err := run(append([]string{"bench", "e2e"}, args...), func(string) string { return "" }, &out, &log)
		if err == nil {
			t.Errorf("bench e2e %s: accepted", strings.Join(args, " "))
		}
	}
}

// TestBenchE2EFailingBotIsAnError: when the bot cannot answer, the node
// posts a notice in the bot's name; the bench must count it as an error,
// not as a reply. The spawned node refuses the loopback webhook bot.
func TestBenchE2EFailingBotIsAnError(t *testing.T) {
	t.Setenv(nodeEnv, "1")
	var out, log bytes.Buffer
	rep, err := loadtest.RunE2E(context.Background(), loadtest.E2EConfig{
		Spawn: &loadtest.Spawn{Store: "sqlite", Nodes: 1, Command: []string{os.Args[0], "bench", "node"},
			Env: []string{"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=false"}, Log: &log},
		Contacts: 2, Bot: "webhook", Rate: 4, Duration: 2 * time.Second, JSON: true, Out: &out, Log: &log,
	})
	if !errors.Is(err, loadtest.ErrE2E) {
		t.Fatalf("err = %v, want ErrE2E\n%s\n%s", err, out.String(), log.String())
	}
	s := rep.Switchboard
	if s.Errors["bot failure notice"] == 0 || s.BotReply.N != 0 {
		t.Fatalf("errors %v, bot replies %d: the failure notices were not told from replies", s.Errors, s.BotReply.N)
	}
}
