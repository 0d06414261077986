package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

type richMessage struct {
	Seq    int64  `json:"seq"`
	Text   string `json:"text"`
	Sender struct {
		Type string `json:"type"`
	} `json:"sender"`
	Metadata map[string]string `json:"metadata"`
}

// waitForBot polls a conversation until a bot message after seq arrives,
// and returns the bot messages after seq.
func waitForBot(t *testing.T, c *client, convID string, after int64) []richMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var list struct {
			Messages []richMessage `json:"messages"`
		}
		c.do("GET", "/api/v1/conversations/"+convID+"/messages?afterSeq=0", nil, http.StatusOK, &list)
		var bot []richMessage
		for _, m := range list.Messages {
			if m.Seq > after && m.Sender.Type == "bot" {
				bot = append(bot, m)
			}
		}
		if len(bot) > 0 {
			return bot
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bot reply after seq %d: %+v", after, list.Messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastSeq(t *testing.T, c *client, convID string) int64 {
	t.Helper()
	var list struct {
		Messages []richMessage `json:"messages"`
	}
	c.do("GET", "/api/v1/conversations/"+convID+"/messages?afterSeq=0", nil, http.StatusOK, &list)
	if len(list.Messages) == 0 {
		return 0
	}
	return list.Messages[len(list.Messages)-1].Seq
}

// TestDemoOnFreshInstall is a new user's first minutes with the embedded
// default: no settings but a data directory, and the first conversation is
// answered by the demo bot through the local Lex runtime and the real SDK
// client, before and after a restart.
func TestDemoOnFreshInstall(t *testing.T) {
	n := startNode(t, map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
		"SWITCHBOARD_DEMO":              "true",
		"SWITCHBOARD_LOG_LEVEL":         "warn",
	})
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})

	var bots struct {
		Bots []struct {
			ID        string `json:"id"`
			Type      string `json:"type"`
			Status    string `json:"status"`
			HandleAll bool   `json:"handleAllNewConversations"`
			Lex       *struct {
				SecretAccessKey string   `json:"secretAccessKey"`
				Locales         []string `json:"locales"`
			} `json:"lex"`
		} `json:"bots"`
	}
	api.do("GET", "/api/v1/bots", nil, http.StatusOK, &bots)
	if len(bots.Bots) != 1 || bots.Bots[0].Type != "lex" || !bots.Bots[0].HandleAll || bots.Bots[0].Lex == nil ||
		bots.Bots[0].Lex.SecretAccessKey != "********" || strings.Join(bots.Bots[0].Lex.Locales, ",") != "en_US,es_419" {
		t.Fatalf("bots on a fresh install = %+v", bots.Bots)
	}

	newConv := func(userID, lang string) string {
		var conv conversation
		api.do("POST", "/api/v1/conversations", map[string]any{
			"contact": map[string]any{"userId": userID, "language": lang},
		}, http.StatusCreated, &conv)
		if conv.Assignee == nil || conv.Assignee.Type != "bot" {
			t.Fatalf("new conversation not with the demo bot: %+v", conv)
		}
		return conv.ID
	}
	send := func(convID, text string) int64 {
		var m message
		api.do("POST", "/api/v1/conversations/"+convID+"/messages", map[string]any{
			"text": text, "sender": map[string]any{"type": "contact"},
		}, http.StatusCreated, &m)
		return m.Seq
	}

	// The welcome comes with quick replies (templateId 6).
	conv := newConv("visitor-en", "en-US")
	welcome := waitForBot(t, api, conv, 0)
	if !hasTemplate(welcome, "6") {
		t.Fatalf("welcome has no quick replies: %+v", welcome)
	}

	// Order status asks for the number, then answers with it.
	seq := send(conv, "where is my order?")
	ask := waitForBot(t, api, conv, seq)
	if !strings.Contains(strings.ToLower(ask[0].Text), "order number") {
		t.Fatalf("order status did not ask for the number: %+v", ask)
	}
	seq = send(conv, "A1B2C3")
	if got := waitForBot(t, api, conv, seq); !strings.Contains(got[0].Text, "A1B2C3") {
		t.Fatalf("order status reply does not name the order: %+v", got)
	}

	// Spanish reaches the es_419 locale.
	es := newConv("visitor-es", "es-MX")
	if welcome := waitForBot(t, api, es, 0); !hasTemplate(welcome, "6") || !strings.ContainsAny(welcome[0].Text, "¡¿áéíóú") {
		t.Fatalf("Spanish welcome = %+v", welcome)
	}

	// "Talk to a human" hands off: the bot is no longer the assignee.
	seq = send(conv, "I want to talk to a human")
	waitForBot(t, api, conv, seq)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var c conversation
		api.do("GET", "/api/v1/conversations/"+conv, nil, http.StatusOK, &c)
		if c.Assignee == nil || c.Assignee.Type != "bot" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("talk to a human did not hand off: %+v", c)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// After a restart the runtime has a new port and new keys, and the
	// demo bot still answers.
	n.stop()
	n.start()
	again := newConv("visitor-after-restart", "en")
	if welcome := waitForBot(t, api, again, 0); !hasTemplate(welcome, "6") {
		t.Fatalf("welcome after restart = %+v", welcome)
	}
	if s := lastSeq(t, api, es); s == 0 {
		t.Fatal("the Spanish conversation lost its messages")
	}
}

func hasTemplate(ms []richMessage, id string) bool {
	for _, m := range ms {
		if m.Metadata["templateId"] == id {
			return true
		}
	}
	return false
}
