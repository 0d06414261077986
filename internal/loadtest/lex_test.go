package loadtest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
)

// startDemo serves the demo bot as `switchboard lex-local` does.
func startDemo(t *testing.T) (*localrun.Runtime, LexConfig) {
	t.Helper()
	bot, err := demobot.Load()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := localrun.Start(localrun.Options{
		Addr: "127.0.0.1:0", Bots: []*export.Bot{bot}, Region: "eu-west-1",
		AccessKeyID: "AKIALOADTEST0001", SecretAccessKey: "load/test+secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
	})
	return rt, LexConfig{
		URL: rt.URL, Region: "eu-west-1", AccessKeyID: "AKIALOADTEST0001", SecretAccessKey: "load/test+secret",
		BotID: demobot.ID, AliasID: "TSTALIASID", LocaleID: "en_US", Script: DemoScript,
		Workers: 2, Duration: 300 * time.Millisecond, Baseline: true,
	}
}

func TestRunLexMeasuresRuntimeAndBaseline(t *testing.T) {
	_, cfg := startDemo(t)
	var out bytes.Buffer
	cfg.Out = &out
	rep, err := RunLex(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Baseline == nil || rep.Baseline.Turns == 0 || rep.Runtime.Turns == 0 {
		t.Fatalf("no turns measured: %+v", rep)
	}
	for _, r := range []LexResult{*rep.Baseline, rep.Runtime} {
		if r.Latency.N != r.Turns || r.P50() <= 0 || r.P99() < r.P50() || r.PerSec() <= 0 {
			t.Errorf("%s: inconsistent figures: %+v", r.Target, r)
		}
	}
	for _, want := range []string{"bare handler", cfg.URL, "ratio", "p50 ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunLexFailsLoudly checks that a runtime refusing the load's turns
// stops the run with the runtime's own error, rather than being timed.
func TestRunLexFailsLoudly(t *testing.T) {
	_, cfg := startDemo(t)
	for _, tc := range []struct {
		name string
		mod  func(*LexConfig)
		want string
	}{
		{"wrong secret", func(c *LexConfig) { c.SecretAccessKey = "wrong" }, "InvalidSignatureException"},
		{"wrong region", func(c *LexConfig) { c.Region = "us-west-2" }, "InvalidSignatureException"},
		{"unknown bot", func(c *LexConfig) { c.BotID = "NOSUCHBOT1" }, "ResourceNotFoundException"},
		{"disabled locale", func(c *LexConfig) { c.LocaleID = "fr_FR" }, "ValidationException"},
		{"no baseline", func(c *LexConfig) { c.Baseline = false; c.SecretAccessKey = "wrong" }, "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.mod(&c)
			var out bytes.Buffer
			c.Out = &out
			_, err := RunLex(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("a failed run wrote a report:\n%s", out.String())
			}
		})
	}
}

func TestParseLex(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"}
	getenv := func(k string) string { return env[k] }
	cfg, err := ParseLex([]string{"-url", "http://127.0.0.1:9", "-workers", "8", "-duration", "2s", "-script", "hi|bye"}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 8 || cfg.Duration != 2*time.Second || cfg.Region != "eu-west-1" || cfg.AccessKeyID != "AKIA1" ||
		cfg.BotID != demobot.ID || !cfg.Baseline || strings.Join(cfg.Script, "|") != "hi|bye" {
		t.Errorf("cfg = %+v", cfg)
	}
	for _, bad := range [][]string{
		{"-workers", "0"},
		{"-duration", "10m"},
		{"-url", "127.0.0.1:4010"},
		{"-url", "https://127.0.0.1:4010"},
		{"-script", "hi||bye"},
		{"-secret-access-key", ""},
		{"extra"},
	} {
		if _, err := ParseLex(bad, getenv, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
