// Package config holds Switchboard's one Config struct. It is built once at
// start from flags and the environment, validated, and then passed down:
// no other package reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a Switchboard node. The SWITCHBOARD_* names
// are a public contract: operators' deployment files depend on them.
type Config struct {
	Addr            string // SWITCHBOARD_ADDR
	DataDir         string // SWITCHBOARD_DATA_DIR
	DatabaseURL     string // SWITCHBOARD_DATABASE_URL; empty means SQLite in DataDir
	NATSURL         string // SWITCHBOARD_NATS_URL; empty means the in-process bus
	PublicURL       string // SWITCHBOARD_PUBLIC_URL; defaults to http://Addr
	SecretKey       string // SWITCHBOARD_SECRET_KEY; empty means a key file in DataDir
	AdminEmail      string // SWITCHBOARD_ADMIN_EMAIL
	AdminPassword   string // SWITCHBOARD_ADMIN_PASSWORD; generated and printed once when empty
	BootstrapAPIKey string // SWITCHBOARD_BOOTSTRAP_API_KEY
	Demo            bool   // SWITCHBOARD_DEMO; defaults to true on SQLite
	UploadMaxBytes  int64  // SWITCHBOARD_UPLOAD_MAX_BYTES
	LogLevel        slog.Level
	LogFormat       string // "text" or "json"
	ShutdownTimeout time.Duration
	// SecureCookies marks session cookies Secure; on when PublicURL is https.
	SecureCookies bool
	// WebhookAllowPrivate lets webhook bots (and, later, outgoing webhooks)
	// reach loopback, private and link-local addresses. Off by default, so a
	// bot URL cannot be used to probe the node's own network.
	WebhookAllowPrivate bool // SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE
	// Outgoing webhooks: how long one request may take, how long an event
	// is retried before it is given up, and how long an endpoint may fail
	// without a success before it is disabled; how long finished events
	// are kept.
	WebhookTimeout      time.Duration // SWITCHBOARD_WEBHOOK_TIMEOUT
	WebhookMaxAge       time.Duration // SWITCHBOARD_WEBHOOK_MAX_AGE
	WebhookDisableAfter time.Duration // SWITCHBOARD_WEBHOOK_DISABLE_AFTER
	WebhookRetention    time.Duration // SWITCHBOARD_WEBHOOK_RETENTION
	// LexRuntimeEndpoint and LexModelsEndpoint point Lex bots whose
	// settings name no endpoint at a VPC endpoint or a local runtime: AWS's
	// standard variables, read here because no other package reads the
	// environment.
	LexRuntimeEndpoint string // AWS_ENDPOINT_URL_LEX_RUNTIME_V2
	LexModelsEndpoint  string // AWS_ENDPOINT_URL_LEX_MODELS_V2
	// Uploads says where uploaded files are kept: local disk or S3.
	Uploads Uploads
	// Email is the relay of the fallback emails (SWITCHBOARD_SMTP_*); off
	// unless SWITCHBOARD_SMTP_ADDR is set.
	Email Email
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// Forwarded headers name the client for per-address limits; empty
	// trusts none.
	TrustedProxies []netip.Prefix // SWITCHBOARD_TRUSTED_PROXIES
}

// Defaults for settings that have one.
const (
	DefaultAddr           = "127.0.0.1:8080"
	DefaultDataDir        = "./data"
	DefaultAdminEmail     = "admin@switchboard.local"
	DefaultUploadMaxBytes = 20 << 20
)

// Error names the setting at fault, never its value: a value may be a secret.
type Error struct {
	Setting string
	Reason  string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Setting, e.Reason) }

