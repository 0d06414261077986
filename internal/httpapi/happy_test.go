package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

func id(v string) map[string]string { return map[string]string{"id": v} }

// TestWalkEveryRoute goes through every route of the table with a request
// that should succeed. Each answer is validated against openapi.json by
// env.call; at the end, every route must have answered 2xx at least once.
func TestWalkEveryRoute(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	owner := cookie(w.owner)

	e.must(200, req{route: "GET /healthz"})
	e.must(200, req{route: "GET /readyz"})
	e.must(200, req{route: "GET /api/v1/openapi.json"})
	e.must(200, req{route: "GET /api/v1/auth/me", cred: owner})
	e.must(200, req{route: "GET /api/v1/auth/me", cred: key(w.key)})

	e.must(200, req{route: "GET /api/v1/agents", cred: owner})
	e.must(200, req{route: "GET /api/v1/agents/{id}", params: id(w.agent.agent.ID), cred: key(w.key)})
	e.must(200, req{route: "PUT /api/v1/agents/{id}/presence", params: id(w.agent.agent.ID), cred: cookie(w.agent), body: map[string]string{"status": "online"}})

	e.must(200, req{route: "GET /api/v1/teams", cred: owner})
	e.must(200, req{route: "GET /api/v1/teams/{id}", params: id(w.team.ID), cred: owner})

	e.must(200, req{route: "GET /api/v1/teams/{id}/rules", params: id(w.team.ID), cred: owner})
	e.must(200, req{route: "PUT /api/v1/teams/{id}/rules", params: id(w.team.ID), cred: owner, body: map[string]any{"mode": "automatic_assignment", "businessHours": map[string]any{"timeZone": "Europe/Lisbon", "weekly": map[string]any{"friday": []map[string]string{{"start": "22:00", "end": "06:00"}}}}}})

	e.must(200, req{route: "GET /api/v1/bots", cred: cookie(w.agent)})
	e.must(200, req{route: "GET /api/v1/bots/{id}", params: id(w.bot.ID), cred: owner})
	e.must(200, req{route: "PATCH /api/v1/bots/{id}", params: id(w.bot.ID), cred: owner, body: map[string]any{"autoHandoff": true, "handleAllNewConversations": true}})
	var spare botJSON
	e.must(201, req{route: "POST /api/v1/bots", cred: owner, body: map[string]any{"name": "Spare", "type": "webhook", "webhook": map[string]any{"url": "https://spare.example.com"}}}).json(t, &spare)
	e.must(204, req{route: "DELETE /api/v1/bots/{id}", params: id(spare.ID), cred: key(w.key)})
	lexSrv := lexlocaltest.Start(t, lexlocaltest.Brain)
	var lexBot botJSON
	e.must(201, req{route: "POST /api/v1/bots", cred: owner, body: map[string]any{"name": "Lexi", "type": "lex", "lex": lexForm(lexSrv, nil)}}).json(t, &lexBot)
	e.must(200, req{route: "POST /api/v1/bots/{id}/validate", params: id(lexBot.ID), cred: owner})
	e.must(200, req{route: "POST /api/v1/lex/discover", cred: key(w.key), body: map[string]any{
		"region": lexSrv.Region, "accessKeyId": lexSrv.AccessKeyID, "secretAccessKey": lexSrv.SecretAccessKey, "endpoint": lexSrv.URL}})
	e.must(200, req{route: "GET /api/v1/rules", cred: key(w.key)})
	e.must(200, req{route: "PUT /api/v1/rules", cred: owner, body: map[string]any{"mode": "automatic_assignment", "botRouting": true, "handleAllBotId": w.bot.ID, "defaultAgentId": w.agent.agent.ID, "autoResolveMinutes": 60, "welcome": map[string]string{"en": "Hi!"}}})

	e.must(200, req{route: "GET /api/v1/conversations", cred: owner, query: "status=open&limit=10"})
	e.must(200, req{route: "GET /api/v1/conversations/{id}", params: id(w.conv.ID), cred: owner})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/assignee", params: id(w.conv.ID), cred: key(w.key), body: map[string]any{"assignee": map[string]string{"type": "agent", "id": w.agent.agent.ID}}})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/takeover", params: id(w.conv.ID), cred: cookie(w.agent), body: map[string]any{}})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/assign", params: id(w.conv.ID), cred: owner, body: map[string]any{"botId": w.bot.ID}})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/assign", params: id(w.conv.ID), cred: key(w.key), body: map[string]any{"teamId": w.team.ID}})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/talk-to-human", params: id(w.conv.ID), cred: owner})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/status", params: id(w.conv.ID), cred: owner, body: map[string]any{"status": "resolved"}})
	e.must(200, req{route: "GET /api/v1/conversations/{id}/messages", params: id(w.conv.ID), cred: owner, query: "afterSeq=0&limit=10"})
	e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: id(w.conv.ID), cred: cookie(w.agent), body: map[string]any{"text": "hi, how can I help?"}})
	e.must(200, req{route: "POST /api/v1/conversations/{id}/csat", params: id(w.conv.ID), cred: key(w.key), body: map[string]any{"rating": 9}})
	e.must(200, req{route: "GET /api/v1/analytics/summary", cred: owner})

	e.must(200, req{route: "GET /api/v1/contacts/{id}", params: id(w.contact), cred: owner})
	e.must(200, req{route: "PATCH /api/v1/contacts/{id}", params: id(w.contact), cred: owner, body: map[string]any{"language": "pt-BR"}})
	e.must(201, req{route: "POST /api/v1/contacts/{id}/token", params: id(w.contact), cred: key(w.key)})

	file := e.fileRequest(w.upload.URL)
	e.must(200, file)

	e.must(200, req{route: "GET /api/v1/apikeys", cred: owner})
	e.must(204, req{route: "DELETE /api/v1/apikeys/{id}", params: id(w.apiKeyID), cred: owner})

	e.must(200, req{route: "GET /api/v1/webhooks", cred: owner})
	e.must(200, req{route: "GET /api/v1/webhooks/{id}", params: id(w.webhook), cred: key(w.key)})
	e.must(200, req{route: "PATCH /api/v1/webhooks/{id}", params: id(w.webhook), cred: owner, body: map[string]any{"events": []string{"message.created", "csat.submitted"}, "basicAuth": "crm:crm-password"}})
	e.sendWebhooks(200)
	e.must(200, req{route: "GET /api/v1/webhooks/{id}/deliveries", params: id(w.webhook), cred: owner, query: "limit=5"})
	e.must(202, req{route: "POST /api/v1/webhooks/{id}/redeliver", params: id(w.webhook), cred: key(w.key), body: map[string]any{"eventId": w.event}})
	var spareHook webhookJSONView
	e.must(201, req{route: "POST /api/v1/webhooks", cred: owner, body: map[string]any{"url": "https://spare.example.com/in", "events": []string{"*"}, "enabled": false}}).json(t, &spareHook)
	e.must(204, req{route: "DELETE /api/v1/webhooks/{id}", params: id(spareHook.ID), cred: key(w.key)})

	e.walkWidget(w)
	e.walkReadState(w)
	e.walkDashboard(w)
	e.walkCannedReplies(w)
	e.must(204, req{route: "POST /api/v1/auth/password", cred: cookie(w.agent), body: map[string]string{"currentPassword": "agent-password", "newPassword": "a-new-password"}})
	e.login("agent@example.com", "a-new-password")
	e.must(204, req{route: "POST /api/v1/auth/logout", cred: owner})
	e.must(200, req{route: "GET /metrics"})

	for _, rt := range routes() {
		if _, ok := e.covered.Load(rt.pattern()); !ok {
			t.Errorf("the walk never got a 2xx from %s", rt.pattern())
		}
	}
	checkNoSecretsLogged(t, e, w)
}

