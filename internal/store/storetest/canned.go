package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func testCannedReplies(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	hello := &chat.CannedReply{AppID: w.app.ID, Shortcut: "/hello", Text: "Hello!"}
	must(t, s.CreateCannedReply(ctx, hello))
	if hello.ID == "" || hello.CreatedAt.IsZero() || !hello.UpdatedAt.Equal(hello.CreatedAt) {
		t.Fatalf("CreateCannedReply did not fill id and times: %+v", hello)
	}
	bye := &chat.CannedReply{AppID: w.app.ID, Shortcut: "/bye", Text: "Bye!"}
	must(t, s.CreateCannedReply(ctx, bye))
	// The same shortcut in another app is another reply.
	must(t, s.CreateCannedReply(ctx, &chat.CannedReply{AppID: other.app.ID, Shortcut: "/hello", Text: "Olá!"}))
	wantCode(t, s.CreateCannedReply(ctx, &chat.CannedReply{AppID: w.app.ID, Shortcut: "/hello", Text: "again"}), chat.CodeConflict)
	wantCode(t, s.CreateCannedReply(ctx, &chat.CannedReply{AppID: "0000000000000000000000000z", Shortcut: "/x", Text: "x"}), chat.CodeNotFound)

	list, err := s.ListCannedReplies(ctx, w.app.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != bye.ID || list[1].ID != hello.ID || list[1].Text != "Hello!" || list[1].AppID != w.app.ID {
		t.Fatalf("ListCannedReplies = %+v", list)
	}

	up := &chat.CannedReply{ID: hello.ID, AppID: w.app.ID, Shortcut: "/hi", Text: "Hi!"}
	must(t, s.UpdateCannedReply(ctx, up))
	if up.Shortcut != "/hi" || up.Text != "Hi!" || !up.CreatedAt.Equal(hello.CreatedAt) {
		t.Fatalf("UpdateCannedReply = %+v", up)
	}
	wantCode(t, s.UpdateCannedReply(ctx, &chat.CannedReply{ID: hello.ID, AppID: w.app.ID, Shortcut: "/bye", Text: "x"}), chat.CodeConflict)
	// Another app can neither change nor delete it.
	wantCode(t, s.UpdateCannedReply(ctx, &chat.CannedReply{ID: hello.ID, AppID: other.app.ID, Shortcut: "/mine", Text: "x"}), chat.CodeNotFound)
	wantCode(t, s.DeleteCannedReply(ctx, other.app.ID, hello.ID), chat.CodeNotFound)
	must(t, s.DeleteCannedReply(ctx, w.app.ID, hello.ID))
	wantCode(t, s.DeleteCannedReply(ctx, w.app.ID, hello.ID), chat.CodeNotFound)
	list, err = s.ListCannedReplies(ctx, w.app.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != bye.ID {
		t.Fatalf("after delete = %+v", list)
	}
	if list, err := s.ListCannedReplies(ctx, other.app.ID); err != nil || len(list) != 1 || list[0].Text != "Olá!" {
		t.Fatalf("the other app's replies = %+v, %v", list, err)
	}
}

// The cap holds when admins create replies at the same moment: of 32
// concurrent creates into an app one short of it, exactly one succeeds.
func testCannedRepliesCap(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	for i := range chat.MaxCannedReplies - 1 {
		must(t, s.CreateCannedReply(ctx, &chat.CannedReply{AppID: w.app.ID, Shortcut: fmt.Sprintf("/r%d", i), Text: "x"}))
	}
	const racers = 32
	errs := make(chan error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-start
			errs <- s.CreateCannedReply(ctx, &chat.CannedReply{AppID: w.app.ID, Shortcut: fmt.Sprintf("/race%d", i), Text: "x"})
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	var ok int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !chat.IsCode(err, chat.CodeInvalid):
			t.Fatalf("a racing create failed with %v, want the cap's error", err)
		}
	}
	list, err := s.ListCannedReplies(ctx, w.app.ID)
	must(t, err)
	if ok != 1 || len(list) != chat.MaxCannedReplies {
		t.Fatalf("%d racing creates succeeded and the app holds %d replies; want 1 and %d", ok, len(list), chat.MaxCannedReplies)
	}
}

// A bot's intent is written with each turn's finish, the empty one too,
// and read only by the app.
func testBotIntent(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	if _, ok, err := s.BotIntent(ctx, w.app.ID, w.conv.ID, w.bot.ID); err != nil || ok {
		t.Fatalf("before any turn: %v %v", ok, err)
	}
	finish := func(state json.RawMessage, intent string) {
		t.Helper()
		bt := w.claimOne(t, s, w.conv.ID)
		must(t, s.FinishBotTurnWithState(ctx, bt.ID, bt.LeaseToken, chat.BotTurnDone, "", state, intent))
	}
	want := func(intent string) {
		t.Helper()
		got, ok, err := s.BotIntent(ctx, w.app.ID, w.conv.ID, w.bot.ID)
		if err != nil || !ok || got != intent {
			t.Fatalf("BotIntent = %q %v %v, want %q", got, ok, err, intent)
		}
	}
	finish(json.RawMessage(`{"sessionAttributes":{"plan":"gold"}}`), "OrderStatus")
	want("OrderStatus")
	// A turn that keeps the state still records its own intent.
	finish(nil, "Refund")
	want("Refund")
	if st, _, _ := s.GetBotState(ctx, w.app.ID, w.conv.ID, w.bot.ID); string(st) != `{"sessionAttributes":{"plan":"gold"}}` {
		t.Fatalf("the state changed: %s", st)
	}
	finish(nil, "")
	want("")
	if _, ok, err := s.BotIntent(ctx, other.app.ID, w.conv.ID, w.bot.ID); err != nil || ok {
		t.Fatalf("another app read the intent: %v %v", ok, err)
	}
}
