package botrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/botrun"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// reply is one entry of a webhook bot's answer.
type reply struct {
	Message  string            `json:"message"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// scriptedBot is a real HTTP webhook bot whose answers the test decides.
type scriptedBot struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []webhookbot.Request
	answer func(webhookbot.Request) (int, []reply)
}

func newScriptedBot(t *testing.T, answer func(webhookbot.Request) (int, []reply)) *scriptedBot {
	b := &scriptedBot{answer: answer}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req webhookbot.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.reqs = append(b.reqs, req)
		answer := b.answer
		b.mu.Unlock()
		code, out := answer(req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *scriptedBot) requests() []webhookbot.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]webhookbot.Request(nil), b.reqs...)
}

type env struct {
	t      *testing.T
	ctx    context.Context
	e      *servicetest.Env
	svc    *service.Service
	admin  service.Actor
	bot    *scriptedBot
	botID  string
	runner *turn.Runner
}

type envOpts struct {
	autoHandoff bool
	deadline    time.Duration
	noWorker    bool
}

func newEnv(t *testing.T, o envOpts, answer func(webhookbot.Request) (int, []reply)) *env {
	t.Helper()
	ctx := context.Background()
	e := servicetest.New(t, func(so *service.Options) { so.PublicURL = "http://switchboard.test" })
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	sb := newScriptedBot(t, answer)
	hook, _ := json.Marshal(webhookbot.Settings{URL: sb.srv.URL, TimeoutSeconds: 5})
	v, err := e.Service.CreateBot(ctx, admin, service.NewBot{Name: "Helper", Type: chat.BotWebhook, AutoHandoff: o.autoHandoff, Webhook: hook})
	if err != nil {
		t.Fatal(err)
	}
	if o.deadline == 0 {
		o.deadline = 5 * time.Second
	}
	runner := turn.New(turn.Options{
		Connectors: map[chat.BotType]bot.Connector{chat.BotWebhook: webhookbot.New(webhookbot.Options{AllowPrivate: true})},
		Deadline:   o.deadline,
		Backoff:    turn.Backoff{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond},
	})
	en := &env{t: t, ctx: ctx, e: e, svc: e.Service, admin: admin, bot: sb, botID: v.Bot.ID, runner: runner}
	if !o.noWorker {
		en.startWorker("node-a", 2*time.Second)
	}
	return en
}

func (en *env) startWorker(node string, lease time.Duration) *botrun.Worker {
	w := botrun.New(botrun.Options{Service: en.svc, Runner: en.runner, NodeID: node, Lease: lease, Poll: 50 * time.Millisecond})
	w.Start(en.ctx)
	en.t.Cleanup(w.Close) // runs before the store closes: cleanups run last-in first-out
	return w
}

func (en *env) start(in service.NewConversation) *chat.Conversation {
	en.t.Helper()
	if in.Assignee == nil {
		in.Assignee = &chat.Assignee{Type: chat.AssigneeBot, ID: en.botID}
	}
	in.Contact.Name = "Visitor"
	c, err := en.svc.StartConversation(en.ctx, en.admin, in)
	if err != nil {
		en.t.Fatal(err)
	}
	return c
}

func (en *env) contactSays(c *chat.Conversation, text string, meta chat.Metadata) {
	en.t.Helper()
	if _, _, err := en.svc.SendMessage(en.ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, service.SendInput{Text: text, Metadata: meta}); err != nil {
		en.t.Fatal(err)
	}
}

func (en *env) messages(c *chat.Conversation) []chat.Message {
	en.t.Helper()
	ms, err := en.e.Store.ListMessages(en.ctx, c.AppID, c.ID, 0, 200)
	if err != nil {
		en.t.Fatal(err)
	}
	return ms
}

// waitFor polls cond; everything here is bounded in time.
func (en *env) waitFor(what string, cond func() bool) {
	en.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			en.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (en *env) waitMessage(c *chat.Conversation, pred func(chat.Message) bool) chat.Message {
	en.t.Helper()
	var found chat.Message
	en.waitFor("a message", func() bool {
		for _, m := range en.messages(c) {
			if pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// settle waits until the conversation has no open bot turn.
func (en *env) settle(c *chat.Conversation) {
	en.t.Helper()
	en.waitFor("the bot queue to drain", func() bool {
		ts, err := en.e.Store.PendingBotTurns(en.ctx, c.AppID, c.ID)
		return err == nil && len(ts) == 0
	})
}

func fromBot(text string) func(chat.Message) bool {
	return func(m chat.Message) bool { return m.Sender.Type == chat.SenderBot && m.Text == text }
}

func echo(req webhookbot.Request) (int, []reply) {
	if req.EventName == bot.EventWelcome {
		return 200, []reply{{Message: "Welcome!"}}
	}
	return 200, []reply{{Message: "you said " + req.Message}}
}

func TestWelcomeAndReply(t *testing.T) {
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		if req.Message == "options" {
			return 200, []reply{{Message: "Pick one", Metadata: map[string]string{
				"templateId": "6",
				"payload":    `[{"title":"Yes","message":"yes"},{"title":"No","message":"no"}]`,
			}}}
		}
		return echo(req)
	})
	c := en.start(service.NewConversation{})
	en.waitMessage(c, fromBot("Welcome!"))
	if r := en.bot.requests(); len(r) != 1 || r[0].EventName != bot.EventWelcome || r[0].GroupID != c.ID {
		t.Fatalf("bot requests = %+v", r)
	}

	en.contactSays(c, "options", nil)
	m := en.waitMessage(c, fromBot("Pick one"))
	if m.Metadata["templateId"] != "6" || !strings.Contains(m.Metadata["payload"], `"Yes"`) {
		t.Fatalf("quick replies lost: %+v", m.Metadata)
	}
	if m.Sender.ID != en.botID || m.ClientKey == "" {
		t.Fatalf("reply sender/key = %+v %q", m.Sender, m.ClientKey)
	}
}

func TestSkipBotEventAndCustomWelcome(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	c1 := en.start(service.NewConversation{SkipBotEvent: true})
	c2 := en.start(service.NewConversation{CustomWelcomeEvent: "HELLO_THERE"})
	en.settle(c2)
	en.settle(c1)
	reqs := en.bot.requests()
	if len(reqs) != 1 || reqs[0].EventName != "HELLO_THERE" || reqs[0].GroupID != c2.ID {
		t.Fatalf("bot requests = %+v", reqs)
	}
}

func TestAgentAndSkipBotMessagesDoNotReachTheBot(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	c := en.start(service.NewConversation{SkipBotEvent: true})
	agent, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: "ann@example.com", Name: "Ann", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := en.svc.SendMessage(en.ctx, service.Actor{AppID: c.AppID, AgentID: agent.ID, Role: agent.Role}, c.ID, service.SendInput{Text: "agent here"}); err != nil {
		t.Fatal(err)
	}
	en.contactSays(c, "quiet", chat.Metadata{chat.MetaSkipBot: "true"})
	en.contactSays(c, "loud", nil)
	en.waitMessage(c, fromBot("you said loud"))
	en.settle(c)
	reqs := en.bot.requests()
	if len(reqs) != 1 || reqs[0].Message != "loud" {
		t.Fatalf("bot requests = %+v", reqs)
	}
}

func TestAssignToAgentByEmail(t *testing.T) {
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		if req.Message == "human" {
			return 200, []reply{{Message: "Passing you on", Metadata: map[string]string{chat.MetaAssignTo: "ann@example.com"}}}
		}
		return echo(req)
	})
	agent, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: "ann@example.com", Name: "Ann", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "human", nil)
	notice := en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == "Assigned to Ann" })
	if notice.Metadata[chat.MetaSkipBot] != "true" {
		t.Fatalf("notice not skipBot: %+v", notice)
	}
	en.waitMessage(c, fromBot("Passing you on"))
	conv, err := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Assignee == nil || *conv.Assignee != (chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}) {
		t.Fatalf("assignee = %+v", conv.Assignee)
	}
	en.settle(c)
	en.contactSays(c, "are you there?", nil)
	time.Sleep(300 * time.Millisecond) // several polls: a turn would have run by now
	if reqs := en.bot.requests(); len(reqs) != 1 {
		t.Fatalf("the bot heard %d messages, want only the first: %+v", len(reqs), reqs)
	}
	if ts, _ := en.e.Store.PendingBotTurns(en.ctx, c.AppID, c.ID); len(ts) != 0 {
		t.Fatalf("turns queued after handoff: %+v", ts)
	}
}

func TestAssignToRulesWithNobodyOnlineQueues(t *testing.T) {
	en := newEnv(t, envOpts{}, func(webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "Let me find someone", Metadata: map[string]string{chat.MetaAssignTo: ""}}}
	})
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true,
		Away: map[string]string{"en": "We are away; someone will answer soon."}}); err != nil {
		t.Fatal(err)
	}
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "help", nil)
	away := en.waitMessage(c, func(m chat.Message) bool { return m.Text == "We are away; someone will answer soon." })
	if away.Sender.Type != chat.SenderSystem || away.Metadata[chat.MetaSkipBot] != "true" {
		t.Fatalf("away message = %+v", away)
	}
	en.settle(c)
	conv, err := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Status != chat.StatusWaiting || conv.Assignee != nil {
		t.Fatalf("conversation = status %v assignee %+v, want waiting and unassigned", conv.Status, conv.Assignee)
	}
}

func TestAssignToRulesPicksConnectedOnlineAgent(t *testing.T) {
	en := newEnv(t, envOpts{}, func(webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "One moment", Metadata: map[string]string{chat.MetaAssignTo: ""}}}
	})
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"Bea", "Cal"} {
		a, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: strings.ToLower(name) + "@example.com", Name: name, Password: "password-123"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := en.svc.SetPresence(en.ctx, en.admin, a.ID, chat.PresenceOnline); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	// Only Cal has the dashboard open: Bea's "online" alone must not count.
	if err := en.e.Store.SetNodeConnections(en.ctx, "node-x", []store.AgentRef{{AppID: en.admin.AppID, AgentID: ids[1]}}, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "help", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Text == "Assigned to Cal" })
	en.settle(c)
	conv, _ := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if conv.Assignee == nil || conv.Assignee.ID != ids[1] || conv.Status != chat.StatusOpen {
		t.Fatalf("conversation = %+v", conv)
	}
}

func TestFailingBotHandsOffWithinDeadline(t *testing.T) {
	en := newEnv(t, envOpts{autoHandoff: true, deadline: 400 * time.Millisecond}, func(webhookbot.Request) (int, []reply) {
		return 500, nil
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	began := time.Now()
	en.contactSays(c, "hello?", nil)
	en.waitMessage(c, func(m chat.Message) bool {
		return m.Sender.Type == chat.SenderSystem && m.Text == chat.WaitingNotice().Text
	})
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("handoff took %v", took)
	}
	if n := len(en.bot.requests()); n < 2 {
		t.Fatalf("a 500 should be retried within the deadline; the bot got %d requests", n)
	}
	en.settle(c)
	conv, _ := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if conv.Assignee != nil && conv.Assignee.Type == chat.AssigneeBot {
		t.Fatalf("still with the bot: %+v", conv)
	}
}

func TestFailingBotWithoutAutoHandoffSaysSo(t *testing.T) {
	en := newEnv(t, envOpts{deadline: 300 * time.Millisecond}, func(webhookbot.Request) (int, []reply) {
		return 500, nil
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "hello?", nil)
	rules, _, err := en.svc.EffectiveRules(en.ctx, c.AppID, "")
	if err != nil {
		t.Fatal(err)
	}
	want := rules.BotFallbackMessage("")
	m := en.waitMessage(c, fromBot(want))
	if m.Sender.ID != en.botID {
		t.Fatalf("fallback = %+v", m)
	}
	en.settle(c)
	conv, _ := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if conv.Assignee == nil || conv.Assignee.ID != en.botID {
		t.Fatalf("the conversation left the bot: %+v", conv)
	}
}

// A node claimed a turn, posted its reply and died before finishing. Once
// the lease runs out another worker takes the turn over, and the reply is
// not posted a second time.
func TestExpiredLeaseIsCompletedOnceByAnotherWorker(t *testing.T) {
	en := newEnv(t, envOpts{noWorker: true}, echo)
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "ping", nil)
	claimed, err := en.e.Store.ClaimBotTurns(en.ctx, "dead-node", 300*time.Millisecond, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	dead := claimed[0]
	if _, _, err := en.svc.SendMessage(en.ctx, en.admin, c.ID, service.SendInput{
		Text: "you said ping", ClientKey: chat.BotReplyKey(dead.ID, 0), Sender: &chat.Sender{Type: chat.SenderBot, ID: en.botID},
	}); err != nil {
		t.Fatal(err)
	}

	en.startWorker("node-b", 2*time.Second)
	en.settle(c)
	var replies int
	for _, m := range en.messages(c) {
		if m.Sender.Type == chat.SenderBot {
			replies++
		}
	}
	if replies != 1 {
		t.Fatalf("%d bot replies, want 1: %+v", replies, en.messages(c))
	}
	if err := en.e.Store.FinishBotTurn(en.ctx, dead.ID, dead.LeaseToken, chat.BotTurnDone, ""); !chat.IsCode(err, chat.CodeConflict) {
		t.Fatalf("the dead node's finish = %v, want conflict", err)
	}
}

// Closing a worker while its bot is still thinking gives the turn back,
// and the next worker answers it exactly once.
func TestCloseReleasesTurnInFlight(t *testing.T) {
	var slow sync.Once
	entered := make(chan struct{})
	en := newEnv(t, envOpts{noWorker: true}, func(req webhookbot.Request) (int, []reply) {
		first := false
		slow.Do(func() { first = true })
		if first {
			close(entered)
			time.Sleep(500 * time.Millisecond)
		}
		return echo(req)
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "slow", nil)
	w := botrun.New(botrun.Options{Service: en.svc, Runner: en.runner, NodeID: "node-a", Lease: 2 * time.Second, Poll: 50 * time.Millisecond})
	w.Start(en.ctx)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the bot was never called")
	}
	w.Close()
	ts, err := en.e.Store.PendingBotTurns(en.ctx, c.AppID, c.ID)
	if err != nil || len(ts) != 1 || ts[0].State != chat.BotTurnPending {
		t.Fatalf("after close: %+v, %v", ts, err)
	}
	en.startWorker("node-b", 2*time.Second)
	en.waitMessage(c, fromBot("you said slow"))
	en.settle(c)
	n := 0
	for _, m := range en.messages(c) {
		if m.Sender.Type == chat.SenderBot {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d bot replies, want 1", n)
	}
}

// An agent who takes the conversation while the bot is still thinking gets
// it clean: the bot's late answer is dropped.
func TestReassignDuringTurnDropsTheBotsAnswer(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		close(entered)
		<-release
		return echo(req)
	})
	agent, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: "dan@example.com", Name: "Dan", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "late", nil)
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the bot was never called")
	}
	if _, err := en.svc.ChangeAssignee(en.ctx, en.admin, c.ID, &chat.Assignee{Type: chat.AssigneeAgent, ID: agent.ID}); err != nil {
		t.Fatal(err)
	}
	close(release)
	en.settle(c)
	time.Sleep(200 * time.Millisecond)
	for _, m := range en.messages(c) {
		if m.Sender.Type == chat.SenderBot {
			t.Fatalf("the bot spoke after the agent took over: %+v", m)
		}
	}
}

// Take over, then hand back: while the agent holds the conversation the bot
// hears nothing; once handed back, it answers the contact's next message.
func TestTakeOverAndHandBack(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	agent, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: "eve@example.com", Name: "Eve", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	eve := service.Actor{AppID: agent.AppID, AgentID: agent.ID, Role: agent.Role}
	c := en.start(service.NewConversation{})
	en.waitMessage(c, fromBot("Welcome!"))

	conv, err := en.svc.TakeOver(en.ctx, eve, c.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if conv.Assignee == nil || conv.Assignee.ID != agent.ID {
		t.Fatalf("after take-over: %+v", conv.Assignee)
	}
	en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == "Assigned to Eve" })
	en.contactSays(c, "hello Eve", nil)
	en.settle(c)

	if _, err := en.svc.Assign(en.ctx, eve, c.ID, service.AssignInput{BotID: en.botID}); err != nil {
		t.Fatal(err)
	}
	en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == "Assigned to Helper" })
	en.contactSays(c, "back to you, bot", nil)
	en.waitMessage(c, fromBot("you said back to you, bot"))
	en.settle(c)
	var heard []string
	for _, r := range en.bot.requests() {
		heard = append(heard, r.EventName+r.Message)
	}
	if want := []string{"WELCOME", "back to you, bot"}; strings.Join(heard, "|") != strings.Join(want, "|") {
		t.Fatalf("the bot heard %q, want %q", heard, want)
	}
	if _, err := en.svc.TakeOver(en.ctx, eve, c.ID, en.admin.AgentID+"x"); !chat.IsCode(err, chat.CodeForbidden) {
		t.Fatalf("an agent taking over for someone else: %v", err)
	}
}

// KM_ASSIGN_TEAM routes among the team's connected online agents.
func TestAssignTeam(t *testing.T) {
	en := newEnv(t, envOpts{}, echo) // the answer is set once the team exists
	if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeAutomatic, QueueWhenNobody: true}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	var refs []store.AgentRef
	for _, name := range []string{"Fay", "Gus"} {
		a, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: strings.ToLower(name) + "@example.com", Name: name, Password: "password-123"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := en.svc.SetPresence(en.ctx, en.admin, a.ID, chat.PresenceOnline); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
		refs = append(refs, store.AgentRef{AppID: a.AppID, AgentID: a.ID})
	}
	if err := en.e.Store.SetNodeConnections(en.ctx, "node-x", refs, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Only Gus is in the team, although Fay is online too.
	team, err := en.svc.CreateTeam(en.ctx, en.admin, service.NewTeam{Name: "Sales", AgentIDs: ids[1:]})
	if err != nil {
		t.Fatal(err)
	}
	en.bot.mu.Lock()
	en.bot.answer = func(webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "Sales will help", Metadata: map[string]string{chat.MetaAssignTeam: team.ID}}}
	}
	en.bot.mu.Unlock()
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "buy", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Text == "Assigned to Gus" })
	en.settle(c)
	conv, _ := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if conv.Assignee == nil || conv.Assignee.ID != ids[1] || conv.TeamID != team.ID {
		t.Fatalf("conversation = %+v", conv)
	}
}

// KM_ASSIGN_TO naming another bot hands over to it, and the new bot gets
// the event instead of a cold start.
func TestBotToBotHandoff(t *testing.T) {
	en := newEnv(t, envOpts{}, echo)
	hook, _ := json.Marshal(webhookbot.Settings{URL: en.bot.srv.URL})
	second, err := en.svc.CreateBot(en.ctx, en.admin, service.NewBot{Name: "Billing", Type: chat.BotWebhook, Webhook: hook})
	if err != nil {
		t.Fatal(err)
	}
	en.bot.mu.Lock()
	en.bot.answer = func(req webhookbot.Request) (int, []reply) {
		if req.BotID == second.Bot.ID {
			return 200, []reply{{Message: "Billing here, got " + req.EventName}}
		}
		return 200, []reply{{Message: "Over to billing", Metadata: map[string]string{chat.MetaAssignTo: second.Bot.ID, chat.MetaTriggerEvent: "BILLING_START"}}}
	}
	en.bot.mu.Unlock()
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "invoice", nil)
	en.waitMessage(c, func(m chat.Message) bool { return m.Text == "Assigned to Billing" })
	m := en.waitMessage(c, fromBot("Billing here, got BILLING_START"))
	if m.Sender.ID != second.Bot.ID {
		t.Fatalf("reply from %+v", m.Sender)
	}
	en.settle(c)
	conv, _ := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if conv.Assignee == nil || conv.Assignee.ID != second.Bot.ID {
		t.Fatalf("assignee = %+v", conv.Assignee)
	}
}

// A bot's answer of several messages is stored as it was sent: in order,
// with consecutive seqs right after the contact's message, once each.
func TestSeveralRepliesStayInOrder(t *testing.T) {
	texts := []string{"first", "second", "third"}
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		if req.EventName == bot.EventWelcome {
			return 200, nil
		}
		var rs []reply
		for _, s := range texts {
			rs = append(rs, reply{Message: s + " " + req.Message})
		}
		return 200, rs
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	for _, said := range []string{"a", "b"} {
		en.contactSays(c, said, nil)
		en.waitMessage(c, fromBot("third "+said))
	}
	en.settle(c)
	var got []string
	for i, m := range en.messages(c) {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
		got = append(got, m.Text)
	}
	want := "[a first a second a third a b first b second b third b]"
	if fmt.Sprint(got) != want {
		t.Fatalf("messages %v, want %s", got, want)
	}
}