// fileRequest turns a signed absolute file URL into a req for env.call.
func (e *env) fileRequest(raw string) req {
	e.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/files/"), "/")
	if len(parts) != 2 || !strings.HasPrefix(raw, e.srv.URL+"/files/") {
		e.t.Fatalf("unexpected file URL %q", raw)
	}
	return req{route: "GET /files/{appId}/{uploadId}", params: map[string]string{"appId": parts[0], "uploadId": parts[1]}, query: u.RawQuery}
}

func checkNoSecretsLogged(t testing.TB, e *env, w *world) {
	t.Helper()
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("the server logged nothing at all")
	}
	for what, secret := range map[string]string{
		"owner password": ownerPassword, "agent password": "agent-password", "API key": w.key, "other API key": w.other.key,
		"session token": w.owner.token, "CSRF token": w.owner.csrf, "bot header value": botSecret,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", what)
		}
	}
	if !strings.Contains(logs, `"route":"POST /api/v1/conversations/{id}/messages"`) {
		t.Errorf("request logs do not carry the route pattern")
	}
}

func TestLoginLogoutMeAndCSRF(t *testing.T) {
	e := newEnv(t)
	r := e.call(req{route: "POST /api/v1/auth/login", body: map[string]string{"email": ownerEmail, "password": "wrong-password"}})
	if r.status != 401 {
		t.Fatalf("wrong password: %d", r.status)
	}
	r = e.call(req{route: "POST /api/v1/auth/login", body: map[string]string{"email": "nobody@example.com", "password": ownerPassword}})
	if r.status != 401 {
		t.Fatalf("unknown email: %d", r.status)
	}
	r = e.must(200, req{route: "POST /api/v1/auth/login", body: map[string]string{"email": ownerEmail, "password": ownerPassword}})
	cookies := (&http.Response{Header: r.header}).Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Secure || cookies[0].Path != "/" {
		t.Fatalf("session cookie: %+v", cookies)
	}
	s := e.login(ownerEmail, ownerPassword)

	var me meResponse
	e.must(200, req{route: "GET /api/v1/auth/me", cred: cookie(s)}).json(t, &me)
	if me.Agent == nil || me.Agent.Email != ownerEmail || me.CSRFToken != s.csrf || me.Role != "owner" || me.AppID != "default" {
		t.Fatalf("me: %+v", me)
	}
	// Reads need no CSRF token; changes do, and refuse other origins.
	e.must(200, req{route: "GET /api/v1/agents", cred: cookie(s).withoutCSRF()})
	newTeam := map[string]any{"name": "Night shift"}
	e.must(403, req{route: "POST /api/v1/teams", cred: cookie(s).withoutCSRF(), body: newTeam})
	e.must(403, req{route: "POST /api/v1/teams", cred: cookie(s), header: map[string]string{auth.CSRFHeader: "not-the-token"}, body: newTeam})
	e.must(403, req{route: "POST /api/v1/teams", cred: cookie(s).from("https://evil.example"), body: newTeam})
	e.must(201, req{route: "POST /api/v1/teams", cred: cookie(s), body: newTeam})

	e.must(204, req{route: "POST /api/v1/auth/logout", cred: cookie(s)})
	e.must(401, req{route: "GET /api/v1/auth/me", cred: cookie(s)})
	// Signing in from another site is refused (login CSRF).
	e.must(403, req{route: "POST /api/v1/auth/login", header: map[string]string{"Origin": "https://evil.example"}, body: map[string]string{"email": ownerEmail, "password": ownerPassword}})
}

