package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// RunEngine is the suite of the conversation engine's storage: bots'
// connector state, analytics events and the idle-conversation query. It
// takes the same open as Run.
func RunEngine(t *testing.T, open func(t *testing.T, clock store.Clock) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock)
	}{
		{"BotState", testBotState},
		{"BotStateTenantIsolation", testBotStateTenantIsolation},
		{"AnalyticsIdempotent", testAnalyticsIdempotent},
		{"FirstResponse", testFirstResponse},
		{"AnalyticsSummary", testAnalyticsSummary},
		{"IdleConversations", testIdleConversations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{}
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

// claimOne enqueues an event turn for conv and claims it.
func (w *world) claimOne(t testing.TB, s store.Store, conv string) chat.BotTurn {
	t.Helper()
	enqueue(t, s, w.eventTurn(conv, "WELCOME"))
	got, err := s.ClaimBotTurns(context.Background(), "node-"+unique(), lease, 10)
	must(t, err)
	for _, bt := range got {
		if bt.ConversationID == conv {
			return bt
		}
	}
	t.Fatalf("no turn claimed for %s: %+v", conv, got)
	return chat.BotTurn{}
}

func testBotState(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	conv := w.conv.ID
	if st, ok, err := s.GetBotState(ctx, w.app.ID, conv, w.bot.ID); err != nil || ok || st != nil {
		t.Fatalf("before any turn: %s %v %v", st, ok, err)
	}
	first := w.claimOne(t, s, conv)
	must(t, s.FinishBotTurnWithState(ctx, first.ID, first.LeaseToken, chat.BotTurnDone, "", json.RawMessage(`{"attrs":{"a":"1"},"fallbacks":1}`), ""))
	st, ok, err := s.GetBotState(ctx, w.app.ID, conv, w.bot.ID)
	must(t, err)
	if !ok || string(st) != `{"attrs":{"a":"1"},"fallbacks":1}` {
		t.Fatalf("state = %s (ok %v)", st, ok)
	}
	// A repeated finish (its answer was lost) succeeds; a stale one is
	// refused and changes nothing.
	must(t, s.FinishBotTurnWithState(ctx, first.ID, first.LeaseToken, chat.BotTurnDone, "", json.RawMessage(`{"attrs":{"a":"1"},"fallbacks":1}`), ""))
	wantCode(t, s.FinishBotTurnWithState(ctx, first.ID, "stale-token", chat.BotTurnDone, "", json.RawMessage(`{"x":1}`), ""), chat.CodeConflict)
	// nil keeps the stored state.
	second := w.claimOne(t, s, conv)
	must(t, s.FinishBotTurnWithState(ctx, second.ID, second.LeaseToken, chat.BotTurnDone, "", nil, ""))
	if st, _, _ := s.GetBotState(ctx, w.app.ID, conv, w.bot.ID); string(st) != `{"attrs":{"a":"1"},"fallbacks":1}` {
		t.Fatalf("nil state replaced the stored one: %s", st)
	}
	// Bad state is refused and the turn stays open.
	third := w.claimOne(t, s, conv)
	wantCode(t, s.FinishBotTurnWithState(ctx, third.ID, third.LeaseToken, chat.BotTurnDone, "", json.RawMessage(`{not json`), ""), chat.CodeInvalid)
	if open, err := s.PendingBotTurns(ctx, w.app.ID, conv); err != nil || len(open) != 1 {
		t.Fatalf("after a refused finish: %+v %v", open, err)
	}
	must(t, s.FinishBotTurnWithState(ctx, third.ID, third.LeaseToken, chat.BotTurnDone, "", json.RawMessage(`{}`), ""))

	// Detaching keeps only the named bot.
	other := chat.Bot{AppID: w.app.ID, Type: chat.BotWebhook, Name: "Other", Enabled: true}
	must(t, s.CreateBot(ctx, &other))
	bt := &chat.BotTurn{AppID: w.app.ID, ConversationID: conv, BotID: other.ID, Kind: chat.BotTurnEvent, Event: "WELCOME"}
	enqueue(t, s, bt)
	got, err := s.ClaimBotTurns(ctx, "node-x", lease, 10)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("claimed %+v", got)
	}
	must(t, s.FinishBotTurnWithState(ctx, got[0].ID, got[0].LeaseToken, chat.BotTurnDone, "", nil, ""))
	if _, ok, _ := s.GetBotState(ctx, w.app.ID, conv, other.ID); !ok {
		t.Fatal("a bot that finished a turn with no state is not recorded as taking part")
	}
	must(t, s.DetachBots(ctx, w.app.ID, conv, other.ID))
	if _, ok, _ := s.GetBotState(ctx, w.app.ID, conv, w.bot.ID); ok {
		t.Fatal("the detached bot still has its state")
	}
	if _, ok, _ := s.GetBotState(ctx, w.app.ID, conv, other.ID); !ok {
		t.Fatal("the kept bot lost its row")
	}
	must(t, s.DetachBots(ctx, w.app.ID, conv, ""))
	if _, ok, _ := s.GetBotState(ctx, w.app.ID, conv, other.ID); ok {
		t.Fatal(`detaching with "" kept a bot`)
	}
}

func testBotStateTenantIsolation(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	a, b := newWorld(t, s), newWorld(t, s)
	bt := a.claimOne(t, s, a.conv.ID)
	must(t, s.FinishBotTurnWithState(ctx, bt.ID, bt.LeaseToken, chat.BotTurnDone, "", json.RawMessage(`{"secret":"a"}`), ""))
	if st, ok, err := s.GetBotState(ctx, b.app.ID, a.conv.ID, a.bot.ID); err != nil || ok || st != nil {
		t.Fatalf("another app read the state: %s %v %v", st, ok, err)
	}
	wantCode(t, s.DetachBots(ctx, b.app.ID, a.conv.ID, ""), chat.CodeNotFound)
	if _, ok, _ := s.GetBotState(ctx, a.app.ID, a.conv.ID, a.bot.ID); !ok {
		t.Fatal("another app's detach removed the state")
	}
}

func testAnalyticsIdempotent(t *testing.T, s store.Store, _ *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	e := &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.CSATKey(w.conv.ID), Kind: chat.AnalyticsCSAT, ConversationID: w.conv.ID, Value: 7, Comment: "ok"}
	created, err := s.RecordAnalytics(ctx, e)
	must(t, err)
	if !created || e.At.IsZero() {
		t.Fatalf("first record: created %v, %+v", created, e)
	}
	again := &chat.AnalyticsEvent{AppID: w.app.ID, Key: chat.CSATKey(w.conv.ID), Kind: chat.AnalyticsCSAT, ConversationID: w.conv.ID, Value: 2}
	created, err = s.RecordAnalytics(ctx, again)
	must(t, err)
	if created || again.Value != 7 || again.Comment != "ok" || !again.At.Equal(e.At) {
		t.Fatalf("the repeat = created %v, %+v; want the stored event", created, again)
	}
	// The same key in another app is another event; another app's
	// conversation is not found.
	if created, err := s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: other.app.ID, Key: chat.CSATKey(w.conv.ID), Kind: chat.AnalyticsCSAT, ConversationID: other.conv.ID, Value: 3}); err != nil || !created {
		t.Fatalf("other app: %v %v", created, err)
	}
	_, err = s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: other.app.ID, Key: "x", Kind: chat.AnalyticsCSAT, ConversationID: w.conv.ID, Value: 3})
	wantCode(t, err, chat.CodeNotFound)
	_, err = s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Key: "y", Kind: "made_up", ConversationID: w.conv.ID})
	wantCode(t, err, chat.CodeInvalid)
	_, err = s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: w.app.ID, Kind: chat.AnalyticsCSAT, ConversationID: w.conv.ID})
	wantCode(t, err, chat.CodeInvalid)
}

