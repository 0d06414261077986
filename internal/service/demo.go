package service

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// DemoBotID is the id of the demo bot the embedded default gives the
// default app. A fixed id lets every later start find it again.
const DemoBotID = "demo"

// LocalLex is a Lex runtime running inside this process on loopback: the
// embedded demo's.
type LocalLex struct {
	Endpoint        string // http://127.0.0.1:port
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// BotID is the Lex bot id of the demo bot in that runtime.
	BotID string
}

// EnsureDemoBot connects the default app to the demo bot in the local
// runtime l. On the start that created the app (create) the bot is made,
// as the bot of every new conversation with auto handoff, so a new
// install's first chat is answered. On later starts an existing demo bot is
// pointed at this start's runtime, whose port and keys are new each time;
// a demo bot an admin has pointed at another Lex bot is left alone, and one
// an admin deleted is not brought back.
func (s *Service) EnsureDemoBot(ctx context.Context, appID string, l LocalLex, create bool) error {
	want := lexbot.Settings{Region: l.Region, BotID: l.BotID, BotAliasID: "TSTALIASID",
		AccessKeyID: l.AccessKeyID, SecretAccessKey: l.SecretAccessKey, Endpoint: l.Endpoint}
	b, err := s.store.GetBot(ctx, appID, DemoBotID)
	if chat.IsCode(err, chat.CodeNotFound) && create {
		return s.createDemoBot(ctx, appID, want)
	}
	if chat.IsCode(err, chat.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if b.Type != chat.BotLex {
		return nil
	}
	var cur lexbot.Settings
	if err := s.openInto(b, &cur); err != nil {
		return err
	}
	if cur.BotID != l.BotID || !isLoopbackURL(cur.Endpoint) {
		return nil
	}
	// What an admin tuned stays; only where the runtime is changes.
	want.DefaultLocale, want.MaxConsecutiveFallbacks, want.HandoffAttribute = cur.DefaultLocale, cur.MaxConsecutiveFallbacks, cur.HandoffAttribute
	checked, err := s.lex.Validate(ctx, want)
	if err != nil {
		return err
	}
	sealed, err := s.sealSettings(appID, DemoBotID, chat.BotLex, checked)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateBot(ctx, appID, DemoBotID, func(b *chat.Bot, _ *store.AppRules) error {
		b.Settings = sealed
		return nil
	}); err != nil {
		return err
	}
	return s.store.SetBotStatus(ctx, appID, DemoBotID, chat.BotStatusOK, "")
}

// createDemoBot makes the demo bot, validated like any Lex bot. A conflict
// (another node made it first) is not an error.
func (s *Service) createDemoBot(ctx context.Context, appID string, settings lexbot.Settings) error {
	raw, err := json.Marshal(settings)
	if err != nil {
		return err
	}
	_, err = s.createBot(ctx, appID, DemoBotID, NewBot{Name: "Demo bot", Type: chat.BotLex, AutoHandoff: true,
		HandleAllNewConversations: true, Lex: raw})
	if chat.IsCode(err, chat.CodeConflict) {
		return nil
	}
	if err == nil {
		s.log.InfoContext(ctx, "demo bot created; it answers new conversations", "app", appID, "bot", DemoBotID)
	}
	return err
}

func isLoopbackURL(u string) bool {
	return strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasPrefix(u, "http://[::1]:")
}
