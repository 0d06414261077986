package botrun_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// countingBot is a connector that keeps state between turns the way the
// Lex connector keeps session attributes: it counts the turns it has seen
// in the conversation, and says the count it was handed.
type countingBot struct {
	mu   sync.Mutex
	seen []string // the state each turn was handed, "" for none
}

func (c *countingBot) Turn(_ context.Context, t bot.Turn, state json.RawMessage) (bot.Result, error) {
	var st struct {
		N int `json:"n"`
	}
	if state != nil {
		if err := json.Unmarshal(state, &st); err != nil {
			return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "bad state", Cause: err}
		}
	}
	c.mu.Lock()
	c.seen = append(c.seen, string(state))
	c.mu.Unlock()
	st.N++
	next, _ := json.Marshal(st)
	return bot.Result{Replies: []bot.Reply{{Text: "turn " + string(rune('0'+st.N))}}, State: next}, nil
}

func (c *countingBot) states() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func newCountingEnv(t *testing.T) (*env, *countingBot) {
	en := newEnv(t, envOpts{noWorker: true}, echo)
	cb := &countingBot{}
	en.runner = turn.New(turn.Options{Connectors: map[chat.BotType]bot.Connector{chat.BotWebhook: cb}, Deadline: 5 * time.Second})
	en.startWorker("node-a", 2*time.Second)
	return en, cb
}

func (en *env) agent(name string) service.Actor {
	en.t.Helper()
	a, err := en.svc.CreateAgent(en.ctx, en.admin, service.NewAgent{Email: strings.ToLower(name) + "@example.com", Name: name, Password: "password-123"})
	if err != nil {
		en.t.Fatal(err)
	}
	return service.Actor{AppID: a.AppID, AgentID: a.ID, Role: a.Role}
}

// online makes agents online with a live dashboard connection.
func (en *env) online(actors ...service.Actor) {
	en.t.Helper()
	var refs []store.AgentRef
	for _, a := range actors {
		if _, err := en.svc.SetPresence(en.ctx, en.admin, a.AgentID, chat.PresenceOnline); err != nil {
			en.t.Fatal(err)
		}
		refs = append(refs, store.AgentRef{AppID: a.AppID, AgentID: a.AgentID})
	}
	if err := en.e.Store.SetNodeConnections(en.ctx, "node-x", refs, time.Now().Add(time.Minute)); err != nil {
		en.t.Fatal(err)
	}
}

func (en *env) conv(c *chat.Conversation) *chat.Conversation {
	en.t.Helper()
	got, err := en.e.Store.GetConversation(en.ctx, c.AppID, c.ID)
	if err != nil {
		en.t.Fatal(err)
	}
	return got
}

func (en *env) summary() *store.AnalyticsSummary {
	en.t.Helper()
	s, err := en.svc.AnalyticsSummary(en.ctx, en.admin, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		en.t.Fatal(err)
	}
	return s
}

// The state a turn leaves is what the next turn of the conversation gets.
// A handoff keeps it while the bot stays one of the conversation's bots, so
// a hand-back resumes; with "remove bot on handoff" the bot is detached and
// a hand-back starts it from nothing.
func TestConnectorStateAndRemoveBotOnHandoff(t *testing.T) {
	for _, remove := range []bool{false, true} {
		name := "bot kept"
		if remove {
			name = "bot removed"
		}
		t.Run(name, func(t *testing.T) {
			en, cb := newCountingEnv(t)
			if _, err := en.svc.PutRules(en.ctx, en.admin, service.RulesDoc{Mode: chat.ModeNotifyEverybody, RemoveBotOnHandoff: remove}); err != nil {
				t.Fatal(err)
			}
			eve := en.agent("Eve")
			c := en.start(service.NewConversation{})
			en.waitMessage(c, fromBot("turn 1"))
			en.contactSays(c, "hello", nil)
			en.waitMessage(c, fromBot("turn 2"))
			en.settle(c)
			if _, err := en.svc.TakeOver(en.ctx, eve, c.ID, ""); err != nil {
				t.Fatal(err)
			}
			_, listed, err := en.e.Store.GetBotState(en.ctx, c.AppID, c.ID, en.botID)
			if err != nil || listed == remove {
				t.Fatalf("after the handoff the bot is listed = %v (err %v), want %v", listed, err, !remove)
			}
			if _, err := en.svc.Assign(en.ctx, eve, c.ID, service.AssignInput{BotID: en.botID}); err != nil {
				t.Fatal(err)
			}
			en.contactSays(c, "back again", nil)
			want := "turn 3"
			if remove {
				want = "turn 1"
			}
			en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderBot && m.Seq > 4 && m.Text == want })
			en.settle(c)
			got := cb.states()
			wantStates := []string{"", `{"n":1}`, `{"n":2}`}
			if remove {
				wantStates[2] = ""
			}
			if strings.Join(got, "|") != strings.Join(wantStates, "|") {
				t.Fatalf("states handed to the bot = %q, want %q", got, wantStates)
			}
		})
	}
}

