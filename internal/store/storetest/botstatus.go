package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// testBotStatus: a new bot is ok; SetBotStatus changes only the status
// (not settings an admin saved meanwhile), cuts long details, refuses
// unknown statuses and another app's bot, and UpdateBot leaves it alone.
func testBotStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	if w.bot.Status != chat.BotStatusOK {
		t.Fatalf("new bot status = %q", w.bot.Status)
	}
	got, err := s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Status != chat.BotStatusOK || got.StatusDetail != "" {
		t.Fatalf("stored new bot status = %q %q", got.Status, got.StatusDetail)
	}

	must(t, s.SetBotStatus(ctx, w.app.ID, w.bot.ID, chat.BotStatusCredentialsInvalid, "Lex refused the keys"))
	got, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Status != chat.BotStatusCredentialsInvalid || got.StatusDetail != "Lex refused the keys" ||
		got.Name != "Lexi" || string(got.Settings) != `{"region":"eu-west-1"}` {
		t.Fatalf("after SetBotStatus: %+v", got)
	}

	// An admin's edit does not clear or restore the status by itself.
	_, err = s.UpdateBot(ctx, w.app.ID, w.bot.ID, func(b *chat.Bot, _ *store.AppRules) error {
		b.Name = "Lexa"
		b.Status = chat.BotStatusOK
		return nil
	})
	must(t, err)
	bots, err := s.ListBots(ctx, w.app.ID)
	must(t, err)
	if len(bots) != 1 || bots[0].Status != chat.BotStatusCredentialsInvalid || bots[0].Name != "Lexa" {
		t.Fatalf("ListBots after UpdateBot = %+v", bots)
	}

	long := strings.Repeat("é", chat.MaxBotTurnNote)
	must(t, s.SetBotStatus(ctx, w.app.ID, w.bot.ID, chat.BotStatusMisconfigured, long))
	got, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Status != chat.BotStatusMisconfigured || len(got.StatusDetail) > chat.MaxBotTurnNote || !strings.HasPrefix(long, got.StatusDetail) || got.StatusDetail == "" {
		t.Fatalf("long detail stored as %d bytes", len(got.StatusDetail))
	}

	wantCode(t, s.SetBotStatus(ctx, w.app.ID, w.bot.ID, "broken", ""), chat.CodeInvalid)
	wantCode(t, s.SetBotStatus(ctx, w.app.ID, "nope", chat.BotStatusOK, ""), chat.CodeNotFound)
	other := newWorld(t, s)
	wantCode(t, s.SetBotStatus(ctx, other.app.ID, w.bot.ID, chat.BotStatusOK, ""), chat.CodeNotFound)
	got, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Status != chat.BotStatusMisconfigured {
		t.Fatalf("a refused SetBotStatus changed the bot: %q", got.Status)
	}
	must(t, s.SetBotStatus(ctx, w.app.ID, w.bot.ID, chat.BotStatusOK, ""))
	got, err = s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Status != chat.BotStatusOK || got.StatusDetail != "" {
		t.Fatalf("status not cleared: %q %q", got.Status, got.StatusDetail)
	}
}
