package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/service"
)

// The widget's routes join the bad-input table here, next to their tests.
func init() {
	for route, spec := range widgetBadInputSpecs {
		badInputSpecs[route] = spec
	}
}

func tokenHeader(tok string) map[string]string { return map[string]string{ContactTokenHeader: tok} }

const visitorA = "visitor-aaaaaaaaaaaaaaaa"

var widgetBadInputSpecs = map[string]routeSpec{
	"POST /api/v1/widget/session": {
		body:      func(*world) any { return map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA} },
		wrongType: `{"appId":5,"visitorId":"visitor-aaaaaaaaaaaaaaaa"}`, field: "appId",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "unknown app", req: req{body: map[string]any{"appId": "0000000000000000000000000z", "visitorId": visitorA}}, status: 404, code: "not_found"},
				{name: "hostile app id", req: req{body: map[string]any{"appId": "../../etc", "visitorId": visitorA}}, status: 404, code: "not_found"},
				{name: "neither userId nor visitorId", req: req{body: map[string]any{"appId": service.DefaultAppID}}, status: 400, field: "visitorId"},
				{name: "short visitorId", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": "abc"}}, status: 400, field: "visitorId"},
				{name: "visitorId with odd characters", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": "aaaaaaaaaaaaaaaaaaaa<script>"}}, status: 400, field: "visitorId"},
				{name: "both ids", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "userId": "u"}}, status: 400, field: "visitorId"},
				{name: "userId in the visitors' namespace", req: req{body: map[string]any{"appId": service.DefaultAppID, "userId": "visitor:" + visitorA}}, status: 400, field: "userId"},
				{name: "userId with spaces", req: req{body: map[string]any{"appId": service.DefaultAppID, "userId": "a b"}}, status: 400, field: "userId"},
				{name: "bad email", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "email": "nope"}}, status: 400, field: "contact.email"},
				{name: "bad language", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "language": "!!"}}, status: 400, code: "invalid"},
				{name: "chat context not an object", req: req{body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "chatContext": []int{1}}}, status: 400, code: "invalid"},
			}
		},
	},
	"GET /api/v1/widget/settings": {forbidden: agentSession},
	"PUT /api/v1/widget/settings": {
		body:      func(*world) any { return map[string]any{"identityVerification": false, "themeColor": "#112233"} },
		wrongType: `{"themeColor":5}`, field: "themeColor",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "colour name", req: req{body: map[string]any{"themeColor": "red"}}, status: 400, field: "themeColor"},
				{name: "css injection", req: req{body: map[string]any{"themeColor": "#fff;background:url(x)"}}, status: 400, field: "themeColor"},
				{name: "unknown position", req: req{body: map[string]any{"position": "top"}}, status: 400, field: "position"},
			}
		},
	},
	"GET /api/v1/widget/me": {
		forbidden: staffCreds,
		extra:     forgedTokenCases(nil),
	},
	"PATCH /api/v1/widget/me": {
		body:      func(*world) any { return map[string]any{"name": "New name"} },
		wrongType: `{"name":5}`, field: "name",
		forbidden: staffCreds,
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			return append(forgedTokenCases(map[string]any{"name": "x"})(e, w),
				badCase{name: "bad language", req: req{cred: tokenOnly, header: tokenHeader(own), body: map[string]any{"language": "!!"}}, status: 400, code: "invalid"},
				badCase{name: "bad email", req: req{cred: tokenOnly, header: tokenHeader(own), body: map[string]any{"email": "x"}}, status: 400, field: "email"},
				badCase{name: "chat context not an object", req: req{cred: tokenOnly, header: tokenHeader(own), body: map[string]any{"chatContext": "x"}}, status: 400, code: "invalid"},
			)
		},
	},
	"GET /api/v1/widget/conversations": {
		forbidden: staffCreds,
		extra:     forgedTokenCases(nil),
	},
	"POST /api/v1/widget/conversations": {
		body:      func(*world) any { return map[string]any{} },
		wrongType: `{"botIds":"x"}`, field: "botIds",
		forbidden: staffCreds,
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			as := func(body map[string]any) req { return req{cred: tokenOnly, header: tokenHeader(own), body: body} }
			many := make([]string, service.MaxWidgetBotIDs+1)
			for i := range many {
				many[i] = w.bot.ID
			}
			return append(forgedTokenCases(map[string]any{})(e, w),
				badCase{name: "another app's bot", req: as(map[string]any{"botIds": []string{w.other.bot}}), status: 400, field: "botIds"},
				badCase{name: "malformed bot id", req: as(map[string]any{"botIds": []string{"../x"}}), status: 400, field: "botIds"},
				badCase{name: "too many bots", req: as(map[string]any{"botIds": many}), status: 400, field: "botIds"},
				badCase{name: "another app's team", req: as(map[string]any{"teamId": w.other.team}), status: 400, field: "teamId"},
				badCase{name: "bad metadata", req: as(map[string]any{"metadata": map[string]any{"": "x"}}), status: 400, code: "invalid"},
			)
		},
	},
	"GET /api/v1/widget/conversations/{id}/messages": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		extra: func(e *env, w *world) []badCase {
			return append(forgedTokenCases(nil)(e, w), foreignTokenCase(e, w, nil),
				badCase{name: "negative afterSeq", req: req{params: ownID(w), query: "afterSeq=-1"}, status: 400, field: "afterSeq"},
				badCase{name: "negative beforeSeq", req: req{params: ownID(w), query: "beforeSeq=-3"}, status: 400, field: "beforeSeq"},
				badCase{name: "beforeSeq with afterSeq", req: req{params: ownID(w), query: "afterSeq=0&beforeSeq=2"}, status: 400, field: "beforeSeq"},
				badCase{name: "huge limit before a seq", req: req{params: ownID(w), query: "beforeSeq=2&limit=99999999999999999"}, status: 400, field: "limit"},
			)
		},
	},
	"POST /api/v1/widget/conversations/{id}/messages": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body: func(*world) any {
			return map[string]any{"text": "hello", "sender": map[string]string{"type": "contact"}}
		},
		wrongType: `{"text":5,"sender":{"type":"contact"}}`, field: "text",
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			as := func(body map[string]any) req { return req{cred: tokenOnly, header: tokenHeader(own), body: body} }
			return append(forgedTokenCases(map[string]any{"text": "x"})(e, w), foreignTokenCase(e, w, map[string]any{"text": "x"}),
				badCase{name: "contact posing as an agent", req: as(map[string]any{"text": "x", "sender": map[string]string{"type": "agent", "id": w.agent.agent.ID}}), status: 403, code: "forbidden"},
				badCase{name: "another app's upload", req: as(map[string]any{"attachments": []map[string]string{{"uploadId": w.other.upload.ID}}}), status: 404, field: "attachments.uploadId"},
				badCase{name: "a system notice", req: as(map[string]any{"text": "x", "contentType": 10}), status: 400, field: "contentType"},
				badCase{name: "empty message", req: as(map[string]any{}), status: 400, field: "text"},
			)
		},
	},
	"POST /api/v1/widget/conversations/{id}/click": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(*world) any { return map[string]any{"seq": 1, "path": "/0"} },
		wrongType: `{"seq":"one","path":"/0"}`, field: "seq",
		forbidden: staffCreds,
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			as := func(body map[string]any) req {
				return req{params: ownID(w), cred: tokenOnly, header: tokenHeader(own), body: body}
			}
			return append(forgedTokenCases(map[string]any{"seq": 1, "path": "/0"})(e, w), foreignTokenCase(e, w, map[string]any{"seq": 1, "path": "/0"}),
				badCase{name: "seq beyond the conversation", req: as(map[string]any{"seq": 999, "path": "/0"}), status: 400, field: "seq"},
				badCase{name: "seq zero", req: as(map[string]any{"seq": 0, "path": "/0"}), status: 400, field: "seq"},
				badCase{name: "the contact's own plain message", req: as(map[string]any{"seq": 1, "path": "/0"}), status: 400, field: "seq"},
			)
		},
	},
	"POST /api/v1/widget/uploads": {
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			ct, body := multipartBody(e.t, "file", "evil.html", "image/png", []byte("<html><script>alert(1)</script></html>"))
			return []badCase{
				{name: "html posing as an image", req: req{cred: tokenOnly, header: tokenHeader(own), body: body, contentType: ct}, status: 415, code: "unsupported_type"},
				{name: "not multipart", req: req{cred: tokenOnly, header: tokenHeader(own), body: "x", contentType: "text/plain"}, status: 415, code: "unsupported_type"},
				{name: "forged contact token", req: req{cred: tokenOnly, header: tokenHeader(own + "x"), body: body, contentType: ct}, status: 401, code: "unauthenticated"},
			}
		},
	},
}

