package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
)

// lexLocalConfig is what `switchboard lex-local` runs with.
type lexLocalConfig struct {
	Addr            string
	Bots            []string // export zips, unzipped export directories, V1 JSON files
	NoDemo          bool
	Region          string
	AccessKeyID     string
	SecretAccessKey string
}

const lexLocalUsage = `usage: switchboard lex-local [--addr 127.0.0.1:4010] [--bots PATH]... [PATH]...
       [--region us-east-1] [--access-key-id ID --secret-access-key SECRET] [--no-demo]

Serves Lex V2 bots (RecognizeText, sessions, DescribeBot, DescribeBotAlias,
ListBots, ListBotAliases) on Amazon's wire protocol, for the real AWS SDKs and
CLI pointed at it with an endpoint URL. Every bot answers on alias TSTALIASID.
PATH is a V2 LexJson export (zip or directory) or a V1 export JSON file.
The key pair defaults to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the
region to AWS_REGION.
`

// parseLexLocal reads the subcommand's flags. Paths after the flags are bots
// too, so `--bots a.zip b.zip` loads both.
func parseLexLocal(args []string, getenv func(string) string, stderr io.Writer) (lexLocalConfig, error) {
	cfg := lexLocalConfig{}
	fs := flag.NewFlagSet("lex-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lexLocalUsage) }
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:4010", "listen address")
	fs.Func("bots", "a bot to serve: export zip, export directory or V1 JSON (repeatable)", func(p string) error {
		cfg.Bots = append(cfg.Bots, p)
		return nil
	})
	fs.BoolVar(&cfg.NoDemo, "no-demo", false, "do not serve the demo bot")
	fs.StringVar(&cfg.Region, "region", cmp.Or(getenv("AWS_REGION"), "us-east-1"), "the region requests must be signed for")
	fs.StringVar(&cfg.AccessKeyID, "access-key-id", getenv("AWS_ACCESS_KEY_ID"), "the access key id clients sign with")
	fs.StringVar(&cfg.SecretAccessKey, "secret-access-key", getenv("AWS_SECRET_ACCESS_KEY"), "the secret access key clients sign with")
	for {
		if err := fs.Parse(args); err != nil {
			return lexLocalConfig{}, err
		}
		args = fs.Args()
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			cfg.Bots = append(cfg.Bots, args[0])
			args = args[1:]
		}
		if len(args) == 0 {
			break
		}
	}
	var missing []string
	if cfg.AccessKeyID == "" {
		missing = append(missing, "an access key id (AWS_ACCESS_KEY_ID or --access-key-id)")
	}
	if cfg.SecretAccessKey == "" {
		missing = append(missing, "a secret access key (AWS_SECRET_ACCESS_KEY or --secret-access-key)")
	}
	if len(missing) > 0 {
		return lexLocalConfig{}, fmt.Errorf("lex-local: clients must sign with a key pair of your choosing; set %s", strings.Join(missing, " and "))
	}
	if cfg.NoDemo && len(cfg.Bots) == 0 {
		return lexLocalConfig{}, errors.New("lex-local: no bots to serve: give --bots PATH, or drop --no-demo")
	}
	return cfg, nil
}

// lexLocal is the `switchboard lex-local` subcommand: it serves until
// SIGINT or SIGTERM.
func lexLocal(args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseLexLocal(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runLexLocal(ctx, cfg, log, nil)
}

// loadLexBots loads every bot of cfg, the demo bot first.
func loadLexBots(cfg lexLocalConfig) ([]*export.Bot, error) {
	var bots []*export.Bot
	if !cfg.NoDemo {
		b, err := demobot.Load()
		if err != nil {
			return nil, fmt.Errorf("lex-local: the demo bot: %w", err)
		}
		bots = append(bots, b)
	}
	for _, p := range cfg.Bots {
		// export's errors name the file (and the entry inside it).
		b, err := export.Load(p)
		if err != nil {
			return nil, fmt.Errorf("lex-local: cannot load a bot: %w", err)
		}
		bots = append(bots, b)
	}
	return bots, nil
}

// runLexLocal serves cfg's bots until ctx ends, then shuts down gracefully:
// requests in flight finish, within a bound. ready, when set, receives the
// address actually listened on once requests are accepted.
func runLexLocal(ctx context.Context, cfg lexLocalConfig, log *slog.Logger, ready func(addr string)) error {
	bots, err := loadLexBots(cfg)
	if err != nil {
		return err
	}
	rt, err := localrun.Start(localrun.Options{
		Addr: cfg.Addr, Bots: bots, Region: cfg.Region,
		AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("lex-local: %w", err)
	}
	if ready != nil {
		ready(strings.TrimPrefix(rt.URL, "http://"))
	}
	select {
	case err := <-rt.Failed():
		return fmt.Errorf("lex-local: %w", err)
	case <-ctx.Done():
	}
	log.Info("lex-local: shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return rt.Shutdown(shutCtx)
}