// Load builds a Config from command-line args (without the program name) and
// an environment lookup. A flag wins over its environment variable.
func Load(args []string, getenv func(string) string) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", env("SWITCHBOARD_ADDR", DefaultAddr), "listen address (SWITCHBOARD_ADDR)")
	dataDir := fs.String("data-dir", env("SWITCHBOARD_DATA_DIR", DefaultDataDir), "data directory (SWITCHBOARD_DATA_DIR)")
	dbURL := fs.String("database-url", env("SWITCHBOARD_DATABASE_URL", ""), "postgres:// URL; empty for SQLite (SWITCHBOARD_DATABASE_URL)")
	natsURL := fs.String("nats-url", env("SWITCHBOARD_NATS_URL", ""), "nats:// URL; empty for the in-process bus (SWITCHBOARD_NATS_URL)")
	publicURL := fs.String("public-url", env("SWITCHBOARD_PUBLIC_URL", ""), "URL users reach this server at (SWITCHBOARD_PUBLIC_URL)")
	demo := fs.String("demo", env("SWITCHBOARD_DEMO", ""), "set up the demo bot (SWITCHBOARD_DEMO)")
	allowPrivate := fs.String("webhook-allow-private", env("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE", ""), "let webhooks and webhook bots reach private addresses (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE)")
	uploadMax := fs.String("upload-max-bytes", env("SWITCHBOARD_UPLOAD_MAX_BYTES", strconv.Itoa(DefaultUploadMaxBytes)), "largest upload (SWITCHBOARD_UPLOAD_MAX_BYTES)")
	logLevel := fs.String("log-level", env("SWITCHBOARD_LOG_LEVEL", "info"), "debug, info, warn or error (SWITCHBOARD_LOG_LEVEL)")
	logFormat := fs.String("log-format", env("SWITCHBOARD_LOG_FORMAT", "text"), "text or json (SWITCHBOARD_LOG_FORMAT)")
	shutdown := fs.String("shutdown-timeout", env("SWITCHBOARD_SHUTDOWN_TIMEOUT", "15s"), "grace period on SIGTERM (SWITCHBOARD_SHUTDOWN_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		return Config{}, &Error{Setting: "flags", Reason: err.Error()}
	}
	if fs.NArg() > 0 {
		return Config{}, &Error{Setting: "flags", Reason: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	c := Config{
		Addr:            *addr,
		DataDir:         *dataDir,
		DatabaseURL:     *dbURL,
		NATSURL:         *natsURL,
		PublicURL:       strings.TrimRight(*publicURL, "/"),
		SecretKey:       getenv("SWITCHBOARD_SECRET_KEY"),
		AdminEmail:      env("SWITCHBOARD_ADMIN_EMAIL", DefaultAdminEmail),
		AdminPassword:   getenv("SWITCHBOARD_ADMIN_PASSWORD"),
		BootstrapAPIKey: getenv("SWITCHBOARD_BOOTSTRAP_API_KEY"),
		LogFormat:       *logFormat,

		LexRuntimeEndpoint: getenv("AWS_ENDPOINT_URL_LEX_RUNTIME_V2"),
		LexModelsEndpoint:  getenv("AWS_ENDPOINT_URL_LEX_MODELS_V2"),
	}
	var err error
	if c.Demo, err = parseBool("SWITCHBOARD_DEMO", *demo, c.DatabaseURL == ""); err != nil {
		return Config{}, err
	}
	if c.WebhookAllowPrivate, err = parseBool("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE", *allowPrivate, false); err != nil {
		return Config{}, err
	}
	for _, d := range []struct {
		setting string
		to      *time.Duration
		def     time.Duration
	}{
		{"SWITCHBOARD_WEBHOOK_TIMEOUT", &c.WebhookTimeout, 10 * time.Second},
		{"SWITCHBOARD_WEBHOOK_MAX_AGE", &c.WebhookMaxAge, 24 * time.Hour},
		{"SWITCHBOARD_WEBHOOK_DISABLE_AFTER", &c.WebhookDisableAfter, 24 * time.Hour},
		{"SWITCHBOARD_WEBHOOK_RETENTION", &c.WebhookRetention, 7 * 24 * time.Hour},
	} {
		if *d.to, err = parsePositiveDuration(d.setting, getenv(d.setting), d.def); err != nil {
			return Config{}, err
		}
	}
	if c.Uploads, err = loadUploads(getenv); err != nil {
		return Config{}, err
	}
	if c.Email, err = loadEmail(getenv); err != nil {
		return Config{}, err
	}
	if c.TrustedProxies, err = parseTrustedProxies(getenv("SWITCHBOARD_TRUSTED_PROXIES")); err != nil {
		return Config{}, err
	}
	if c.UploadMaxBytes, err = strconv.ParseInt(*uploadMax, 10, 64); err != nil || c.UploadMaxBytes < 1 || c.UploadMaxBytes > 1<<30 {
		return Config{}, &Error{"SWITCHBOARD_UPLOAD_MAX_BYTES", "must be a byte count between 1 and 1073741824"}
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return Config{}, &Error{"SWITCHBOARD_LOG_LEVEL", "must be debug, info, warn or error"}
	}
	if c.ShutdownTimeout, err = time.ParseDuration(*shutdown); err != nil || c.ShutdownTimeout <= 0 {
		return Config{}, &Error{"SWITCHBOARD_SHUTDOWN_TIMEOUT", "must be a positive duration such as 15s"}
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func parsePositiveDuration(setting, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, &Error{setting, "must be a positive duration such as 10s or 24h"}
	}
	return d, nil
}

func parseBool(setting, v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &Error{setting, "must be true or false"}
	}
	return b, nil
}

func (c *Config) validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &Error{"SWITCHBOARD_ADDR", "must be host:port, for example 127.0.0.1:8080"}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &Error{"SWITCHBOARD_ADDR", "port must be a number from 0 to 65535"}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return &Error{"SWITCHBOARD_DATA_DIR", "must not be empty"}
	}
	c.DataDir = filepath.Clean(c.DataDir)
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return &Error{"SWITCHBOARD_DATABASE_URL", "must be empty (SQLite) or a postgres:// URL"}
		}
	}
	for _, e := range []struct{ name, v string }{
		{"AWS_ENDPOINT_URL_LEX_RUNTIME_V2", c.LexRuntimeEndpoint},
		{"AWS_ENDPOINT_URL_LEX_MODELS_V2", c.LexModelsEndpoint},
	} {
		if e.v == "" {
			continue
		}
		if u, err := url.Parse(e.v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{e.name, "must be an http:// or https:// URL"}
		}
	}
	if c.NATSURL != "" {
		u, err := url.Parse(c.NATSURL)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return &Error{"SWITCHBOARD_NATS_URL", "must be empty (in-process bus) or a nats:// URL"}
		}
	}
	if c.PublicURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return &Error{"SWITCHBOARD_PUBLIC_URL", "must be an absolute http:// or https:// URL without query"}
	}
	c.SecureCookies = u.Scheme == "https"
	if c.AdminEmail == "" || !strings.Contains(c.AdminEmail, "@") {
		return &Error{"SWITCHBOARD_ADMIN_EMAIL", "must be an email address"}
	}
	if c.AdminPassword != "" && (len(c.AdminPassword) < 8 || len(c.AdminPassword) > 256) {
		return &Error{"SWITCHBOARD_ADMIN_PASSWORD", "must be 8 to 256 characters"}
	}
	if c.BootstrapAPIKey != "" && (len(c.BootstrapAPIKey) < 24 || len(c.BootstrapAPIKey) > 256 || strings.ContainsAny(c.BootstrapAPIKey, " \t\r\n")) {
		return &Error{"SWITCHBOARD_BOOTSTRAP_API_KEY", "must be 24 to 256 characters without spaces"}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return &Error{"SWITCHBOARD_LOG_FORMAT", "must be text or json"}
	}
	return nil
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "switchboard.db") }

// UploadDir is where uploaded files live on local disk.
func (c Config) UploadDir() string { return filepath.Join(c.DataDir, "uploads") }

// KeyFile is where a generated secret key is kept.
func (c Config) KeyFile() string { return filepath.Join(c.DataDir, "secret.key") }

// IsConfigError reports whether err came from validation.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