// staffCreds are refused on the routes that only mean something to a contact.
func staffCreds(w *world) []cred { return []cred{key(w.key), cookie(w.owner)} }

// forgedTokenCases is the tampered token every contact route must refuse.
func forgedTokenCases(body map[string]any) func(*env, *world) []badCase {
	return func(e *env, w *world) []badCase {
		own := contactToken(e, w.key, w.contact)
		var b any
		if body != nil {
			b = body
		}
		return []badCase{
			{name: "forged contact token", req: req{cred: tokenOnly, header: tokenHeader(own[:len(own)-2] + "xx"), body: b}, status: 401, code: "unauthenticated"},
		}
	}
}

// foreignTokenCase is app B's contact reaching for app A's conversation.
func foreignTokenCase(e *env, w *world, body any) badCase {
	foreign := contactToken(e, w.other.key, w.other.contact)
	return badCase{name: "another app's contact token", req: req{params: ownID(w), cred: tokenOnly, header: tokenHeader(foreign), body: body}, status: 404, code: "not_found"}
}

type widgetSession struct {
	ContactToken string      `json:"contactToken"`
	Contact      contactJSON `json:"contact"`
	Anonymous    bool        `json:"anonymous"`
	Settings     struct {
		IdentityVerification bool   `json:"identityVerification"`
		ThemeColor           string `json:"themeColor"`
		Position             string `json:"position"`
	} `json:"settings"`
	Participants []participantJSON `json:"participants"`
}

