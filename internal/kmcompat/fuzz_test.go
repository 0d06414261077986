package kmcompat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/service"
)

// fuzzBody posts body to path through the whole handler (real service, real
// SQLite) and fails on a 5xx or on anything but a well-formed envelope.
func fuzzBody(t *testing.T, e *env, path, body string, header map[string]string) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Api-Key", apiKey)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
	}
	var env struct {
		Status        string            `json:"status"`
		ErrorResponse []json.RawMessage `json:"errorResponse"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("answer to %q is not JSON: %v", body, err)
	}
	switch {
	case rec.Code == http.StatusOK && env.Status == "success":
	case rec.Code >= 400 && env.Status == "error" && len(env.ErrorResponse) == 1:
	default:
		t.Fatalf("status %d with envelope %s for %q", rec.Code, rec.Body, body)
	}
}

func FuzzCreateConversationBody(f *testing.F) {
	for _, seed := range []string{
		`{"groupName":"x","groupMemberList":["u1"]}`,
		`{"groupName":"x","groupMemberList":["u1","agent@example.com"],"assignee":"agent@example.com","skipRouting":true,"clientGroupId":12,"type":10}`,
		`{"groupName":"x","groupMemberList":["u1"],"metadata":{"KM_CHAT_CONTEXT":{"a":[1,{"b":null}]},"SKIP_ROUTING":"true","k":1.5e300}}`,
		`{"groupName":"x","groupMemberList":["u1"],"metadata":{"KM_CHAT_CONTEXT":"{\"a\":1}"}}`,
		`{"groupName":"x","groupMemberList":["u1"],"teamId":-9223372036854775808,"clientGroupId":"a b"}`,
		`{"groupName":"\u0000","groupMemberList":[null,""]}`,
		`{"groupMemberList":{}}`, `[]`, `null`, `"x"`, `{"type":1e99}`, ``,
	} {
		f.Add(seed)
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, e, "/rest/ws/group/conversation", body, nil)
	})
}

func FuzzSendMessageBody(f *testing.F) {
	e := newEnv(f)
	conv, err := e.svc.StartConversation(context.Background(), e.actor, service.NewConversation{Contact: service.ContactInput{UserID: contactUser}})
	if err != nil {
		f.Fatal(err)
	}
	g := conv.ID
	for _, seed := range []string{
		`{"groupId":"` + g + `","message":"hi"}`,
		`{"groupId":"` + g + `","message":"hi","fromUserName":"agent@example.com"}`,
		`{"groupId":"` + g + `","message":"{\"lat\":1,\"lon\":2}","contentType":2}`,
		`{"groupId":"` + g + `","message":"{\"lat\":1e999,\"lon\":2}","contentType":2}`,
		`{"groupId":"` + g + `","message":"","metadata":{"templateId":"3","payload":[{"type":"link"}]}}`,
		`{"groupId":"` + g + `","message":"x","contentType":-1}`,
		`{"groupId":12,"message":"x"}`, `{"clientGroupId":"7","message":"x"}`,
		`{"groupId":"` + g + `","message":"\ud800"}`,
		`{}`, `[]`, `{"groupId":`, ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, e, "/rest/ws/message/v2/send", body, map[string]string{"Of-User-Id": contactUser})
	})
}
