package kmcompat_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/kmcompat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
)

const (
	apiKey      = servicetest.APIKey
	ownerEmail  = servicetest.OwnerEmail
	agentEmail  = "agent@example.com"
	otherEmail  = "stranger@example.org"
	publicURL   = "https://chat.example.com"
	contactUser = "user-1"
)

// env is one app with an agent, a bot and an API key, plus a second app with
// its own key, agent, contact and conversation, to prove that nothing of it
// can be reached with the first app's key.
type env struct {
	svc     *service.Service
	store   *sqlstore.Store
	dbPath  string
	handler http.Handler
	actor   service.Actor

	agentID, botID string

	otherKey, otherConvID, otherUser, otherAgentID string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	se := servicetest.New(t, nil)
	svc, st, dbPath := se.Service, se.Store, se.DBPath
	app, err := st.GetApp(ctx, service.DefaultAppID)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, store: st, dbPath: dbPath, handler: kmcompat.New(svc, nil, publicURL)}
	e.actor = service.Actor{AppID: app.ID, Role: chat.RoleAdmin, APIKeyID: "test"}
	agent, err := svc.CreateAgent(ctx, e.actor, service.NewAgent{Email: agentEmail, Name: "Agent", Password: "agent-password"})
	if err != nil {
		t.Fatal(err)
	}
	e.agentID = agent.ID
	bot := &chat.Bot{ID: chat.NewID(), AppID: app.ID, Type: chat.BotWebhook, Name: "Bot", Enabled: true}
	if err := st.CreateBot(ctx, bot); err != nil {
		t.Fatal(err)
	}
	e.botID = bot.ID

	owner := service.Actor{AppID: app.ID, Role: chat.RoleOwner, AgentID: "owner"}
	app2, owner2, err := svc.CreateApp(ctx, owner, service.NewApp{Name: "Other", Owner: service.NewAgent{Email: otherEmail, Name: "Other", Password: "other-password"}})
	if err != nil {
		t.Fatal(err)
	}
	other := service.Actor{AppID: app2.ID, Role: chat.RoleOwner, AgentID: owner2.ID}
	_, e.otherKey, err = svc.CreateAPIKey(ctx, other, "other")
	if err != nil {
		t.Fatal(err)
	}
	e.otherAgentID, e.otherUser = owner2.ID, "other-user"
	conv, err := svc.StartConversation(ctx, other, service.NewConversation{Contact: service.ContactInput{UserID: e.otherUser}})
	if err != nil {
		t.Fatal(err)
	}
	e.otherConvID = conv.ID
	return e
}

// reply is a decoded envelope.
type reply struct {
	status int
	body   map[string]any
	raw    string
}

func (r reply) response() any { return r.body["response"] }

func (r reply) object(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.response().(map[string]any)
	if !ok {
		t.Fatalf("response is %T, not an object: %s", r.response(), r.raw)
	}
	return m
}

// do sends one request through a real server. body is sent as is when it is
// a string, and as JSON otherwise.
func (e *env) do(t testing.TB, srv *httptest.Server, method, path string, body any, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Api-Key", apiKey)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, raw)
	}
	return reply{status: resp.StatusCode, body: m, raw: string(raw)}
}

func wantSuccess(t testing.TB, r reply) {
	t.Helper()
	if r.status != http.StatusOK || r.body["status"] != "success" {
		t.Fatalf("want 200 success, got %d: %s", r.status, r.raw)
	}
	if at, _ := r.body["generatedAt"].(float64); at <= 0 {
		t.Fatalf("generatedAt missing: %s", r.raw)
	}
}

func wantField(t testing.TB, m map[string]any, key string, want any) {
	t.Helper()
	if got := m[key]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v (%T), want %v", key, got, got, want)
	}
}