func (e *env) widgetSession(body map[string]any) widgetSession {
	e.t.Helper()
	var ws widgetSession
	e.must(201, req{route: "POST /api/v1/widget/session", body: body}).json(e.t, &ws)
	return ws
}

func TestWidgetVisitorIsPersistentWithAPseudonym(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	first := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA})
	if !first.Anonymous || first.Contact.Name == "" || first.Contact.Name != service.Pseudonym(visitorA) {
		t.Fatalf("visitor: %+v", first)
	}
	again := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA})
	if again.Contact.ID != first.Contact.ID {
		t.Fatalf("the same visitor id made a second contact: %s then %s", first.Contact.ID, again.Contact.ID)
	}
	other := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": "visitor-bbbbbbbbbbbbbbbb"})
	if other.Contact.ID == first.Contact.ID {
		t.Fatal("two visitors share a contact")
	}
	if first.Settings.ThemeColor == "" || first.Settings.Position != "right" {
		t.Errorf("settings without defaults: %+v", first.Settings)
	}
	names := map[string]bool{}
	for _, p := range first.Participants {
		names[p.Name] = true
	}
	if !names["Hook"] || !names["Agent Smith"] {
		t.Errorf("participants %+v", first.Participants)
	}
	// A name given later survives the next visit's session.
	tok := first.ContactToken
	e.must(200, req{route: "PATCH /api/v1/widget/me", cred: tokenOnly, header: tokenHeader(tok), body: map[string]any{"name": "Zoe"}})
	if s := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA}); s.Contact.Name != "Zoe" {
		t.Errorf("name after a new session: %q", s.Contact.Name)
	}
	_ = w
}

