package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// demoRegion is what the in-process runtime's clients sign for; it is never
// sent to AWS.
const demoRegion = "us-east-1"

// startDemo runs the local Lex runtime with the demo bot on a loopback port
// of its own and connects the default app to it (SWITCHBOARD_DEMO). The
// runtime's key pair is made fresh at every start: it never leaves this
// process except sealed in the demo bot's settings.
func startDemo(ctx context.Context, svc *service.Service, firstStart bool, log *slog.Logger) (*localrun.Runtime, error) {
	bot, err := demobot.Load()
	if err != nil {
		return nil, fmt.Errorf("demo bot: %w", err)
	}
	keyID, secret := demoKeys()
	rt, err := localrun.Start(localrun.Options{
		Addr: "127.0.0.1:0", Bots: []*export.Bot{bot}, Region: demoRegion,
		AccessKeyID: keyID, SecretAccessKey: secret, Logger: log.With("component", "lex-local"),
	})
	if err != nil {
		return nil, fmt.Errorf("local Lex runtime: %w", err)
	}
	err = svc.EnsureDemoBot(ctx, service.DefaultAppID, service.LocalLex{
		Endpoint: rt.URL, Region: demoRegion, AccessKeyID: keyID, SecretAccessKey: secret, BotID: demobot.ID,
	}, firstStart)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(sctx)
		return nil, fmt.Errorf("demo bot: %w", err)
	}
	return rt, nil
}

// demoKeys returns a key pair shaped like AWS's: a 20-character upper-case
// key id and a 40-character secret.
func demoKeys() (keyID, secret string) {
	id := make([]byte, 10)
	sec := make([]byte, 30)
	rand.Read(id)
	rand.Read(sec)
	return "SBLX" + base32.StdEncoding.EncodeToString(id)[:16], base64.StdEncoding.EncodeToString(sec)
}