// Handing back to another bot forgets what the first bot kept: it no
// longer has the conversation.
func TestHandBackToAnotherBotClearsTheFirstBotsState(t *testing.T) {
	en, _ := newCountingEnv(t)
	hook, _ := json.Marshal(webhookbot.Settings{URL: en.bot.srv.URL})
	second, err := en.svc.CreateBot(en.ctx, en.admin, service.NewBot{Name: "Second", Type: chat.BotWebhook, Webhook: hook})
	if err != nil {
		t.Fatal(err)
	}
	eve := en.agent("Eve")
	c := en.start(service.NewConversation{})
	en.waitMessage(c, fromBot("turn 1"))
	en.settle(c)
	if _, err := en.svc.TakeOver(en.ctx, eve, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := en.svc.Assign(en.ctx, eve, c.ID, service.AssignInput{BotID: second.Bot.ID}); err != nil {
		t.Fatal(err)
	}
	if _, listed, _ := en.e.Store.GetBotState(en.ctx, c.AppID, c.ID, en.botID); listed {
		t.Fatal("the first bot's state outlived a hand-back to another bot")
	}
}

// actionRequest resolveConversation: the bot's goodbye is posted, then the
// conversation is resolved with a notice, and counted as bot-resolved.
func TestActionResolveConversation(t *testing.T) {
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		if req.Message == "thanks, bye" {
			return 200, []reply{{Message: "Glad I could help", Metadata: map[string]string{richmsg.MetaActionRequest: richmsg.ActionResolveConversation}}}
		}
		return echo(req)
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "thanks, bye", nil)
	bye := en.waitMessage(c, fromBot("Glad I could help"))
	notice := en.waitMessage(c, func(m chat.Message) bool { return m.Sender.Type == chat.SenderSystem && m.Text == "Resolved by Helper" })
	if notice.Seq < bye.Seq || notice.Metadata[chat.MetaSkipBot] != "true" {
		t.Fatalf("notice %+v after reply %+v", notice, bye)
	}
	en.settle(c)
	if got := en.conv(c); got.Status != chat.StatusResolved {
		t.Fatalf("status = %v", got.Status)
	}
	if s := en.summary(); s.BotResolved != 1 {
		t.Fatalf("bot-resolved = %d", s.BotResolved)
	}
}

// actionRequest askCSAT posts the rating request once, even when the turn
// runs a second time on another node after the first died mid-way.
func TestActionAskCSATOnceAcrossARerun(t *testing.T) {
	en := newEnv(t, envOpts{noWorker: true}, func(req webhookbot.Request) (int, []reply) {
		return 200, []reply{{Message: "Done. Rate us?", Metadata: map[string]string{richmsg.MetaActionRequest: richmsg.ActionAskCSAT}}}
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "fix it", nil)
	// A node claims the turn and dies after posting its reply and the
	// rating request, before finishing: what it left is what a real
	// run posts, under the same keys.
	claimed, err := en.e.Store.ClaimBotTurns(en.ctx, "dead-node", 300*time.Millisecond, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	dead := claimed[0]
	bot := &chat.Sender{Type: chat.SenderBot, ID: en.botID}
	if _, _, err := en.svc.SendMessage(en.ctx, en.admin, c.ID, service.SendInput{Text: "Done. Rate us?", ClientKey: chat.BotReplyKey(dead.ID, 0), Sender: bot}); err != nil {
		t.Fatal(err)
	}
	en.startWorker("node-b", 2*time.Second)
	en.waitMessage(c, func(m chat.Message) bool { return m.Metadata[chat.MetaCSAT] != "" })
	en.settle(c)
	var replies, asks int
	for _, m := range en.messages(c) {
		switch {
		case m.Metadata[chat.MetaCSAT] == "10":
			asks++
			if m.Sender.Type != chat.SenderSystem || m.Metadata[chat.MetaSkipBot] != "true" {
				t.Fatalf("rating request = %+v", m)
			}
		case m.Sender.Type == chat.SenderBot:
			replies++
		}
	}
	if replies != 1 || asks != 1 {
		t.Fatalf("%d replies and %d rating requests, want one each: %+v", replies, asks, en.messages(c))
	}
	// The contact answers it.
	if _, err := en.svc.SubmitCSAT(en.ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, chat.CSAT{Rating: 9}); err != nil {
		t.Fatal(err)
	}
	if s := en.summary(); s.CSATCount != 1 || s.CSATAverage != 9 {
		t.Fatalf("csat = %d %v", s.CSATCount, s.CSATAverage)
	}
}

// actionRequest fetchAgentAvailability answers the bot with an event, and
// the bot tells the contact in its own words.
func TestActionFetchAgentAvailability(t *testing.T) {
	en := newEnv(t, envOpts{}, func(req webhookbot.Request) (int, []reply) {
		switch {
		case req.Message == "anyone there?":
			return 200, []reply{{Metadata: map[string]string{richmsg.MetaActionRequest: richmsg.ActionFetchAgentAvailability}}}
		case req.EventName == chat.EventAgentAvailable:
			return 200, []reply{{Message: "A person can help you now"}}
		case req.EventName == chat.EventAgentUnavailable:
			return 200, []reply{{Message: "Nobody is online; leave a message"}}
		}
		return echo(req)
	})
	c := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c, "anyone there?", nil)
	en.waitMessage(c, fromBot("Nobody is online; leave a message"))
	en.settle(c)

	en.online(en.agent("Ivy"))
	c2 := en.start(service.NewConversation{SkipBotEvent: true})
	en.contactSays(c2, "anyone there?", nil)
	en.waitMessage(c2, fromBot("A person can help you now"))
	en.settle(c2)
	if got := en.conv(c2); got.Assignee == nil || got.Assignee.ID != en.botID {
		t.Fatalf("asking moved the conversation: %+v", got.Assignee)
	}
}