func TestWidgetIdentityVerification(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	var view struct {
		IdentitySecret       string `json:"identitySecret"`
		IdentityVerification bool   `json:"identityVerification"`
	}
	e.must(200, req{route: "GET /api/v1/widget/settings", cred: key(w.key)}).json(t, &view)
	if len(view.IdentitySecret) != 64 || view.IdentityVerification {
		t.Fatalf("settings %+v", view)
	}
	// Not enforced: an identified user needs no hash.
	e.widgetSession(map[string]any{"appId": service.DefaultAppID, "userId": "alice"})

	e.must(200, req{route: "PUT /api/v1/widget/settings", cred: cookie(w.owner), body: map[string]any{"identityVerification": true}})
	good := service.UserHash(view.IdentitySecret, "alice")
	for name, hash := range map[string]string{"none": "", "wrong user's": service.UserHash(view.IdentitySecret, "bob"), "not hex": "zz", "another app's secret": service.UserHash(strings.Repeat("0", 64), "alice")} {
		before := e.snapshot()
		r := e.call(req{route: "POST /api/v1/widget/session", body: map[string]any{"appId": service.DefaultAppID, "userId": "alice", "userHash": hash}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s hash: status %d: %s", name, r.status, r.body)
		}
		if e.snapshot() != before {
			t.Errorf("%s hash changed the store", name)
		}
	}
	ws := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "userId": "alice", "userHash": strings.ToUpper(good), "userName": "Alice"})
	if ws.Contact.UserID != "alice" || ws.Contact.Name != "Alice" || ws.Anonymous {
		t.Errorf("verified session %+v", ws)
	}
	// Visitors stay welcome: they cannot claim anyone's identity.
	e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA})
	// The other app's secret differs, and its settings are its own.
	var otherView struct {
		IdentitySecret       string `json:"identitySecret"`
		IdentityVerification bool   `json:"identityVerification"`
	}
	e.must(200, req{route: "GET /api/v1/widget/settings", cred: key(w.other.key)}).json(t, &otherView)
	if otherView.IdentitySecret == view.IdentitySecret || otherView.IdentityVerification {
		t.Errorf("another app's settings leak: %+v", otherView)
	}
}

func TestWidgetConversationFlow(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	ws := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "language": "en"})
	as := func(rq req) req {
		rq.cred, rq.header = tokenOnly, tokenHeader(ws.ContactToken)
		return rq
	}
	var list struct{ Conversations []conversationJSON }
	e.must(200, as(req{route: "GET /api/v1/widget/conversations"})).json(t, &list)
	if len(list.Conversations) != 0 {
		t.Fatalf("a new visitor has conversations: %+v", list)
	}
	var c conversationJSON
	e.must(201, as(req{route: "POST /api/v1/widget/conversations", body: map[string]any{"botIds": []string{w.bot.ID}, "skipBotEvent": true, "metadata": map[string]string{"page": "/pricing"}}})).json(t, &c)
	if c.ContactID != ws.Contact.ID || c.Assignee == nil || c.Assignee.ID != w.bot.ID {
		t.Fatalf("conversation %+v", c)
	}
	send := func(key string) (int, messageJSON) {
		var m messageJSON
		r := e.call(as(req{route: "POST /api/v1/widget/conversations/{id}/messages", params: id(c.ID), body: map[string]any{"text": "where is my order?", "clientKey": key}}))
		r.json(t, &m)
		return r.status, m
	}
	st1, m1 := send("k-1")
	st2, m2 := send("k-1")
	if st1 != 201 || st2 != 200 || m1.ID != m2.ID || m1.Seq != m2.Seq {
		t.Fatalf("resend: %d %+v then %d %+v", st1, m1, st2, m2)
	}
	if m1.Sender.Type != "contact" || m1.Sender.ID != ws.Contact.ID {
		t.Errorf("sender %+v", m1.Sender)
	}
	var msgs struct{ Messages []messageJSON }
	e.must(200, as(req{route: "GET /api/v1/widget/conversations/{id}/messages", params: id(c.ID)})).json(t, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].ClientKey != "k-1" {
		t.Fatalf("messages %+v", msgs)
	}
	e.must(200, as(req{route: "GET /api/v1/widget/conversations"})).json(t, &list)
	if len(list.Conversations) != 1 || list.Conversations[0].ID != c.ID {
		t.Fatalf("list %+v", list)
	}
	// Another visitor of the same app sees none of it.
	stranger := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": "visitor-cccccccccccccccc"})
	r := e.call(req{route: "GET /api/v1/widget/conversations/{id}/messages", params: id(c.ID), cred: tokenOnly, header: tokenHeader(stranger.ContactToken)})
	if r.status != 404 {
		t.Errorf("a stranger read the conversation: %d %s", r.status, r.body)
	}
	// updateUserLanguage and updateChatContext.
	var me contactJSON
	e.must(200, as(req{route: "PATCH /api/v1/widget/me", body: map[string]any{"language": "es", "chatContext": map[string]any{"plan": "gold"}}})).json(t, &me)
	if me.Language != "es" || string(me.ChatContext) != `{"plan":"gold"}` {
		t.Errorf("me %+v %s", me, me.ChatContext)
	}
	// A widget upload is the contact's and attaches to its message.
	ct, body := multipartBody(t, "file", "pic.png", "image/png", pngBytes())
	var up uploadJSON
	e.must(201, as(req{route: "POST /api/v1/widget/uploads", body: body, contentType: ct})).json(t, &up)
	e.must(201, as(req{route: "POST /api/v1/widget/conversations/{id}/messages", params: id(c.ID), body: map[string]any{"contentType": 1, "attachments": []map[string]string{{"uploadId": up.ID}}}}))
}