func TestHappyPaths(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	ctx := context.Background()

	team, err := e.svc.CreateTeam(ctx, e.actor, service.NewTeam{Name: "Support", AgentIDs: []string{e.agentID}})
	if err != nil {
		t.Fatal(err)
	}

	// Create, with the extra fields real Kommunicate clients send.
	r := e.do(t, srv, "POST", "/rest/ws/group/conversation", map[string]any{
		"groupName":       "Order 42",
		"groupMemberList": []string{contactUser, agentEmail, e.botID},
		"agentIds":        []string{e.agentID},
		"botIds":          []string{e.botID},
		"assignee":        e.botID,
		"skipRouting":     true,
		"clientGroupId":   777,
		"type":            10,
		"teamId":          team.ID,
		"admin":           "ignored",
		"metadata": map[string]any{
			"KM_CHAT_CONTEXT": map[string]any{"plan": "pro"},
			"source":          "web",
		},
	}, nil)
	wantSuccess(t, r)
	g := r.object(t)
	groupID, _ := g["groupId"].(string)
	if groupID == "" || g["id"] != groupID {
		t.Fatalf("groupId/id: %s", r.raw)
	}
	wantField(t, g, "clientGroupId", "777")
	wantField(t, g, "name", "Order 42")
	wantField(t, g, "type", 10)
	wantField(t, g, "status", 0)
	wantField(t, g, "assignee", e.botID)
	wantField(t, g, "assigneeType", "bot")
	wantField(t, g, "userId", contactUser)
	wantField(t, g, "teamId", team.ID)
	if at, _ := g["createdAtTime"].(float64); at <= 0 {
		t.Errorf("createdAtTime = %v", g["createdAtTime"])
	}
	meta, _ := g["metadata"].(map[string]any)
	wantField(t, meta, "source", "web")
	wantField(t, meta, "KM_CHAT_CONTEXT", `{"plan":"pro"}`)
	contact, err := e.svc.ContactByUserID(ctx, e.actor, contactUser)
	if err != nil {
		t.Fatal(err)
	}
	if string(contact.ChatContext) != `{"plan":"pro"}` {
		t.Errorf("chat context = %s", contact.ChatContext)
	}

	// Send as the user, as an agent (by email, via fromUserName) and as the
	// bot (a location, with the key as a bearer token).
	r = e.do(t, srv, "POST", "/rest/ws/message/v2/send", map[string]any{
		"groupId": groupID, "message": "hello",
		"metadata": map[string]any{"templateId": "6", "payload": []any{map[string]any{"title": "Yes"}}},
	}, map[string]string{"Of-User-Id": contactUser})
	wantSuccess(t, r)
	sent := r.object(t)
	if sent["messageKey"] == "" || sent["messageKey"] != sent["key"] {
		t.Errorf("messageKey: %s", r.raw)
	}
	wantField(t, sent, "groupId", groupID)
	wantField(t, sent, "seq", 1)
	if at, _ := sent["createdAt"].(float64); at <= 0 {
		t.Errorf("createdAt = %v", sent["createdAt"])
	}
	r = e.do(t, srv, "POST", "/rest/ws/message/v2/send", map[string]any{
		"groupId": groupID, "message": "hi, how can I help?", "fromUserName": agentEmail,
	}, nil)
	wantSuccess(t, r)
	wantField(t, r.object(t), "seq", 2)
	r = e.do(t, srv, "POST", "/rest/ws/message/v2/send", map[string]any{
		"groupId": groupID, "message": `{"lat":52.5,"lon":13.4}`, "contentType": 2,
	}, map[string]string{"Of-User-Id": e.botID, "Api-Key": "", "Authorization": "Bearer " + apiKey})
	wantSuccess(t, r)
	wantField(t, r.object(t), "seq", 3)

	// List, newest first, a page at a time.
	r = e.do(t, srv, "GET", "/rest/ws/message/list?groupId="+groupID+"&pageSize=2", nil, nil)
	wantSuccess(t, r)
	list := r.object(t)
	msgs, _ := list["message"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("page 1 has %d messages: %s", len(msgs), r.raw)
	}
	m0, m1 := msgs[0].(map[string]any), msgs[1].(map[string]any)
	wantField(t, m0, "seq", 3)
	wantField(t, m0, "contentType", 2)
	wantField(t, m0, "message", `{"lat":52.5,"lon":13.4}`)
	wantField(t, m0, "from", e.botID)
	wantField(t, m0, "senderType", "bot")
	wantField(t, m0, "groupId", groupID)
	wantField(t, m1, "seq", 2)
	wantField(t, m1, "from", e.agentID)
	wantField(t, m1, "senderType", "agent")
	wantField(t, m1, "message", "hi, how can I help?")
	if at, _ := m1["createdAtTime"].(float64); at <= 0 || m1["key"] == "" {
		t.Errorf("key/createdAtTime: %v", m1)
	}
	users, _ := list["userDetails"].([]any)
	groups, _ := list["groupFeeds"].([]any)
	if len(users) != 1 || len(groups) != 1 {
		t.Fatalf("userDetails/groupFeeds: %s", r.raw)
	}
	wantField(t, users[0].(map[string]any), "userId", contactUser)
	wantField(t, groups[0].(map[string]any), "groupId", groupID)
	r = e.do(t, srv, "GET", "/rest/ws/message/list?groupId="+groupID+"&startIndex=2&pageSize=2", nil, nil)
	wantSuccess(t, r)
	msgs, _ = r.object(t)["message"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("page 2 has %d messages: %s", len(msgs), r.raw)
	}
	first := msgs[0].(map[string]any)
	wantField(t, first, "seq", 1)
	wantField(t, first, "from", contactUser)
	wantField(t, first, "senderType", "contact")
	wantField(t, first, "message", "hello")
	wantField(t, first["metadata"].(map[string]any), "payload", `[{"title":"Yes"}]`)
	r = e.do(t, srv, "GET", "/rest/ws/message/list?groupId="+groupID+"&startIndex=3", nil, nil)
	wantSuccess(t, r)
	if msgs, _ := r.object(t)["message"].([]any); len(msgs) != 0 {
		t.Fatalf("past the end: %s", r.raw)
	}

	// Status and assignee.
	r = e.do(t, srv, "PATCH", "/rest/ws/group/status/change?groupId="+groupID+"&status=2", nil, map[string]string{"Of-User-Id": agentEmail})
	wantSuccess(t, r)
	if r.response() != "updated" {
		t.Errorf("status change answered %v", r.response())
	}
	conv, err := e.svc.GetConversation(ctx, e.actor, groupID)
	if err != nil || conv.Status != chat.StatusResolved {
		t.Fatalf("status after change: %v %v", conv, err)
	}
	assign := "/rest/ws/group/assignee/change?groupId=" + groupID + "&assignee=" + agentEmail + "&takeOverFromBot=true&sendNotifyMessage=false"
	r = e.do(t, srv, "PATCH", assign, nil, nil)
	wantSuccess(t, r)
	if r.response() != "updated" {
		t.Errorf("assignee change answered %v", r.response())
	}
	r = e.do(t, srv, "PATCH", assign, nil, nil)
	wantSuccess(t, r)
	if r.response() != "already updated" {
		t.Errorf("repeated assignee change answered %v", r.response())
	}
	conv, err = e.svc.GetConversation(ctx, e.actor, groupID)
	if err != nil || conv.Assignee == nil || *conv.Assignee != (chat.Assignee{Type: chat.AssigneeAgent, ID: e.agentID}) {
		t.Fatalf("assignee after change: %+v %v", conv, err)
	}

	// Users: update, then read back.
	r = e.do(t, srv, "POST", "/rest/ws/user/update", map[string]any{
		"displayName": "Ada", "email": "Ada@Example.com", "imageLink": "https://example.com/a.png",
		"metadata": map[string]any{"kmUserLanguageCode": "pt-BR", "KM_CHAT_CONTEXT": `{"tier":"gold"}`, "city": "Lisbon"},
	}, map[string]string{"Of-User-Id": contactUser})
	wantSuccess(t, r)
	if r.response() != "success" {
		t.Errorf("update answered %v", r.response())
	}
	r = e.do(t, srv, "POST", "/rest/ws/user/v2/detail", map[string]any{"userIdList": []string{contactUser, "nobody", "x@y.z", contactUser}}, nil)
	wantSuccess(t, r)
	details, ok := r.response().([]any)
	if !ok || len(details) != 1 {
		t.Fatalf("user details: %s", r.raw)
	}
	u := details[0].(map[string]any)
	wantField(t, u, "userId", contactUser)
	wantField(t, u, "userName", "Ada")
	wantField(t, u, "displayName", "Ada")
	wantField(t, u, "email", "ada@example.com")
	wantField(t, u, "language", "pt-BR")
	wantField(t, u, "connected", false)
	umeta := u["metadata"].(map[string]any)
	wantField(t, umeta, "kmUserLanguageCode", "pt-BR")
	var cc map[string]string
	if err := json.Unmarshal([]byte(umeta["KM_CHAT_CONTEXT"].(string)), &cc); err != nil {
		t.Fatal(err)
	}
	if cc["plan"] != "pro" || cc["tier"] != "gold" || cc["city"] != "Lisbon" {
		t.Errorf("chat context after update = %v", cc)
	}
}