func testFirstResponse(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w := newWorld(t, s)
	conv := w.newConv(t, s)
	post := func(m chat.NewMessage) *chat.Message {
		t.Helper()
		msg, _, err := s.AppendMessage(ctx, w.app.ID, conv.ID, m)
		must(t, err)
		must(t, s.RecordFirstResponse(ctx, msg))
		return msg
	}
	bot := chat.Sender{Type: chat.SenderBot, ID: w.bot.ID}
	agent := chat.Sender{Type: chat.SenderAgent, ID: w.agent.ID}
	post(text(bot, "Welcome!")) // before the contact asked: not a response
	// The clock is the real one moved forward, so the real time the posts
	// take is added to the advances: it bounds how far above them the
	// figures may be, however slow the machine.
	asked := time.Now()
	post(w.contactSays("hello"))
	c.Advance(1500 * time.Millisecond)
	post(text(bot, "Hi, what do you need?"))
	anySlack := time.Since(asked).Milliseconds() + 1
	c.Advance(3 * time.Second)
	post(text(agent, "Ann here"))
	humanSlack := time.Since(asked).Milliseconds() + 1
	c.Advance(time.Minute)
	post(text(agent, "Anything else?")) // later answers change nothing
	sum, err := s.AnalyticsSummary(ctx, w.app.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	must(t, err)
	anyRT, human := sum.FirstResponse[chat.FirstResponseAny], sum.FirstResponse[chat.FirstResponseHuman]
	if anyRT.Count != 1 || anyRT.MedianMillis < 1500 || anyRT.MedianMillis > 1500+anySlack {
		t.Fatalf("first response (any) = %+v, want one of ~1500 ms", anyRT)
	}
	if human.Count != 1 || human.MedianMillis < 4500 || human.MedianMillis > 4500+humanSlack {
		t.Fatalf("first response (human) = %+v, want one of ~4500 ms", human)
	}
}

func testAnalyticsSummary(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	start := c.Now().Add(-time.Second)
	var convs []chat.Conversation
	for range 3 {
		convs = append(convs, w.newConv(t, s))
	}
	rec := func(e chat.AnalyticsEvent) {
		t.Helper()
		e.AppID = w.app.ID
		if _, err := s.RecordAnalytics(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	rec(chat.AnalyticsEvent{Key: chat.BotResolvedKey(convs[0].ID), Kind: chat.AnalyticsBotResolved, ConversationID: convs[0].ID})
	rec(chat.AnalyticsEvent{Key: "h1", Kind: chat.AnalyticsHandedOff, ConversationID: convs[1].ID, Reason: string(chat.HandoffBotGaveUp), Intent: "Refund"})
	rec(chat.AnalyticsEvent{Key: "h2", Kind: chat.AnalyticsHandedOff, ConversationID: convs[2].ID, Reason: string(chat.HandoffAssignTo), Intent: "Refund"})
	rec(chat.AnalyticsEvent{Key: "h3", Kind: chat.AnalyticsHandedOff, ConversationID: convs[2].ID, Reason: string(chat.HandoffAssignTo), Intent: "Shipping"})
	rec(chat.AnalyticsEvent{Key: "h4", Kind: chat.AnalyticsHandedOff, ConversationID: convs[2].ID, Reason: string(chat.HandoffTakeOver)})
	for i, v := range []int64{100, 300, 200, 900} {
		rec(chat.AnalyticsEvent{Key: "f" + string(rune('a'+i)), Kind: chat.AnalyticsFirstResponse, ConversationID: convs[0].ID, Reason: chat.FirstResponseAny, Value: v})
	}
	rec(chat.AnalyticsEvent{Key: chat.CSATKey(convs[0].ID), Kind: chat.AnalyticsCSAT, ConversationID: convs[0].ID, Value: 9})
	rec(chat.AnalyticsEvent{Key: chat.CSATKey(convs[1].ID), Kind: chat.AnalyticsCSAT, ConversationID: convs[1].ID, Value: 4})
	// Another app's events never count here.
	_, err := s.RecordAnalytics(ctx, &chat.AnalyticsEvent{AppID: other.app.ID, Key: "o", Kind: chat.AnalyticsHandedOff, ConversationID: other.conv.ID, Reason: "bot_failed"})
	must(t, err)

	sum, err := s.AnalyticsSummary(ctx, w.app.ID, start, c.Now().Add(time.Second))
	must(t, err)
	if sum.Conversations != 4 || sum.BotResolved != 1 || sum.HandedOff != 4 {
		t.Fatalf("counts = %+v", sum)
	}
	if sum.HandoffsByReason[string(chat.HandoffAssignTo)] != 2 || sum.HandoffsByReason[string(chat.HandoffBotGaveUp)] != 1 || sum.HandoffsByReason["bot_failed"] != 0 {
		t.Fatalf("by reason = %v", sum.HandoffsByReason)
	}
	if len(sum.TopHandoffIntents) != 2 || sum.TopHandoffIntents[0] != (store.IntentCount{Intent: "Refund", Count: 2}) || sum.TopHandoffIntents[1].Intent != "Shipping" {
		t.Fatalf("top intents = %+v", sum.TopHandoffIntents)
	}
	if rt := sum.FirstResponse[chat.FirstResponseAny]; rt.Count != 4 || rt.MedianMillis != 200 {
		t.Fatalf("first response = %+v, want 4 with lower median 200", rt)
	}
	if sum.CSATCount != 2 || sum.CSATAverage != 6.5 {
		t.Fatalf("csat = %d, %v", sum.CSATCount, sum.CSATAverage)
	}
	// Outside the window, nothing.
	c.Advance(time.Hour)
	later, err := s.AnalyticsSummary(ctx, w.app.ID, c.Now().Add(-time.Minute), c.Now())
	must(t, err)
	if later.Conversations != 0 || later.HandedOff != 0 || later.CSATCount != 0 {
		t.Fatalf("a later window = %+v", later)
	}
	_, err = s.AnalyticsSummary(ctx, "no-such-app", start, c.Now())
	wantCode(t, err, chat.CodeNotFound)
}

func testIdleConversations(t *testing.T, s store.Store, c *Clock) {
	ctx := context.Background()
	w, other := newWorld(t, s), newWorld(t, s)
	noTeam := w.newConv(t, s)
	inTeam := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, TeamID: w.team.ID, Status: chat.StatusWaiting}
	must(t, s.CreateConversation(ctx, &inTeam))
	resolved := w.newConv(t, s)
	_, err := s.UpdateConversation(ctx, w.app.ID, resolved.ID, func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil })
	must(t, err)
	other.newConv(t, s)
	c.Advance(10 * time.Minute)
	// Created just now, and a message just now: neither is idle.
	busy := w.newConv(t, s)
	_, _, err = s.AppendMessage(ctx, w.app.ID, noTeam.ID, w.contactSays("still here"))
	must(t, err)

	cut := c.Now().Add(-5 * time.Minute)
	got, err := s.IdleConversations(ctx, w.app.ID, []string{"", w.team.ID}, cut, 50)
	must(t, err)
	ids := map[string]bool{}
	for _, cv := range got {
		ids[cv.ID] = true
	}
	if len(got) != 2 || !ids[inTeam.ID] || !ids[w.conv.ID] || ids[busy.ID] || ids[noTeam.ID] || ids[resolved.ID] {
		t.Fatalf("idle = %v, want the team's waiting one and the world's first", ids)
	}
	if got, err := s.IdleConversations(ctx, w.app.ID, []string{""}, cut, 50); err != nil || len(got) != 0 {
		t.Fatalf("no-team only = %+v %v (the world's first conversation has a team)", got, err)
	}
	if got, err := s.IdleConversations(ctx, w.app.ID, []string{"", w.team.ID}, cut, 1); err != nil || len(got) != 1 {
		t.Fatalf("limit 1 = %+v %v", got, err)
	}
	_, err = s.IdleConversations(ctx, w.app.ID, []string{""}, cut, 0)
	wantCode(t, err, chat.CodeInvalid)
}
