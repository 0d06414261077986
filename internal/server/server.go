// Package server assembles a Switchboard node from its Config: it opens the
// store, the keyring and the file storage, builds the service and the HTTP
// handlers, and runs them until told to stop. cmd/switchboard is a thin shell
// around it, and end-to-end tests embed it the same way.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/botrun"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/bus/natsbus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/dashboard"
	"github.com/switchboard-chat/switchboard/internal/email"
	"github.com/switchboard-chat/switchboard/internal/emailfallback"
	"github.com/switchboard-chat/switchboard/internal/httpapi"
	"github.com/switchboard-chat/switchboard/internal/kmcompat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
	"github.com/switchboard-chat/switchboard/internal/realtime"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/metered"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/upload"
	"github.com/switchboard-chat/switchboard/internal/webhook"
	"github.com/switchboard-chat/switchboard/internal/webhook/deliver"
	"github.com/switchboard-chat/switchboard/internal/widget"
)

// Server is one running Switchboard node.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	bus     bus.Bus
	gateway *realtime.Gateway
	nodeID  string
	blobs   upload.Storage
	svc     *service.Service
	handler http.Handler
	http    *http.Server
	ln      net.Listener
	bots    *botrun.Worker
	// webhooks sends outgoing webhooks from the store's outbox.
	webhooks *deliver.Worker
	// demo is the in-process Lex runtime serving the demo bot, when
	// SWITCHBOARD_DEMO is on.
	demo *localrun.Runtime
	// sweep stops the auto-resolve sweeper (and the email one); it is set
	// while they run.
	sweep            func()
	autoResolveEvery time.Duration
	// email sends the fallback emails; nil when SWITCHBOARD_SMTP_ADDR is
	// unset (the default).
	email      *emailfallback.Sweeper
	emailEvery time.Duration
}

// Options adjust a Server beyond its Config, for embedding and tests.
type Options struct {
	Logger *slog.Logger
	// Out receives the one-time notices meant for the operator's eyes, such
	// as a generated admin password. Defaults to os.Stdout.
	Out io.Writer
	// Passwords overrides the argon2id cost (tests use a cheap one).
	Passwords auth.Params
	// AllowPrivateBots lets webhook bots live on loopback and private
	// addresses even when the config does not (cfg.WebhookAllowPrivate),
	// for embedding next to a local bot and for tests.
	AllowPrivateBots bool
	// BotDeadline bounds each bot turn; 0 means the runner's default.
	BotDeadline time.Duration
	// BotLease is how long a claimed bot turn is held without renewal,
	// which is how long a crashed node's turn waits for another node; 0
	// means botrun.DefaultLease.
	BotLease time.Duration
	// AutoResolveEvery is how often this node sweeps for conversations
	// to resolve for inactivity; 0 means service.DefaultAutoResolveEvery.
	AutoResolveEvery time.Duration
	// EmailEvery is how often this node sweeps for fallback emails to
	// send, when email is on; 0 means emailfallback.DefaultEvery.
	EmailEvery time.Duration
}

