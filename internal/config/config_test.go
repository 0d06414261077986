package config

import (
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != DefaultAddr || c.DataDir != "data" || !c.Demo || c.PublicURL != "http://127.0.0.1:8080" || c.UploadMaxBytes != 20<<20 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.SecureCookies {
		t.Fatal("http public URL must not set secure cookies")
	}
	if c.WebhookAllowPrivate {
		t.Fatal("webhooks must not reach private addresses unless the operator allows it")
	}
	if c.WebhookRetention != 7*24*time.Hour {
		t.Fatalf("webhook retention %v, want 7 days", c.WebhookRetention)
	}
}

func TestLexEndpointsFromAWSVariables(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{
		"AWS_ENDPOINT_URL_LEX_RUNTIME_V2": "https://runtime-v2-lex.vpce.example",
		"AWS_ENDPOINT_URL_LEX_MODELS_V2":  "http://127.0.0.1:4010",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LexRuntimeEndpoint != "https://runtime-v2-lex.vpce.example" || c.LexModelsEndpoint != "http://127.0.0.1:4010" {
		t.Fatalf("lex endpoints = %q, %q", c.LexRuntimeEndpoint, c.LexModelsEndpoint)
	}
}

func TestFlagsWinOverEnv(t *testing.T) {
	c, err := Load([]string{"-addr", "127.0.0.1:9999"}, envOf(map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:7777"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" {
		t.Fatalf("addr = %s", c.Addr)
	}
}

func TestPostgresTurnsDemoOffByDefault(t *testing.T) {
	c, err := Load(nil, envOf(map[string]string{"SWITCHBOARD_DATABASE_URL": "postgres://u@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Demo {
		t.Fatal("demo should default to off on PostgreSQL")
	}
}

func TestInvalidSettingsNameTheSetting(t *testing.T) {
	const secret = "hunter2hunter2-not-a-key"
	cases := map[string]map[string]string{
		"SWITCHBOARD_ADDR":                  {"SWITCHBOARD_ADDR": "nonsense"},
		"SWITCHBOARD_DATABASE_URL":          {"SWITCHBOARD_DATABASE_URL": "mysql://x"},
		"SWITCHBOARD_NATS_URL":              {"SWITCHBOARD_NATS_URL": "http://x"},
		"SWITCHBOARD_PUBLIC_URL":            {"SWITCHBOARD_PUBLIC_URL": "ftp://x"},
		"SWITCHBOARD_DEMO":                  {"SWITCHBOARD_DEMO": "perhaps"},
		"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": {"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "sometimes"},
		"SWITCHBOARD_WEBHOOK_TIMEOUT":       {"SWITCHBOARD_WEBHOOK_TIMEOUT": "10"},
		"SWITCHBOARD_WEBHOOK_MAX_AGE":       {"SWITCHBOARD_WEBHOOK_MAX_AGE": "-1h"},
		"SWITCHBOARD_WEBHOOK_DISABLE_AFTER": {"SWITCHBOARD_WEBHOOK_DISABLE_AFTER": "0s"},
		"SWITCHBOARD_WEBHOOK_RETENTION":     {"SWITCHBOARD_WEBHOOK_RETENTION": "a week"},
		"SWITCHBOARD_UPLOAD_MAX_BYTES":      {"SWITCHBOARD_UPLOAD_MAX_BYTES": "-1"},
		"SWITCHBOARD_ADMIN_PASSWORD":        {"SWITCHBOARD_ADMIN_PASSWORD": "short"},
		"SWITCHBOARD_BOOTSTRAP_API_KEY":     {"SWITCHBOARD_BOOTSTRAP_API_KEY": "has space " + secret},
		"SWITCHBOARD_LOG_LEVEL":             {"SWITCHBOARD_LOG_LEVEL": "loud"},
		"AWS_ENDPOINT_URL_LEX_RUNTIME_V2":   {"AWS_ENDPOINT_URL_LEX_RUNTIME_V2": "lex.internal:443"},
		"AWS_ENDPOINT_URL_LEX_MODELS_V2":    {"AWS_ENDPOINT_URL_LEX_MODELS_V2": "ftp://models"},
	}
	for setting, env := range cases {
		t.Run(setting, func(t *testing.T) {
			_, err := Load(nil, envOf(env))
			if err == nil || !IsConfigError(err) {
				t.Fatalf("want a config error, got %v", err)
			}
			if !strings.Contains(err.Error(), setting) {
				t.Fatalf("error %q does not name %s", err, setting)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q leaks the value", err)
			}
		})
	}
}