func TestSecureCookie(t *testing.T) {
	e := newEnv(t)
	h := New(Options{Service: e.svc, SecureCookies: true})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"`+ownerEmail+`","password":"`+ownerPassword+`"}`)))
	c := rec.Result().Cookies()
	if rec.Code != 200 || len(c) != 1 || !c[0].Secure || !c[0].HttpOnly {
		t.Fatalf("status %d, cookies %+v", rec.Code, c)
	}
}

func TestAPIKeyHeaders(t *testing.T) {
	e := newEnv(t)
	s := e.login(ownerEmail, ownerPassword)
	var k apiKeyJSON
	e.must(201, req{route: "POST /api/v1/apikeys", cred: cookie(s), body: map[string]string{"name": "ci"}}).json(t, &k)
	if k.Key == "" || !strings.Contains(k.Key, k.Prefix) {
		t.Fatalf("created key: %+v", k)
	}
	for _, c := range []cred{key(k.Key), bearer(k.Key), key(bootstrapKey), bearer(bootstrapKey)} {
		var me meResponse
		e.must(200, req{route: "GET /api/v1/auth/me", cred: c}).json(t, &me)
		if me.Agent != nil || me.Role != "admin" || me.APIKeyID == "" {
			t.Fatalf("me by key: %+v", me)
		}
		// No CSRF token is needed with a key.
		e.must(201, req{route: "POST /api/v1/conversations", cred: c, body: map[string]any{}})
	}
	var list struct{ APIKeys []apiKeyJSON }
	e.must(200, req{route: "GET /api/v1/apikeys", cred: key(k.Key)}).json(t, &list)
	for _, l := range list.APIKeys {
		if l.Key != "" {
			t.Fatal("a listed key carries its secret")
		}
	}
	e.must(401, req{route: "GET /api/v1/auth/me", cred: key("sbk_" + strings.Repeat("a", 40))})
	e.must(401, req{route: "GET /api/v1/auth/me", header: map[string]string{"Authorization": "Basic " + k.Key}})
	e.must(401, req{route: "GET /api/v1/auth/me"})
	e.must(204, req{route: "DELETE /api/v1/apikeys/{id}", params: id(k.ID), cred: key(bootstrapKey)})
	e.must(401, req{route: "GET /api/v1/auth/me", cred: bearer(k.Key)})
	// A key that was tried is the credential, even beside a valid cookie.
	e.must(401, req{route: "GET /api/v1/auth/me", cred: cookie(s), header: map[string]string{auth.APIKeyHeader: "wrong"}})
}

func TestConversationsAndMessages(t *testing.T) {
	e := newEnv(t)
	admin := key(bootstrapKey)
	var agent agentJSON
	e.must(201, req{route: "POST /api/v1/agents", cred: admin, body: map[string]string{"email": "Jo@Example.com", "name": "Jo", "password": "jo-password"}}).json(t, &agent)
	if agent.Role != "agent" || agent.Email != "jo@example.com" || agent.Presence != "offline" {
		t.Fatalf("agent: %+v", agent)
	}
	var team teamJSON
	e.must(201, req{route: "POST /api/v1/teams", cred: admin, body: map[string]any{"name": "Sales", "agentIds": []string{agent.ID}}}).json(t, &team)
	var conv conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: admin, body: map[string]any{
		"contact": map[string]any{"userId": "u-42", "name": "Ann", "email": "ann@example.com", "language": "en", "chatContext": map[string]any{"plan": "gold"}},
		"teamId":  team.ID, "skipRouting": true, "assignee": map[string]string{"type": "agent", "id": agent.ID},
		"metadata": map[string]any{"source": "web", "n": 3},
	}}).json(t, &conv)
	if conv.Status != 0 || conv.StatusName != "open" || conv.Assignee == nil || conv.Assignee.ID != agent.ID || conv.TeamID == nil || *conv.TeamID != team.ID || conv.Metadata["n"] != "3" || conv.LastSeq != 0 {
		t.Fatalf("conversation: %+v", conv)
	}
	msgs := req{route: "POST /api/v1/conversations/{id}/messages", params: id(conv.ID), cred: admin}

	send := msgs
	send.body = map[string]any{"text": "where is my order?", "clientKey": "k-1", "sender": map[string]string{"type": "contact"}}
	var first, again messageJSON
	e.must(201, send).json(t, &first)
	e.must(200, send).json(t, &again)
	if first.ID != again.ID || first.Seq != again.Seq || first.Seq != 1 || first.Sender.ID != conv.ContactID {
		t.Fatalf("clientKey repeat: first %+v, again %+v", first, again)
	}

	jo := e.login("jo@example.com", "jo-password")
	asAgent := msgs
	asAgent.cred = cookie(jo)
	asAgent.body = map[string]any{"text": "let me check", "metadata": map[string]string{"templateId": "6", "payload": `[{"title":"yes"}]`}}
	var reply messageJSON
	e.must(201, asAgent).json(t, &reply)
	if reply.Seq != 2 || reply.Sender.Type != "agent" || reply.Sender.ID != agent.ID || reply.Metadata["templateId"] != "6" {
		t.Fatalf("agent reply: %+v", reply)
	}
	asAgent.body = map[string]any{"text": "x", "sender": map[string]string{"type": "contact"}}
	e.must(403, asAgent)

	loc := msgs
	loc.body = map[string]any{"contentType": 2, "location": map[string]float64{"lat": 52.52, "lon": 13.405}, "sender": map[string]string{"type": "contact"}}
	var locMsg messageJSON
	e.must(201, loc).json(t, &locMsg)
	if locMsg.ContentType != 2 || locMsg.Location == nil || locMsg.Location.Lat != 52.52 {
		t.Fatalf("location message: %+v", locMsg)
	}

	up := e.uploadFile(admin, "photo.png", "image/png", pngBytes())
	if up.MimeType != "image/png" || up.Size != int64(len(pngBytes())) || up.Name != "photo.png" {
		t.Fatalf("upload: %+v", up)
	}
	att := msgs
	att.body = map[string]any{"attachments": []map[string]string{{"uploadId": up.ID}}, "sender": map[string]string{"type": "agent", "id": agent.ID}}
	var attMsg messageJSON
	e.must(201, att).json(t, &attMsg)
	if attMsg.ContentType != 1 || len(attMsg.Attachments) != 1 || attMsg.Attachments[0].MimeType != "image/png" || attMsg.Attachments[0].Size != up.Size {
		t.Fatalf("attachment message: %+v", attMsg)
	}

	var list struct{ Messages []messageJSON }
	e.must(200, req{route: "GET /api/v1/conversations/{id}/messages", params: id(conv.ID), cred: admin, query: "afterSeq=1"}).json(t, &list)
	if len(list.Messages) != 3 || list.Messages[0].Seq != 2 || list.Messages[2].ID != attMsg.ID {
		t.Fatalf("messages after 1: %+v", list.Messages)
	}
	e.must(200, req{route: "GET /api/v1/conversations/{id}/messages", params: id(conv.ID), cred: admin, query: "afterSeq=1&limit=1"}).json(t, &list)
	if len(list.Messages) != 1 || list.Messages[0].Seq != 2 {
		t.Fatalf("limit 1: %+v", list.Messages)
	}
	e.must(200, req{route: "GET /api/v1/conversations/{id}", params: id(conv.ID), cred: admin}).json(t, &conv)
	if conv.LastSeq != 4 {
		t.Fatalf("lastSeq = %d, want 4", conv.LastSeq)
	}

	// The signed link downloads the file; altered or expired, it does not.
	link := attMsg.Attachments[0].URL
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != string(pngBytes()) || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	e.must(200, e.fileRequest(link))
	tampered := e.fileRequest(link)
	tampered.query = strings.Replace(tampered.query, "sig=", "sig=A", 1)
	e.must(404, tampered)
	otherFile := e.fileRequest(link)
	otherFile.params["uploadId"] = otherID(up.ID)
	e.must(404, otherFile)
	e.clock.Add(25 * time.Hour)
	e.must(404, e.fileRequest(link))
}

func TestContactPatchMergesChatContext(t *testing.T) {
	e := newEnv(t)
	admin := key(bootstrapKey)
	var conv conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: admin, body: map[string]any{"contact": map[string]any{"name": "Ann", "chatContext": map[string]any{"plan": "gold", "seats": 3}}}}).json(t, &conv)
	var c contactJSON
	e.must(200, req{route: "PATCH /api/v1/contacts/{id}", params: id(conv.ContactID), cred: admin, body: map[string]any{
		"email": "ann@example.com", "chatContext": map[string]any{"seats": 5, "plan": nil, "region": "eu"},
	}}).json(t, &c)
	if c.Name != "Ann" || c.Email != "ann@example.com" || string(c.ChatContext) != `{"region":"eu","seats":5}` {
		t.Fatalf("patched contact: %+v, chatContext %s", c, c.ChatContext)
	}
	e.must(200, req{route: "GET /api/v1/contacts/{id}", params: id(conv.ContactID), cred: admin}).json(t, &c)
	if string(c.ChatContext) != `{"region":"eu","seats":5}` {
		t.Fatalf("stored chatContext %s", c.ChatContext)
	}
}

func TestPaginationWalksAllConversations(t *testing.T) {
	e := newEnv(t)
	admin := key(bootstrapKey)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		var c conversationJSON
		e.must(201, req{route: "POST /api/v1/conversations", cred: admin, body: map[string]any{}}).json(t, &c)
		want[c.ID] = true
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		var page conversationPageJSON
		e.must(200, req{route: "GET /api/v1/conversations", cred: admin, query: "limit=3&cursor=" + url.QueryEscape(cursor)}).json(t, &page)
		pages++
		for _, c := range page.Conversations {
			if got[c.ID] {
				t.Fatalf("conversation %s on two pages", c.ID)
			}
			got[c.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(got) != len(want) || pages != 3 {
		t.Fatalf("walked %d conversations in %d pages, want %d in 3", len(got), pages, len(want))
	}
	e.must(400, req{route: "GET /api/v1/conversations", cred: admin, query: "cursor=not*a*cursor"})
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	admin := key(w.key)
	agentID := w.agent.agent.ID
	var assigned conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: admin, body: map[string]any{"assignee": map[string]string{"type": "agent", "id": agentID}, "skipRouting": true, "teamId": w.team.ID}}).json(t, &assigned)
	count := func(query string) int {
		var page conversationPageJSON
		e.must(200, req{route: "GET /api/v1/conversations", cred: admin, query: query}).json(t, &page)
		return len(page.Conversations)
	}
	for query, want := range map[string]int{
		"":                          3,
		"assignee=none":             2,
		"assignee=agent":            1,
		"assignee=agent:" + agentID: 1,
		"assignee=bot":              0,
		"teamId=" + w.team.ID:       1,
		"contactId=" + w.contact:    2, // the seed's two conversations of user-1
		"status=open":               2,
		"status=0":                  2,
		"status=resolved":           1,
	} {
		if got := count(query); got != want {
			t.Errorf("?%s: %d conversations, want %d", query, got, want)
		}
	}
	for _, q := range []string{"assignee=robot", "status=closed", "limit=x", "limit=-1", "limit=1000", "limit=201", "teamId=" + url.QueryEscape("a/b")} {
		r := e.must(400, req{route: "GET /api/v1/conversations", cred: admin, query: q})
		if _, d := r.errorCode(t); d["field"] == nil {
			t.Errorf("?%s: no details.field in %s", q, r.body)
		}
	}
}

func TestStatusTransitions(t *testing.T) {
	e := newEnv(t)
	admin := key(bootstrapKey)
	var c conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: admin, body: map[string]any{}}).json(t, &c)
	change := func(status any, want int) conversationJSON {
		t.Helper()
		var out conversationJSON
		r := e.must(want, req{route: "POST /api/v1/conversations/{id}/status", params: id(c.ID), cred: admin, body: map[string]any{"status": status}})
		if want == 200 {
			r.json(t, &out)
		}
		return out
	}
	if got := change("resolved", 200); got.Status != 2 || got.StatusName != "resolved" {
		t.Fatalf("resolve: %+v", got)
	}
	change("waiting", 409)
	change(7, 409)
	if got := change(0, 200); got.StatusName != "open" {
		t.Fatalf("reopen by number: %+v", got)
	}
	if got := change("7", 200); got.StatusName != "waiting" {
		t.Fatalf("queue by numeric string: %+v", got)
	}
	change(5, 400)
	change("closed", 400)
	e.must(400, req{route: "POST /api/v1/conversations/{id}/status", params: id(c.ID), cred: admin, body: map[string]any{}})
	// Reassignment: to nobody, explicitly.
	var un conversationJSON
	e.must(200, req{route: "POST /api/v1/conversations/{id}/assignee", params: id(c.ID), cred: admin, body: `{"assignee":null}`}).json(t, &un)
	if un.Assignee != nil {
		t.Fatalf("unassigned: %+v", un)
	}
	e.must(400, req{route: "POST /api/v1/conversations/{id}/assignee", params: id(c.ID), cred: admin, body: `{}`})
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	e.must(200, req{route: "GET /api/v1/conversations/{id}", params: id(w.conv.ID), cred: key(w.key)})
	r := e.must(200, req{route: "GET /metrics"})
	metrics := string(r.body)
	if !strings.Contains(metrics, `switchboard_http_requests_total{code="200",route="GET /api/v1/conversations/{id}"}`) {
		t.Errorf("metrics lack the route-pattern series:\n%s", metrics)
	}
	if strings.Contains(metrics, w.conv.ID) {
		t.Errorf("a conversation id leaked into metric labels")
	}
	if !strings.Contains(metrics, `switchboard_http_request_duration_seconds_bucket{class="2xx",route="POST /api/v1/conversations"`) {
		t.Errorf("metrics lack the latency histogram")
	}

	// Not ready: 503 with the error shape, and the cause not revealed.
	h := New(Options{Service: e.svc, Ready: func(context.Context) error { return errors.New("dial tcp 10.0.0.7:5432: refused") }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Fatalf("readyz when not ready: %d %s", rec.Code, rec.Body)
	}
	e.spec.checkResponse(t, "GET /readyz", resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()})
}

func TestUnroutedAndPanics(t *testing.T) {
	e := newEnv(t)
	r := e.must(404, req{route: "GET /api/v1/nothing-here"})
	if code, _ := r.errorCode(t); code != "not_found" {
		t.Fatalf("unknown route: %s", r.body)
	}
	r = e.must(405, req{route: "DELETE /api/v1/agents", cred: key(bootstrapKey)})
	if code, _ := r.errorCode(t); code != "method_not_allowed" || !strings.Contains(r.header.Get("Allow"), "POST") {
		t.Fatalf("wrong method: %s, Allow %q", r.body, r.header.Get("Allow"))
	}

	var logs syncBuffer
	reg := prometheus.NewRegistry()
	h := New(Options{
		Service:  e.svc,
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
		Registry: reg,
		Mount: map[string]http.Handler{"/boom/": http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("kaboom")
		})},
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) || !strings.Contains(logs.String(), "kaboom") {
		t.Fatalf("panic: %d %s; logs %s", rec.Code, rec.Body, logs.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `switchboard_http_requests_total{code="500",route="/boom/"}`) {
		t.Fatalf("mounted route not instrumented:\n%s", rec.Body)
	}
	// A second handler on the same registry shares the metrics.
	New(Options{Service: e.svc, Registry: reg})
}

// otherID returns an id of the same form that differs from id in its last
// character (whatever that character is).
func otherID(id string) string {
	last := "z"
	if strings.HasSuffix(id, "z") {
		last = "y"
	}
	return id[:len(id)-1] + last
}