func TestWidgetSessionIsRateLimitedPerAddress(t *testing.T) {
	l := newIPLimiter(3, time.Second)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if !l.allow("10.0.0.1", now) {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	if l.allow("10.0.0.1", now) {
		t.Fatal("the fourth request passed")
	}
	if !l.allow("10.0.0.2", now) {
		t.Fatal("another address was limited too")
	}
	if !l.allow("10.0.0.1", now.Add(time.Second)) {
		t.Fatal("no refill after a second")
	}

	e := newEnv(t)
	e.seed()
	var limited bool
	for i := 0; i < widgetSessionBurst+5 && !limited; i++ {
		r := e.call(req{route: "POST /api/v1/widget/session", body: map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA}})
		limited = r.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatalf("no 429 after %d sessions from one address", widgetSessionBurst+5)
	}
}

// walkWidget calls every widget route once, successfully, for the walk of
// every route.
func (e *env) walkWidget(w *world) {
	e.t.Helper()
	e.must(200, req{route: "GET /api/v1/widget/settings", cred: cookie(w.owner)})
	e.must(200, req{route: "PUT /api/v1/widget/settings", cred: key(w.key), body: map[string]any{"themeColor": "#AA3300", "position": "left", "talkToHuman": true}})
	ws := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA, "chatContext": map[string]any{"page": "/"}})
	if ws.Settings.ThemeColor != "#aa3300" || ws.Settings.Position != "left" {
		e.t.Errorf("session settings %+v", ws.Settings)
	}
	as := func(rq req) req {
		rq.cred, rq.header = tokenOnly, tokenHeader(ws.ContactToken)
		return rq
	}
	e.must(200, as(req{route: "GET /api/v1/widget/me"}))
	e.must(200, as(req{route: "PATCH /api/v1/widget/me", body: map[string]any{"email": "v@example.com"}}))
	var c conversationJSON
	e.must(201, as(req{route: "POST /api/v1/widget/conversations", body: map[string]any{}})).json(e.t, &c)
	e.must(200, as(req{route: "GET /api/v1/widget/conversations"}))
	e.must(201, as(req{route: "POST /api/v1/widget/conversations/{id}/messages", params: id(c.ID), body: map[string]any{"text": "hi", "clientKey": "walk-1"}}))
	e.must(200, as(req{route: "GET /api/v1/widget/conversations/{id}/messages", params: id(c.ID), query: "afterSeq=0"}))
	ct, body := multipartBody(e.t, "file", "pic.png", "image/png", pngBytes())
	e.must(201, as(req{route: "POST /api/v1/widget/uploads", body: body, contentType: ct}))
	rich := e.postQuickReplies(w, c.ID)
	e.must(201, as(req{route: "POST /api/v1/widget/conversations/{id}/click", params: id(c.ID), body: map[string]any{"seq": rich.Seq, "path": "/0", "clientKey": "walk-click"}}))
}

// quickReplies is a template-6 payload with a language switch.
const quickReplies = `[{"title":"Order status","message":"where is my order","replyMetadata":{"intent":"order"}},{"title":"Español","message":"hola","updateLanguage":"es"}]`

func (e *env) postQuickReplies(w *world, convID string) messageJSON {
	e.t.Helper()
	var m messageJSON
	e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: id(convID), cred: key(w.key), body: map[string]any{
		"text": "How can I help?", "sender": map[string]string{"type": "bot", "id": w.bot.ID},
		"metadata": map[string]string{"templateId": "6", "payload": quickReplies},
	}}).json(e.t, &m)
	return m
}