// New opens everything a node needs and makes sure the default app exists.
// Nothing listens until Serve.
func New(ctx context.Context, cfg config.Config, o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	out := o.Out
	if out == nil {
		out = os.Stdout
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	master, err := masterKey(cfg)
	if err != nil {
		return nil, err
	}
	keys, err := auth.NewKeyring(master)
	if err != nil {
		return nil, err
	}
	blobs, err := openUploads(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("upload storage ready", "uploads", cfg.Uploads.Backend)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := openStore(ctx, cfg, reg)
	if err != nil {
		blobs.Close()
		return nil, err
	}
	// A fresh id per process, not per host: a restarted node is a new node,
	// and what the old one recorded (its connected agents) simply expires.
	nodeID := chat.NewID()
	b, err := openBus(ctx, cfg, nodeID, log)
	if err != nil {
		st.Close()
		blobs.Close()
		return nil, err
	}
	log.Info("event bus ready", "bus", busKind(cfg), "node", nodeID)
	svc := service.New(service.Options{
		Store:          st,
		Bus:            b,
		NodeID:         nodeID,
		Blobs:          blobs,
		Keys:           keys,
		Passwords:      o.Passwords,
		Logger:         log,
		UploadMaxBytes: cfg.UploadMaxBytes,
		PublicURL:      cfg.PublicURL,
		LexSetup:       lexbot.NewSetup(lexbot.SetupOptions{Endpoint: cfg.LexModelsEndpoint}),
		// The operator's one switch for calls to URLs an admin chose.
		AllowPrivateOutbound: o.AllowPrivateBots || cfg.WebhookAllowPrivate,
	})
	boot, err := svc.EnsureDefaults(ctx, service.Bootstrap{
		AdminEmail:    cfg.AdminEmail,
		AdminPassword: cfg.AdminPassword,
		APIKey:        cfg.BootstrapAPIKey,
	})
	if err != nil {
		b.Close()
		st.Close()
		blobs.Close()
		return nil, fmt.Errorf("first-start setup: %w", err)
	}
	if boot.CreatedOwner {
		log.Info("created the default app's owner", "email", cfg.AdminEmail)
	}
	if boot.GeneratedPassword != "" {
		// Printed, not logged: logs are often shipped elsewhere and kept.
		fmt.Fprintf(out, "\n  Switchboard owner account created.\n  Sign in at %s with\n    email:    %s\n    password: %s\n  This password is shown only once.\n\n", cfg.PublicURL, cfg.AdminEmail, boot.GeneratedPassword)
	}
	if boot.CreatedAPIKey {
		log.Info("created the bootstrap API key for the default app")
	}

	mail, err := newEmailSweeper(cfg, st, log)
	if err != nil {
		b.Close()
		st.Close()
		blobs.Close()
		return nil, err
	}
	var demo *localrun.Runtime
	if cfg.Demo {
		if demo, err = startDemo(ctx, svc, boot.CreatedApp, log); err != nil {
			b.Close()
			st.Close()
			blobs.Close()
			return nil, err
		}
	}

	s := &Server{cfg: cfg, log: log, store: st, bus: b, nodeID: nodeID, blobs: blobs, svc: svc, demo: demo, autoResolveEvery: o.AutoResolveEvery, email: mail, emailEvery: o.EmailEvery}
	runner := turn.New(turn.Options{
		Connectors: map[chat.BotType]bot.Connector{
			chat.BotWebhook: webhookbot.New(webhookbot.Options{Logger: log, AllowPrivate: o.AllowPrivateBots || cfg.WebhookAllowPrivate}),
			chat.BotLex:     lexbot.New(lexbot.Options{Logger: log, Registerer: reg, Endpoint: cfg.LexRuntimeEndpoint}),
		},
		Deadline: o.BotDeadline,
		Logger:   log,
	})
	s.bots = botrun.New(botrun.Options{Service: svc, Runner: runner, NodeID: nodeID, Lease: o.BotLease, Logger: log})
	s.webhooks = deliver.New(deliver.Options{
		Store:        st,
		Credentials:  svc.WebhookCredentials,
		Bus:          b,
		NodeID:       nodeID,
		Timeout:      cfg.WebhookTimeout,
		Retry:        webhook.Retry{MaxAge: cfg.WebhookMaxAge},
		DisableAfter: cfg.WebhookDisableAfter,
		Retention:    cfg.WebhookRetention,
		AllowPrivate: cfg.WebhookAllowPrivate,
		Logger:       log,
	})
	s.gateway = realtime.New(realtime.Options{
		Service:   svc,
		Logger:    log,
		NodeID:    s.nodeID,
		PublicURL: cfg.PublicURL,
		Registry:  reg,

		TrustedProxies: cfg.TrustedProxies,
	})
	mounts := map[string]http.Handler{
		"/rest/ws/": kmcompat.New(svc, log, cfg.PublicURL),
		"GET /ws":   s.gateway,
	}
	dash, err := dashboard.New()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	dash.Mount(mounts)
	wid, err := widget.New(widget.Options{DemoAppID: service.DefaultAppID})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("widget: %w", err)
	}
	wid.Mount(mounts)
	s.handler = httpapi.New(httpapi.Options{
		Service:        svc,
		Logger:         log,
		Registry:       reg,
		PublicURL:      cfg.PublicURL,
		SecureCookies:  cfg.SecureCookies,
		UploadMaxBytes: cfg.UploadMaxBytes,
		Ready:          st.Ping,
		Mount:          mounts,
		TrustedProxies: cfg.TrustedProxies,
	})
	return s, nil
}

func masterKey(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		k, err := auth.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, &config.Error{Setting: "SWITCHBOARD_SECRET_KEY", Reason: err.Error()}
		}
		return k, nil
	}
	return auth.LoadOrCreateKey(cfg.KeyFile())
}

func openStore(ctx context.Context, cfg config.Config, reg prometheus.Registerer) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		return metered.Wrap(st, reg), nil
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", cfg.SQLitePath(), err)
	}
	return metered.Wrap(st, reg), nil
}

// openUploads opens where uploaded files are kept: the data directory, or
// the S3 bucket every node shares.
func openUploads(ctx context.Context, cfg config.Config) (upload.Storage, error) {
	if cfg.Uploads.Backend == config.UploadsS3 {
		st, err := upload.NewS3(ctx, upload.S3Options{
			Bucket:   cfg.Uploads.Bucket,
			Endpoint: cfg.Uploads.Endpoint,
			Region:   cfg.Uploads.Region,
		})
		if err != nil {
			return nil, fmt.Errorf("uploads: %w", err)
		}
		return st, nil
	}
	st, err := upload.NewDisk(cfg.UploadDir())
	if err != nil {
		return nil, fmt.Errorf("upload dir: %w", err)
	}
	return st, nil
}

// openBus links this node to the others through NATS when a URL is set;
// otherwise events stay in the process.
func openBus(ctx context.Context, cfg config.Config, nodeID string, log *slog.Logger) (bus.Bus, error) {
	if cfg.NATSURL == "" {
		return bus.NewLocal(), nil
	}
	b, err := natsbus.Open(ctx, cfg.NATSURL, nodeID, log)
	if err != nil {
		// natsbus errors never carry the URL, so this cannot leak a password.
		return nil, fmt.Errorf("nats %s: %w", redactURL(cfg.NATSURL), err)
	}
	return b, nil
}

