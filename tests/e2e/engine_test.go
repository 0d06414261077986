package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// handingOffBot is a webhook bot that asks for a person on every message.
func handingOffBot(t *testing.T) *httptest.Server {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode([]map[string]any{{"message": "Let me find a person", "metadata": map[string]string{"KM_ASSIGN_TO": ""}}})
	}))
	t.Cleanup(hook.Close)
	return hook
}

// notice is a message with the metadata the shared message type leaves out.
type notice struct {
	Text   string `json:"text"`
	Sender struct {
		Type string `json:"type"`
	} `json:"sender"`
	Metadata map[string]string `json:"metadata"`
}

// waitForText polls the conversation's messages until one has text.
func waitForText(t *testing.T, api *client, convID, text string) notice {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var page struct {
			Messages []notice `json:"messages"`
		}
		api.do("GET", "/api/v1/conversations/"+convID+"/messages", nil, http.StatusOK, &page)
		for _, m := range page.Messages {
			if m.Text == text {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message %q; have %+v", text, page.Messages)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Over the real binary and a real webhook bot: when the bot hands off and
// nobody can take the conversation (outside business hours; or inside
// them with no agent online), the contact is told the away message and
// the conversation waits in the queue. The contact then rates the
// conversation with its own token, and the admin's analytics count the
// handoffs and the rating.
func TestHandoffNobodyCanTakeE2E(t *testing.T) {
	const away = "Nobody is here right now; we will write back."
	hook := handingOffBot(t)
	n := startEmbeddedNode(t, map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
		"SWITCHBOARD_ADMIN_EMAIL":       "owner@example.com",
		"SWITCHBOARD_ADMIN_PASSWORD":    "owner-password-1",
		"SWITCHBOARD_LOG_LEVEL":         "warn",
	})
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var b struct {
		ID string `json:"id"`
	}
	api.do("POST", "/api/v1/bots", map[string]any{"name": "Hooky", "type": "webhook", "autoHandoff": true, "webhook": map[string]any{"url": hook.URL}}, http.StatusCreated, &b)

	days := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	closed := map[string]any{"timeZone": "UTC", "weekly": map[string]any{
		days[time.Now().UTC().AddDate(0, 0, 3).Weekday()]: []map[string]string{{"start": "00:00", "end": "24:00"}}}}
	for _, tc := range []struct {
		name  string
		hours any
	}{
		{"outside business hours", closed},
		{"no agent online", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api.t = t
			rules := map[string]any{"mode": "automatic_assignment", "queueWhenNobody": true, "away": map[string]string{"en": away}}
			if tc.hours != nil {
				rules["businessHours"] = tc.hours
			}
			api.do("PUT", "/api/v1/rules", rules, http.StatusOK, nil)
			var conv conversation
			api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"name": "Kim", "language": "en"}, "skipRouting": true, "skipBotEvent": true,
				"assignee": map[string]string{"type": "bot", "id": b.ID}}, http.StatusCreated, &conv)
			api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages", map[string]any{"text": "I need help", "sender": map[string]string{"type": "contact"}}, http.StatusCreated, nil)
			told := waitForText(t, api, conv.ID, away)
			if told.Sender.Type != "system" || told.Metadata["skipBot"] != "true" {
				t.Fatalf("away message = %+v", told)
			}
			var got conversation
			api.do("GET", "/api/v1/conversations/"+conv.ID, nil, http.StatusOK, &got)
			if got.Status != 7 || got.Assignee != nil {
				t.Fatalf("conversation = %+v, want waiting (7) and unassigned", got)
			}

			var tok struct {
				Token string `json:"token"`
			}
			api.do("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, http.StatusCreated, &tok)
			contact := n.client(map[string]string{"X-Contact-Token": tok.Token})
			contact.t = t
			contact.do("POST", "/api/v1/conversations/"+conv.ID+"/csat", map[string]any{"rating": 6, "comment": "slow, but ok"}, http.StatusOK, nil)
			contact.do("POST", "/api/v1/conversations/"+conv.ID+"/csat", map[string]any{"rating": 10}, http.StatusConflict, nil)
		})
	}
	api.t = t
	var sum struct {
		HandedOff        int64            `json:"handedOff"`
		HandoffsByReason map[string]int64 `json:"handoffsByReason"`
		CSATCount        int64            `json:"csatCount"`
		CSATAverage      float64          `json:"csatAverage"`
	}
	api.do("GET", "/api/v1/analytics/summary", nil, http.StatusOK, &sum)
	if sum.HandedOff != 2 || sum.HandoffsByReason["km_assign_to"] != 2 || sum.CSATCount != 2 || sum.CSATAverage != 6 {
		t.Fatalf("summary = %+v", sum)
	}
	if strings.Contains(n.out.String(), "panic") {
		t.Fatalf("the node panicked:\n%s", n.out.String())
	}
}
