package e2e

import (
	"fmt"
	"net/http"
	"testing"
)

const bootstrapKey = "e2e-bootstrap-key-0123456789abcdef"

type conversation struct {
	ID        string `json:"id"`
	Status    int    `json:"status"`
	ContactID string `json:"contactId"`
	Assignee  *struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"assignee"`
}

type message struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Text   string `json:"text"`
	Sender struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"sender"`
	ClientKey string `json:"clientKey"`
}

type messageList struct {
	Messages []message `json:"messages"`
}

// TestFirstRun walks the path a new user takes with the real binary: create
// an agent, open conversations through both APIs, send and list messages,
// retry a send, then crash and restart the process and find everything.
func TestFirstRun(t *testing.T) {
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			env := map[string]string{
				"SWITCHBOARD_DATA_DIR":          t.TempDir(),
				"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
				"SWITCHBOARD_ADMIN_EMAIL":       "owner@example.com",
				"SWITCHBOARD_ADMIN_PASSWORD":    "owner-password-1",
				"SWITCHBOARD_DATABASE_URL":      db.url(t),
				"SWITCHBOARD_LOG_LEVEL":         "warn",
			}
			n := startNode(t, env)
			firstRun(t, n)
		})
	}
}

func firstRun(t *testing.T, n *node) {
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})

	// An admin integration creates an agent, who can then sign in.
	var agent struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	api.do("POST", "/api/v1/agents", map[string]any{"email": "ada@example.com", "name": "Ada", "password": "correct-horse-1", "role": "agent"}, http.StatusCreated, &agent)
	if agent.ID == "" || agent.Role != "agent" {
		t.Fatalf("agent = %+v", agent)
	}
	login(t, n, "ada@example.com", "correct-horse-1", http.StatusOK)
	login(t, n, "ada@example.com", "wrong-password", http.StatusUnauthorized)

	// A conversation through /api/v1 …
	var conv conversation
	api.do("POST", "/api/v1/conversations", map[string]any{
		"contact":  map[string]any{"userId": "visitor-1", "name": "Vera", "language": "pt-BR"},
		"metadata": map[string]any{"source": "e2e"},
	}, http.StatusCreated, &conv)
	if conv.ID == "" || conv.Status != 0 || conv.ContactID == "" {
		t.Fatalf("conversation = %+v", conv)
	}

	// … and one through the Kommunicate-compatible API.
	km := n.client(map[string]string{"Api-Key": bootstrapKey})
	kmConv := kmCreateConversation(t, km, "visitor-2")

	// Messages, including a retried send that must not duplicate.
	var sent []message
	for i := 0; i < 3; i++ {
		var m message
		api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
			"text": fmt.Sprintf("hello %d", i), "clientKey": fmt.Sprintf("ck-%d", i),
			"sender": map[string]any{"type": "contact"},
		}, http.StatusCreated, &m)
		sent = append(sent, m)
	}
	var again message
	api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
		"text": "hello 1", "clientKey": "ck-1", "sender": map[string]any{"type": "contact"},
	}, http.StatusOK, &again)
	if again.ID != sent[1].ID || again.Seq != sent[1].Seq {
		t.Fatalf("retried send returned %+v, want the original %+v", again, sent[1])
	}
	var agentMsg message
	api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
		"text": "Hi Vera, Ada here.", "sender": map[string]any{"type": "agent", "id": agent.ID},
	}, http.StatusCreated, &agentMsg)
	kmSend(t, km, kmConv, "visitor-2", "hello from the compatible API")

	checkMessages(t, api, conv.ID, []string{"hello 0", "hello 1", "hello 2", "Hi Vera, Ada here."})
	kmCheckMessages(t, km, kmConv, []string{"hello from the compatible API"})

	// A crash right after acknowledged writes loses none of them.
	n.kill()
	n.start()
	checkMessages(t, api, conv.ID, []string{"hello 0", "hello 1", "hello 2", "Hi Vera, Ada here."})
	kmCheckMessages(t, km, kmConv, []string{"hello from the compatible API"})
	var got conversation
	api.do("GET", "/api/v1/conversations/"+conv.ID, nil, http.StatusOK, &got)
	if got.ID != conv.ID || got.ContactID != conv.ContactID {
		t.Fatalf("after restart conversation = %+v, want %+v", got, conv)
	}
	login(t, n, "ada@example.com", "correct-horse-1", http.StatusOK)

	// The retried send is still recognised after the restart.
	api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
		"text": "hello 2", "clientKey": "ck-2", "sender": map[string]any{"type": "contact"},
	}, http.StatusOK, &again)
	if again.ID != sent[2].ID {
		t.Fatalf("retried send after restart returned %s, want %s", again.ID, sent[2].ID)
	}

	// New writes continue the sequence with no gap, then a graceful stop
	// and start keep everything too.
	var next message
	api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{
		"text": "after restart", "sender": map[string]any{"type": "contact"},
	}, http.StatusCreated, &next)
	if next.Seq != agentMsg.Seq+1 {
		t.Fatalf("seq after restart = %d, want %d", next.Seq, agentMsg.Seq+1)
	}
	n.stop()
	n.start()
	checkMessages(t, api, conv.ID, []string{"hello 0", "hello 1", "hello 2", "Hi Vera, Ada here.", "after restart"})
}

func login(t *testing.T, n *node, email, password string, want int) {
	t.Helper()
	n.client(nil).do("POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password}, want, nil)
}

func checkMessages(t *testing.T, c *client, convID string, want []string) {
	t.Helper()
	var list messageList
	c.do("GET", "/api/v1/conversations/"+convID+"/messages?afterSeq=0", nil, http.StatusOK, &list)
	if len(list.Messages) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(list.Messages), len(want), list.Messages)
	}
	for i, m := range list.Messages {
		if m.Text != want[i] || m.Seq != int64(i+1) {
			t.Fatalf("message %d = (seq %d, %q), want (seq %d, %q)", i, m.Seq, m.Text, i+1, want[i])
		}
	}
}