// fingerprint is every row of the tables a request could change, so that a
// refused request can be shown to have changed nothing.
func (e *env) fingerprint(t testing.TB) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.dbPath+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, table := range []string{"apps", "agents", "bots", "teams", "contacts", "conversations", "messages", "uploads"} {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY rowid")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s%v\n", table, vals)
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(&b, "%s: %d rows\n", table, n)
	}
	return b.String()
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	ctx := context.Background()

	conv, err := e.svc.StartConversation(ctx, e.actor, service.NewConversation{Contact: service.ContactInput{UserID: contactUser}})
	if err != nil {
		t.Fatal(err)
	}
	g := conv.ID
	if _, err := e.svc.StartConversation(ctx, e.actor, service.NewConversation{Contact: service.ContactInput{UserID: "user-2"}}); err != nil {
		t.Fatal(err)
	}
	resolved, err := e.svc.StartConversation(ctx, e.actor, service.NewConversation{Contact: service.ContactInput{UserID: contactUser}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStatus(ctx, e.actor, resolved.ID, chat.StatusResolved); err != nil {
		t.Fatal(err)
	}
	huge := `{"groupName":"` + strings.Repeat("x", 1<<20) + `"}`
	noKey := map[string]string{"Api-Key": ""}
	badKey := map[string]string{"Api-Key": "not-a-key-of-this-installation-at-all"}
	asUser := map[string]string{"Of-User-Id": contactUser}

	const (
		create = "/rest/ws/group/conversation"
		send   = "/rest/ws/message/v2/send"
		list   = "/rest/ws/message/list"
		status = "/rest/ws/group/status/change"
		assign = "/rest/ws/group/assignee/change"
		detail = "/rest/ws/user/v2/detail"
		update = "/rest/ws/user/update"
	)
	validCreate := map[string]any{"groupName": "x", "groupMemberList": []string{"new-user"}}
	validSend := map[string]any{"groupId": g, "message": "hi"}
	cases := []struct {
		name         string
		method, path string
		body         any
		header       map[string]string
		status       int
		code         string
	}{
		{"create/no key", "POST", create, validCreate, noKey, 401, "unauthenticated"},
		{"create/wrong key", "POST", create, validCreate, badKey, 401, "unauthenticated"},
		{"create/bearer wrong key", "POST", create, validCreate, map[string]string{"Api-Key": "", "Authorization": "Bearer nope-nope-nope-nope-nope-nope"}, 401, "unauthenticated"},
		{"create/malformed", "POST", create, `{"groupName":`, nil, 400, "invalid"},
		{"create/not JSON", "POST", create, `groupName=x`, nil, 400, "invalid"},
		{"create/two values", "POST", create, `{"groupName":"x","groupMemberList":["a"]} {}`, nil, 400, "invalid"},
		{"create/oversized", "POST", create, huge, nil, 413, "too_large"},
		{"create/text body", "POST", create, validCreate, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_type"},
		{"create/groupName number", "POST", create, map[string]any{"groupName": 5, "groupMemberList": []string{"a"}}, nil, 400, "invalid"},
		{"create/members string", "POST", create, map[string]any{"groupName": "x", "groupMemberList": "a"}, nil, 400, "invalid"},
		{"create/skipRouting string", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "skipRouting": "yes"}, nil, 400, "invalid"},
		{"create/groupName missing", "POST", create, map[string]any{"groupMemberList": []string{"a"}}, nil, 400, "invalid"},
		{"create/no members", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{}}, nil, 400, "invalid"},
		{"create/only agents", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{agentEmail}}, nil, 400, "invalid"},
		{"create/two users", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a", "b"}}, nil, 400, "invalid"},
		{"create/user id with a space", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"some one"}}, nil, 400, "invalid"},
		{"create/unknown assignee", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "assignee": "ghost"}, nil, 400, "invalid"},
		{"create/other app's agent", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "assignee": otherEmail}, nil, 400, "invalid"},
		{"create/other app's agent id", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "metadata": map[string]any{"CONVERSATION_ASSIGNEE": e.otherAgentID}}, nil, 400, "invalid"},
		{"create/unknown agentIds", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "agentIds": []string{"ghost"}}, nil, 400, "invalid"},
		{"create/bot in agentIds", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "agentIds": []string{e.botID}}, nil, 400, "invalid"},
		{"create/type", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "type": 1}, nil, 400, "invalid"},
		{"create/chat context array", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "metadata": map[string]any{"KM_CHAT_CONTEXT": []int{1}}}, nil, 400, "invalid"},
		{"create/chat context text", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "metadata": map[string]any{"KM_CHAT_CONTEXT": "plan=pro"}}, nil, 400, "invalid"},
		{"create/SKIP_ROUTING", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "metadata": map[string]any{"SKIP_ROUTING": "maybe"}}, nil, 400, "invalid"},
		{"create/metadata array", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "metadata": []int{1}}, nil, 400, "invalid"},
		{"create/unknown team", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "teamId": 12}, nil, 400, "invalid"},
		{"create/clientGroupId object", "POST", create, map[string]any{"groupName": "x", "groupMemberList": []string{"a"}, "clientGroupId": map[string]any{}}, nil, 400, "invalid"},
		{"create/GET", "GET", create, nil, nil, 405, "invalid"},

		{"send/no key", "POST", send, validSend, map[string]string{"Api-Key": "", "Of-User-Id": contactUser}, 401, "unauthenticated"},
		{"send/wrong key", "POST", send, validSend, map[string]string{"Api-Key": "x", "Of-User-Id": contactUser}, 401, "unauthenticated"},
		{"send/other app's key", "POST", send, validSend, map[string]string{"Api-Key": e.otherKey, "Of-User-Id": contactUser}, 404, "not_found"},
		{"send/malformed", "POST", send, `{"groupId":`, asUser, 400, "invalid"},
		{"send/oversized", "POST", send, `{"groupId":"` + g + `","message":"` + strings.Repeat("y", 1<<20) + `"}`, asUser, 413, "too_large"},
		{"send/groupId bool", "POST", send, map[string]any{"groupId": true, "message": "hi"}, asUser, 400, "invalid"},
		{"send/groupId float", "POST", send, map[string]any{"groupId": 1.5, "message": "hi"}, asUser, 400, "invalid"},
		{"send/message number", "POST", send, map[string]any{"groupId": g, "message": 5}, asUser, 400, "invalid"},
		{"send/contentType string", "POST", send, map[string]any{"groupId": g, "message": "hi", "contentType": "0"}, asUser, 400, "invalid"},
		{"send/metadata array", "POST", send, map[string]any{"groupId": g, "message": "hi", "metadata": []int{}}, asUser, 400, "invalid"},
		{"send/unknown group", "POST", send, map[string]any{"groupId": chat.NewID(), "message": "hi"}, asUser, 404, "not_found"},
		{"send/numeric group", "POST", send, map[string]any{"groupId": 123456, "message": "hi"}, asUser, 404, "not_found"},
		{"send/other app's group", "POST", send, map[string]any{"groupId": e.otherConvID, "message": "hi"}, map[string]string{"Of-User-Id": e.otherUser}, 404, "not_found"},
		{"send/no groupId", "POST", send, map[string]any{"message": "hi"}, asUser, 400, "invalid"},
		{"send/clientGroupId only", "POST", send, map[string]any{"clientGroupId": "777", "message": "hi"}, asUser, 400, "invalid"},
		{"send/no sender", "POST", send, validSend, nil, 400, "invalid"},
		{"send/another user", "POST", send, validSend, map[string]string{"Of-User-Id": "user-2"}, 400, "invalid"},
		{"send/other app's agent", "POST", send, validSend, map[string]string{"Of-User-Id": otherEmail}, 400, "invalid"},
		{"send/senders disagree", "POST", send, map[string]any{"groupId": g, "message": "hi", "fromUserName": agentEmail}, asUser, 400, "invalid"},
		{"send/empty", "POST", send, map[string]any{"groupId": g}, asUser, 400, "invalid"},
		{"send/attachment", "POST", send, map[string]any{"groupId": g, "message": "f", "contentType": 1}, asUser, 400, "invalid"},
		{"send/system", "POST", send, map[string]any{"groupId": g, "message": "f", "contentType": 10}, asUser, 400, "invalid"},
		{"send/unknown content type", "POST", send, map[string]any{"groupId": g, "message": "f", "contentType": 99}, asUser, 400, "invalid"},
		{"send/bad location", "POST", send, map[string]any{"groupId": g, "message": "Berlin", "contentType": 2}, asUser, 400, "invalid"},
		{"send/off-globe location", "POST", send, map[string]any{"groupId": g, "message": `{"lat":91,"lon":0}`, "contentType": 2}, asUser, 400, "invalid"},
		{"send/GET", "GET", send, nil, asUser, 405, "invalid"},

		{"list/no key", "GET", list + "?groupId=" + g, nil, noKey, 401, "unauthenticated"},
		{"list/unknown group", "GET", list + "?groupId=" + chat.NewID(), nil, nil, 404, "not_found"},
		{"list/bad group id", "GET", list + "?groupId=%3Cscript%3E", nil, nil, 404, "not_found"},
		{"list/other app's group", "GET", list + "?groupId=" + e.otherConvID, nil, nil, 404, "not_found"},
		{"list/no groupId", "GET", list, nil, nil, 400, "invalid"},
		{"list/pageSize 0", "GET", list + "?groupId=" + g + "&pageSize=0", nil, nil, 400, "invalid"},
		{"list/pageSize huge", "GET", list + "?groupId=" + g + "&pageSize=100000", nil, nil, 400, "invalid"},
		{"list/pageSize text", "GET", list + "?groupId=" + g + "&pageSize=ten", nil, nil, 400, "invalid"},
		{"list/startIndex negative", "GET", list + "?groupId=" + g + "&startIndex=-1", nil, nil, 400, "invalid"},
		{"list/POST", "POST", list + "?groupId=" + g, `{}`, nil, 405, "invalid"},

		{"status/no key", "PATCH", status + "?groupId=" + g + "&status=2", nil, noKey, 401, "unauthenticated"},
		{"status/wrong key", "PATCH", status + "?groupId=" + g + "&status=2", nil, badKey, 401, "unauthenticated"},
		{"status/unknown group", "PATCH", status + "?groupId=" + chat.NewID() + "&status=2", nil, nil, 404, "not_found"},
		{"status/other app's group", "PATCH", status + "?groupId=" + e.otherConvID + "&status=2", nil, nil, 404, "not_found"},
		{"status/no groupId", "PATCH", status + "?status=2", nil, nil, 400, "invalid"},
		{"status/missing", "PATCH", status + "?groupId=" + g, nil, nil, 400, "invalid"},
		{"status/1", "PATCH", status + "?groupId=" + g + "&status=1", nil, nil, 400, "invalid"},
		{"status/5", "PATCH", status + "?groupId=" + g + "&status=5", nil, nil, 400, "invalid"},
		{"status/-1", "PATCH", status + "?groupId=" + g + "&status=-1", nil, nil, 400, "invalid"},
		{"status/name", "PATCH", status + "?groupId=" + g + "&status=resolved", nil, nil, 400, "invalid"},
		{"status/forbidden move", "PATCH", status + "?groupId=" + resolved.ID + "&status=6", nil, nil, 409, "conflict"},
		{"status/POST", "POST", status + "?groupId=" + g + "&status=2", `{}`, nil, 405, "invalid"},

		{"assignee/no key", "PATCH", assign + "?groupId=" + g + "&assignee=" + e.agentID, nil, noKey, 401, "unauthenticated"},
		{"assignee/unknown group", "PATCH", assign + "?groupId=" + chat.NewID() + "&assignee=" + e.agentID, nil, nil, 404, "not_found"},
		{"assignee/other app's group", "PATCH", assign + "?groupId=" + e.otherConvID + "&assignee=" + e.agentID, nil, nil, 404, "not_found"},
		{"assignee/no groupId", "PATCH", assign + "?assignee=" + e.agentID, nil, nil, 400, "invalid"},
		{"assignee/missing", "PATCH", assign + "?groupId=" + g, nil, nil, 400, "invalid"},
		{"assignee/unknown", "PATCH", assign + "?groupId=" + g + "&assignee=ghost", nil, nil, 400, "invalid"},
		{"assignee/other app's agent", "PATCH", assign + "?groupId=" + g + "&assignee=" + otherEmail, nil, nil, 400, "invalid"},
		{"assignee/other app's agent id", "PATCH", assign + "?groupId=" + g + "&assignee=" + e.otherAgentID, nil, nil, 400, "invalid"},
		{"assignee/takeOverFromBot yes", "PATCH", assign + "?groupId=" + g + "&assignee=" + e.agentID + "&takeOverFromBot=yes", nil, nil, 400, "invalid"},
		{"assignee/take over to a bot", "PATCH", assign + "?groupId=" + g + "&assignee=" + e.botID + "&takeOverFromBot=true", nil, nil, 400, "invalid"},
		{"assignee/GET", "GET", assign + "?groupId=" + g + "&assignee=" + e.agentID, nil, nil, 405, "invalid"},

		{"detail/no key", "POST", detail, map[string]any{"userIdList": []string{contactUser}}, noKey, 401, "unauthenticated"},
		{"detail/malformed", "POST", detail, `{"userIdList":[`, nil, 400, "invalid"},
		{"detail/oversized", "POST", detail, `{"userIdList":["` + strings.Repeat("z", 1<<20) + `"]}`, nil, 413, "too_large"},
		{"detail/string", "POST", detail, map[string]any{"userIdList": contactUser}, nil, 400, "invalid"},
		{"detail/numbers", "POST", detail, map[string]any{"userIdList": []int{1, 2}}, nil, 400, "invalid"},
		{"detail/empty", "POST", detail, map[string]any{"userIdList": []string{}}, nil, 400, "invalid"},
		{"detail/missing", "POST", detail, `{}`, nil, 400, "invalid"},
		{"detail/too many", "POST", detail, map[string]any{"userIdList": make([]string, 101)}, nil, 400, "invalid"},
		{"detail/GET", "GET", detail, nil, nil, 405, "invalid"},

		{"update/no key", "POST", update, map[string]any{"displayName": "x"}, map[string]string{"Api-Key": "", "Of-User-Id": contactUser}, 401, "unauthenticated"},
		{"update/no user", "POST", update, map[string]any{"displayName": "x"}, nil, 400, "invalid"},
		{"update/unknown user", "POST", update, map[string]any{"displayName": "x"}, map[string]string{"Of-User-Id": "ghost"}, 404, "not_found"},
		{"update/other app's user", "POST", update, map[string]any{"displayName": "x"}, map[string]string{"Of-User-Id": e.otherUser}, 404, "not_found"},
		{"update/malformed", "POST", update, `{"displayName":}`, asUser, 400, "invalid"},
		{"update/oversized", "POST", update, `{"displayName":"` + strings.Repeat("n", 1<<20) + `"}`, asUser, 413, "too_large"},
		{"update/displayName number", "POST", update, map[string]any{"displayName": 7}, asUser, 400, "invalid"},
		{"update/displayName multiline", "POST", update, map[string]any{"displayName": "a\nb"}, asUser, 400, "invalid"},
		{"update/email", "POST", update, map[string]any{"email": "not an email"}, asUser, 400, "invalid"},
		{"update/language", "POST", update, map[string]any{"metadata": map[string]any{"kmUserLanguageCode": "!!"}}, asUser, 400, "invalid"},
		{"update/chat context", "POST", update, map[string]any{"metadata": map[string]any{"KM_CHAT_CONTEXT": "[1]"}}, asUser, 400, "invalid"},
		{"update/GET", "GET", update, nil, asUser, 405, "invalid"},

		{"unknown path", "GET", "/rest/ws/group/list", nil, nil, 404, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.fingerprint(t)
			r := e.do(t, srv, tc.method, tc.path, tc.body, tc.header)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.raw)
			}
			if r.body["status"] != "error" {
				t.Fatalf(`status field %v, want "error"`, r.body["status"])
			}
			if at, _ := r.body["generatedAt"].(float64); at <= 0 {
				t.Errorf("generatedAt missing")
			}
			if _, ok := r.body["response"]; ok {
				t.Errorf("an error carries a response: %.300s", r.raw)
			}
			items, _ := r.body["errorResponse"].([]any)
			if len(items) != 1 {
				t.Fatalf("errorResponse: %.300s", r.raw)
			}
			item, _ := items[0].(map[string]any)
			if item["errorCode"] != tc.code {
				t.Errorf("errorCode %v, want %s", item["errorCode"], tc.code)
			}
			if d, _ := item["description"].(string); d == "" || item["displayMessage"] != d {
				t.Errorf("description/displayMessage: %v", item)
			}
			if _, ok := item["details"].(map[string]any); !ok {
				t.Errorf("details is not an object: %v", item)
			}
			if after := e.fingerprint(t); after != before {
				t.Errorf("the refused request changed the database")
			}
		})
	}
}

// TestFieldNamed checks that errors point at the field at fault, which is
// what makes a 400 actionable for someone porting an integration.
func TestFieldNamed(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	r := e.do(t, srv, "POST", "/rest/ws/message/v2/send", map[string]any{"groupId": true}, nil)
	items, _ := r.body["errorResponse"].([]any)
	if len(items) != 1 {
		t.Fatalf("%s", r.raw)
	}
	details, _ := items[0].(map[string]any)["details"].(map[string]any)
	if details["field"] != "groupId" {
		t.Errorf("details = %v, want field groupId", details)
	}
}