func busKind(cfg config.Config) string {
	if cfg.NATSURL == "" {
		return "in-process"
	}
	return redactURL(cfg.NATSURL)
}

// redactURL drops the user info (user, password or token) of a URL, for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// Handler is the node's whole HTTP surface, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Service is the node's use cases, for embedding.
func (s *Server) Service() *service.Service { return s.svc }

// Bus is the node's event bus (NATS or in-process), for the realtime gateway.
func (s *Server) Bus() bus.Bus { return s.bus }

// NodeID names this process among the cluster's nodes.
func (s *Server) NodeID() string { return s.nodeID }

// Listen binds the configured address. Splitting it from Serve lets callers
// learn the real port when the address asks for port 0.
func (s *Server) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve answers requests until ctx is cancelled, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish within the configured
// timeout, drains the bus, and closes the store (which finishes the commit
// in flight).
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if _, err := s.Listen(); err != nil {
			return err
		}
	}
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Turns left by a node that died (this one, before a restart, included)
	// are claimed as soon as their leases expire.
	s.bots.Start(context.WithoutCancel(ctx))
	// Likewise deliveries whose node died, and every event still queued.
	s.webhooks.Start(context.WithoutCancel(ctx))
	s.startSweep(context.WithoutCancel(ctx))
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.log.Info("switchboard listening", "addr", s.ln.Addr().String(), "public_url", s.cfg.PublicURL, "store", storeKind(s.cfg))

	var serveErr error
	select {
	case err := <-errc:
		serveErr = err
	case <-ctx.Done():
		s.log.Info("shutting down", "grace", s.cfg.ShutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		// Shutdown stops accepting and waits for plain requests, but it
		// does not touch hijacked (WebSocket) connections: the gateway
		// closes those itself, telling clients to reconnect elsewhere.
		if err := s.http.Shutdown(sctx); err != nil {
			serveErr = fmt.Errorf("shutdown: %w", err)
		}
		s.gateway.Close()
		<-errc
		// Requests are done, so no new turn is queued by this node; turns
		// in flight are applied, or released for another node.
		s.stopSweep()
		s.bots.Close()
		s.webhooks.Close()
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, s.Close())
}

// Close releases the gateway, the bus, the store and the file storage, in that order:
// the bus first, so that no event arrives for a store that is closing (and
// events published by the last requests are flushed). Serve calls it on the
// way out, after the HTTP server has stopped.
func (s *Server) Close() error {
	if s.store == nil {
		return nil
	}
	s.gateway.Close() // idempotent; it clears this node's presence rows, so the store must still be open
	s.stopSweep()     // idempotent; a sweep in progress stops before the store closes
	s.bots.Close()    // idempotent; it finishes or releases its turns, so the store must still be open
	// Idempotent; it stores or releases its deliveries, so the store must
	// still be open.
	s.webhooks.Close()
	var demoErr error
	if s.demo != nil {
		// After the worker: a turn being finished may still ask the demo bot.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		demoErr = s.demo.Shutdown(ctx)
		cancel()
		s.demo = nil
	}
	err := errors.Join(demoErr, s.bus.Close(), s.store.Close(), s.blobs.Close())
	s.store = nil
	return err
}

// startSweep runs the auto-resolve sweeper. Every node runs one: the
// sweep's guarded updates make two nodes resolving the same conversation
// harmless, and no node has to be elected.
func (s *Server) startSweep(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.svc.RunAutoResolve(ctx, s.autoResolveEvery) })
	if s.email != nil {
		wg.Go(func() { s.email.Run(ctx, s.emailEvery) })
	}
	s.sweep = func() { cancel(); wg.Wait() }
}

// newEmailSweeper builds the fallback-email sweeper, or nil when email is
// off. Like auto-resolve, every node runs it; the store's claims make each
// email go out once.
func newEmailSweeper(cfg config.Config, st store.Store, log *slog.Logger) (*emailfallback.Sweeper, error) {
	if !cfg.Email.Enabled() {
		return nil, nil
	}
	sender, err := email.New(email.Config{Addr: cfg.Email.Addr, User: cfg.Email.User, Password: cfg.Email.Password, From: cfg.Email.From})
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	log.Info("fallback emails on", "smtp", cfg.Email)
	return emailfallback.New(emailfallback.Options{
		Store:        st,
		Mailer:       sender,
		Logger:       log,
		UnreadAfter:  cfg.Email.UnreadAfter,
		OfflineAfter: cfg.Email.AgentOfflineAfter,
		DashboardURL: cfg.PublicURL + "/",
	}), nil
}

func (s *Server) stopSweep() {
	if s.sweep != nil {
		s.sweep()
		s.sweep = nil
	}
}

func storeKind(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		u := cfg.DatabaseURL
		if i := strings.Index(u, "@"); i >= 0 {
			u = "postgres://…" + u[i:] // never log the password
		}
		return u
	}
	return "sqlite:" + cfg.SQLitePath()
}
