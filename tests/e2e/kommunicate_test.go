package e2e

import (
	"net/http"
	"testing"
)

// The Kommunicate-compatible calls an existing integration makes.

type kmEnvelope[T any] struct {
	Status   string `json:"status"`
	Response T      `json:"response"`
}

func kmCreateConversation(t *testing.T, c *client, userID string) string {
	t.Helper()
	var out kmEnvelope[struct {
		GroupID string `json:"groupId"`
		UserID  string `json:"userId"`
	}]
	c.do("POST", "/rest/ws/group/conversation", map[string]any{
		"groupName": "Support", "groupMemberList": []string{userID}, "type": 10,
	}, http.StatusOK, &out)
	if out.Status != "success" || out.Response.GroupID == "" || out.Response.UserID != userID {
		t.Fatalf("create conversation answered %+v", out)
	}
	return out.Response.GroupID
}

func kmSend(t *testing.T, c *client, groupID, userID, text string) {
	t.Helper()
	as := &client{t: c.t, n: c.n, http: c.http, headers: map[string]string{"Of-User-Id": userID}}
	for k, v := range c.headers {
		as.headers[k] = v
	}
	var out kmEnvelope[struct {
		MessageKey string `json:"messageKey"`
	}]
	as.do("POST", "/rest/ws/message/v2/send", map[string]any{"groupId": groupID, "message": text}, http.StatusOK, &out)
	if out.Status != "success" || out.Response.MessageKey == "" {
		t.Fatalf("send answered %+v", out)
	}
}

func kmCheckMessages(t *testing.T, c *client, groupID string, want []string) {
	t.Helper()
	var out kmEnvelope[struct {
		Message []struct {
			Message string `json:"message"`
		} `json:"message"`
	}]
	c.do("GET", "/rest/ws/message/list?groupId="+groupID, nil, http.StatusOK, &out)
	if len(out.Response.Message) != len(want) {
		t.Fatalf("message list has %d messages, want %d", len(out.Response.Message), len(want))
	}
	// Kommunicate lists newest first.
	for i, m := range out.Response.Message {
		if m.Message != want[len(want)-1-i] {
			t.Fatalf("message %d = %q, want %q", i, m.Message, want[len(want)-1-i])
		}
	}
}