func TestWidgetClickSendsWhatTheMessageOffers(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	ws := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA})
	as := func(rq req) req {
		rq.cred, rq.header = tokenOnly, tokenHeader(ws.ContactToken)
		return rq
	}
	var c conversationJSON
	e.must(201, as(req{route: "POST /api/v1/widget/conversations", body: map[string]any{"skipRouting": true}})).json(t, &c)
	rich := e.postQuickReplies(w, c.ID)
	click := func(path, key string) resp {
		return e.call(as(req{route: "POST /api/v1/widget/conversations/{id}/click", params: id(c.ID), body: map[string]any{"seq": rich.Seq, "path": path, "clientKey": key}}))
	}
	var m messageJSON
	r := click("/0", "c-1")
	if r.status != 201 {
		t.Fatalf("click: %d %s", r.status, r.body)
	}
	r.json(t, &m)
	if m.Text != "where is my order" || m.Metadata["intent"] != "order" || m.Metadata["KM_CLICKED"] != "Order status" || m.Sender.Type != "contact" {
		t.Errorf("clicked message %+v", m)
	}
	if again := click("/0", "c-1"); again.status != 200 {
		t.Errorf("repeat: %d", again.status)
	}
	if r := click("/1", "c-2"); r.status != 201 {
		t.Fatalf("language click: %d %s", r.status, r.body)
	}
	var me contactJSON
	e.must(200, as(req{route: "GET /api/v1/widget/me"})).json(t, &me)
	if me.Language != "es" {
		t.Errorf("language after updateLanguage: %q", me.Language)
	}
	before := e.snapshot()
	for _, path := range []string{"/2", "/-1", "", "/0/x", "../0"} {
		if r := click(path, "c-bad"); r.status != 400 {
			t.Errorf("path %q: %d %s", path, r.status, r.body)
		}
	}
	if e.snapshot() != before {
		t.Error("refused clicks changed the store")
	}
}

func TestWidgetAccessTokenURL(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	var asked []map[string]string
	var mu sync.Mutex
	check := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		asked = append(asked, in)
		mu.Unlock()
		if in["userId"] == "alice" && in["token"] == "good-token" {
			io.WriteString(rw, "true\n")
			return
		}
		io.WriteString(rw, "false")
	}))
	defer check.Close()
	e.must(200, req{route: "PUT /api/v1/widget/settings", cred: key(w.key), body: map[string]any{"accessTokenUrl": check.URL + "/check"}})

	before := e.snapshot()
	for name, body := range map[string]map[string]any{
		"wrong token": {"appId": service.DefaultAppID, "userId": "alice", "accessToken": "bad"},
		"wrong user":  {"appId": service.DefaultAppID, "userId": "bob", "accessToken": "good-token"},
	} {
		if r := e.call(req{route: "POST /api/v1/widget/session", body: body}); r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.call(req{route: "POST /api/v1/widget/session", body: map[string]any{"appId": service.DefaultAppID, "userId": "alice"}}); r.status != http.StatusBadRequest {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if e.snapshot() != before {
		t.Error("refused sessions changed the store")
	}
	ws := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "userId": "alice", "accessToken": "good-token"})
	if ws.Contact.UserID != "alice" {
		t.Errorf("session %+v", ws)
	}
	mu.Lock()
	if len(asked) != 3 || asked[2]["userId"] != "alice" || asked[2]["token"] != "good-token" {
		t.Errorf("the URL was asked %v", asked)
	}
	mu.Unlock()
	// Visitors are not identified users: no token to check.
	e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": visitorA})

	// A URL nobody answers is the app's outage, said as such.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	e.must(200, req{route: "PUT /api/v1/widget/settings", cred: key(w.key), body: map[string]any{"accessTokenUrl": dead.URL}})
	if r := e.call(req{route: "POST /api/v1/widget/session", body: map[string]any{"appId": service.DefaultAppID, "userId": "alice", "accessToken": "good-token"}}); r.status != http.StatusServiceUnavailable {
		t.Errorf("unreachable URL: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"ftp://x.example", "/relative", "http://user:pw@x.example/"} {
		if r := e.call(req{route: "PUT /api/v1/widget/settings", cred: key(w.key), body: map[string]any{"accessTokenUrl": bad}}); r.status != 400 {
			t.Errorf("accessTokenUrl %q: %d", bad, r.status)
		}
	}
}
