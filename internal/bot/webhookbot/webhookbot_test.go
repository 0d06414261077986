package webhookbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

const secret = "s3cr3t-VALUE-never-shown"

// recorder is a fake bot: it keeps what it received and answers with a
// fixed status and body.
type recorder struct {
	mu     sync.Mutex
	hits   int
	body   map[string]any
	header http.Header

	status int
	answer string
	delay  time.Duration
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.hits++
	r.header = req.Header.Clone()
	r.body = nil
	_ = json.Unmarshal(raw, &r.body)
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
			return
		}
	}
	if r.status != 0 {
		w.WriteHeader(r.status)
	}
	_, _ = io.WriteString(w, r.answer)
}

func (r *recorder) got() (map[string]any, http.Header, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.body, r.header, r.hits
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// logBuf collects the connector's log so tests can check the secret is not
// in it.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newConn(t *testing.T, o Options) (*Connector, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	o.Logger = slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Now == nil {
		o.Now = func() time.Time { return time.UnixMilli(1552638706610) }
	}
	return New(o), lb
}

func botWith(t *testing.T, s Settings) *chat.Bot {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return &chat.Bot{ID: "bot-1", AppID: "app-1", Type: chat.BotWebhook, Name: "Helper", Enabled: true, Settings: raw}
}

func msgTurn(b *chat.Bot) bot.Turn {
	return bot.Turn{
		AppID:          "app-1",
		ConversationID: "conv-7",
		Bot:            b,
		Contact: &chat.Contact{
			ID: "ct-1", AppID: "app-1", UserID: "user@example.com",
			ChatContext: json.RawMessage(`{"plan":"pro","seats":3}`),
		},
		Message: &chat.Message{
			ID: "msg-42", AppID: "app-1", ConversationID: "conv-7", Seq: 5,
			Sender:      chat.Sender{Type: chat.SenderContact, ID: "ct-1"},
			Text:        "where is my order?",
			ContentType: chat.ContentText,
			Metadata:    chat.Metadata{"source": "pricing-page"},
			CreatedAt:   time.UnixMilli(1700000000123),
		},
		Language: "de-DE",
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequestForMessage(t *testing.T) {
	rec := &recorder{answer: `[]`}
	srv := serve(t, rec)
	c, _ := newConn(t, Options{AllowPrivate: true})
	b := botWith(t, Settings{URL: srv.URL + "/hook?tenant=a", HeaderName: "x-api-key", HeaderValue: secret})
	if _, err := c.Turn(context.Background(), msgTurn(b), nil); err != nil {
		t.Fatal(err)
	}
	body, h, hits := rec.got()
	if hits != 1 {
		t.Fatalf("hits = %d", hits)
	}
	want := map[string]any{
		"botId":          "bot-1",
		"key":            "msg-42",
		"from":           "user@example.com",
		"message":        "where is my order?",
		"groupId":        "conv-7",
		"contentType":    float64(0),
		"applicationKey": "app-1",
		"source":         float64(1),
		"eventName":      "",
		"createdAt":      float64(1700000000123),
		"metadata": map[string]any{
			"source": "pricing-page",
			"KM_CHAT_CONTEXT": map[string]any{
				"plan": "pro", "seats": float64(3), "kmUserLanguageCode": "de-DE",
			},
		},
	}
	if got, w := mustJSON(t, body), mustJSON(t, want); got != w {
		t.Errorf("body\n got %s\nwant %s", got, w)
	}
	for k, v := range map[string]string{
		"X-Api-Key":    secret,
		"Content-Type": "application/json",
		"User-Agent":   "Switchboard",
	} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
}

func TestRequestForWelcome(t *testing.T) {
	rec := &recorder{answer: `[{"message":"Hi! How can I help?"}]`}
	srv := serve(t, rec)
	c, _ := newConn(t, Options{AllowPrivate: true})
	b := botWith(t, Settings{URL: srv.URL})
	turn := bot.Turn{
		AppID: "app-1", ConversationID: "conv-8", Bot: b, Event: bot.EventWelcome,
		Contact: &chat.Contact{ID: "anon-9", AppID: "app-1"}, // anonymous: no userId
	}
	res, err := c.Turn(context.Background(), turn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Replies) != 1 || res.Replies[0].Text != "Hi! How can I help?" {
		t.Errorf("replies = %+v", res.Replies)
	}
	body, h, _ := rec.got()
	want := map[string]any{
		"botId": "bot-1", "key": "", "from": "anon-9", "message": "", "groupId": "conv-8",
		"contentType": float64(0), "applicationKey": "app-1", "source": float64(1),
		"eventName": "WELCOME", "createdAt": float64(1552638706610),
		"metadata": map[string]any{"KM_CHAT_CONTEXT": map[string]any{}},
	}
	if got, w := mustJSON(t, body), mustJSON(t, want); got != w {
		t.Errorf("body\n got %s\nwant %s", got, w)
	}
	if _, ok := h["X-Api-Key"]; ok {
		t.Error("an auth header was sent without one configured")
	}
}

func TestRequestCustomWelcomeEvent(t *testing.T) {
	rec := &recorder{answer: `[]`}
	srv := serve(t, rec)
	c, _ := newConn(t, Options{AllowPrivate: true})
	turn := bot.Turn{AppID: "app-1", ConversationID: "c", Bot: botWith(t, Settings{URL: srv.URL}), Event: "SALES_WELCOME"}
	if _, err := c.Turn(context.Background(), turn, nil); err != nil {
		t.Fatal(err)
	}
	if body, _, _ := rec.got(); body["eventName"] != "SALES_WELCOME" || body["from"] != "" {
		t.Errorf("eventName = %v, from = %v", body["eventName"], body["from"])
	}
}

func TestRequestForMediaEvent(t *testing.T) {
	rec := &recorder{answer: `[]`}
	srv := serve(t, rec)
	c, _ := newConn(t, Options{AllowPrivate: true})
	turn := msgTurn(botWith(t, Settings{URL: srv.URL}))
	turn.Event = bot.EventMedia
	turn.Message.Text = "my receipt"
	turn.Message.ContentType = chat.ContentAttachment
	turn.Message.Attachments = []chat.Attachment{
		{UploadID: "up-1", Name: "receipt.png", MimeType: "image/png", Size: 2048},
		{UploadID: "up-2", Name: "notes.pdf", MimeType: "application/pdf", Size: 10},
	}
	turn.FileURLs = map[string]string{"up-1": "https://files.example.com/up-1?sig=abc"}
	res, err := c.Turn(context.Background(), turn, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _, _ := rec.got()
	if body["eventName"] != "KOMMUNICATE_MEDIA_EVENT" || body["contentType"] != float64(1) || body["message"] != "my receipt" {
		t.Errorf("eventName %v contentType %v message %v", body["eventName"], body["contentType"], body["message"])
	}
	ctx := body["metadata"].(map[string]any)["KM_CHAT_CONTEXT"].(map[string]any)
	want := []any{
		map[string]any{"type": "image/png", "payload": map[string]any{"name": "receipt.png", "size": float64(2048), "url": "https://files.example.com/up-1?sig=abc"}},
		map[string]any{"type": "application/pdf", "payload": map[string]any{"name": "notes.pdf", "size": float64(10)}},
	}
	if got, w := mustJSON(t, ctx["attachments"]), mustJSON(t, want); got != w {
		t.Errorf("attachments\n got %s\nwant %s", got, w)
	}
	if ctx["plan"] != "pro" {
		t.Errorf("chat context lost: %v", ctx)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "notes.pdf") {
		t.Errorf("warnings = %q, want one about the missing URL", res.Warnings)
	}
}

func TestRequestForLocation(t *testing.T) {
	rec := &recorder{answer: `[]`}
	srv := serve(t, rec)
	c, _ := newConn(t, Options{AllowPrivate: true})
	turn := msgTurn(botWith(t, Settings{URL: srv.URL}))
	turn.Message.Text = ""
	turn.Message.ContentType = chat.ContentLocation
	turn.Message.Location = &chat.Location{Lat: 52.52, Lon: 13.405}
	// The message's own KM_CHAT_CONTEXT (as Kommunicate SDKs send it) wins
	// over the contact's.
	turn.Message.Metadata = chat.Metadata{"KM_CHAT_CONTEXT": `{"plan":"enterprise"}`}
	// No Event: the connector names the media event itself.
	if _, err := c.Turn(context.Background(), turn, nil); err != nil {
		t.Fatal(err)
	}
	body, _, _ := rec.got()
	if body["eventName"] != "KOMMUNICATE_MEDIA_EVENT" || body["contentType"] != float64(2) {
		t.Errorf("eventName %v contentType %v", body["eventName"], body["contentType"])
	}
	if body["message"] != `{"lat":52.52,"lon":13.405}` {
		t.Errorf("message = %v", body["message"])
	}
	ctx := body["metadata"].(map[string]any)["KM_CHAT_CONTEXT"].(map[string]any)
	if got, w := mustJSON(t, ctx["attachments"]), `[{"payload":{"lat":52.52,"lon":13.405},"type":"location"}]`; got != w {
		t.Errorf("attachments = %s, want %s", got, w)
	}
	if ctx["plan"] != "enterprise" || ctx["seats"] != float64(3) {
		t.Errorf("chat context = %v", ctx)
	}
}

func TestReplies(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		answer   string
		want     []bot.Reply
		warnings int
	}{
		{"text", 200, `[{"message":"Hello"}]`, []bot.Reply{{Text: "Hello"}}, 0},
		{"quick replies", 200,
			`[{"message":"Pick one","metadata":{"contentType":"300","templateId":"6","payload":[{"title":"Yes","message":"yes","replyMetadata":{"k":1}}]}}]`,
			[]bot.Reply{{Text: "Pick one", Metadata: chat.Metadata{"contentType": "300", "templateId": "6",
				"payload": `[{"title":"Yes","message":"yes","replyMetadata":{"k":1}}]`}}}, 0},
		{"handoff", 200, `[{"message":"our agents will get back to you","metadata":{"KM_ASSIGN_TO":""}}]`,
			[]bot.Reply{{Text: "our agents will get back to you", Metadata: chat.Metadata{"KM_ASSIGN_TO": ""}}}, 0},
		{"several in order", 200, `[{"message":"one"},{"message":"two","platform":"kommunicate"},{"message":"three"}]`,
			[]bot.Reply{{Text: "one"}, {Text: "two"}, {Text: "three"}}, 0},
		{"empty array", 200, `[]`, []bot.Reply{}, 0},
		{"null", 200, `null`, nil, 0},
		{"empty body", 200, ``, nil, 0},
		{"no content", 204, ``, nil, 0},
		{"single object", 200, `{"message":"alone"}`, []bot.Reply{{Text: "alone"}}, 1},
		{"empty element skipped", 200, `[{},{"message":"x"},null]`, []bot.Reply{{Text: "x"}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, &recorder{status: tc.status, answer: tc.answer})
			c, _ := newConn(t, Options{AllowPrivate: true})
			res, err := c.Turn(context.Background(), msgTurn(botWith(t, Settings{URL: srv.URL})), nil)
			if err != nil {
				t.Fatal(err)
			}
			if mustJSON(t, res.Replies) != mustJSON(t, tc.want) {
				t.Errorf("replies\n got %s\nwant %s", mustJSON(t, res.Replies), mustJSON(t, tc.want))
			}
			if len(res.Warnings) != tc.warnings {
				t.Errorf("warnings = %q", res.Warnings)
			}
			if res.GaveUp || res.State != nil {
				t.Errorf("GaveUp %v State %s", res.GaveUp, res.State)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	big := `[{"message":"` + strings.Repeat("a", DefaultMaxResponseBytes) + `"}]`
	cases := []struct {
		name    string
		handler http.HandlerFunc
		kind    bot.Kind
		msg     string // a substring of the admin's message
	}{
		{"500", status(500, "boom"), bot.Retryable, "500 Internal Server Error at http://"},
		{"503", status(503, ""), bot.Retryable, "503"},
		{"429", status(429, ""), bot.Retryable, "429 Too Many Requests"},
		{"401", status(401, ""), bot.Unauthorized, "check the webhook header"},
		{"403", status(403, ""), bot.Unauthorized, "403 Forbidden"},
		{"404", status(404, ""), bot.Misconfigured, "the bot answered 404 Not Found at http://"},
		{"400", status(400, ""), bot.Misconfigured, "400 Bad Request"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/moved" {
				t.Error("the redirect was followed")
			}
			http.Redirect(w, r, "/moved?token=q", http.StatusFound)
		}, bot.Misconfigured, "redirects are not followed: set the webhook URL to http://"},
		{"oversized", status(200, big), bot.Misconfigured, "larger than 256 KiB"},
		{"oversized, no length", func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush() // chunked: no Content-Length to check up front
			_, _ = io.WriteString(w, big)
		}, bot.Misconfigured, "larger than 256 KiB"},
		{"not json", status(200, "<html>oops</html>"), bot.Misconfigured, "is not JSON"},
		{"broken json", status(200, `[{"message":"x"`), bot.Misconfigured, "is not valid JSON"},
		{"wrong shape", status(200, `"hello"`), bot.Misconfigured, "must be a JSON array"},
		{"message not a string", status(200, `[{"message":{"a":1}}]`), bot.Misconfigured, "not a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.handler)
			c, logs := newConn(t, Options{AllowPrivate: true})
			b := botWith(t, Settings{URL: srv.URL + "/hook?token=querysecret", HeaderName: "Authorization", HeaderValue: "Bearer " + secret})
			_, err := c.Turn(context.Background(), msgTurn(b), nil)
			checkErr(t, err, tc.kind, tc.msg)
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log holds the secret: %s", logs)
			}
		})
	}
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func checkErr(t *testing.T, err error, kind bot.Kind, msg string) {
	t.Helper()
	var be *bot.Error
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want *bot.Error", err, err)
	}
	if be.Kind != kind {
		t.Errorf("kind = %v, want %v (%v)", be.Kind, kind, err)
	}
	if !strings.Contains(be.Message, msg) {
		t.Errorf("message %q lacks %q", be.Message, msg)
	}
	for _, s := range []string{secret, "querysecret"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
	}
}

func TestTimeoutFromSettings(t *testing.T) {
	t.Parallel()
	srv := serve(t, &recorder{delay: 5 * time.Second, answer: `[]`})
	c, _ := newConn(t, Options{AllowPrivate: true})
	start := time.Now()
	_, err := c.Turn(context.Background(), msgTurn(botWith(t, Settings{URL: srv.URL, TimeoutSeconds: 1})), nil)
	checkErr(t, err, bot.Retryable, "did not answer within 1s")
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %v with a 1 s timeout", d)
	}
}

func TestTimeoutFromContext(t *testing.T) {
	t.Parallel()
	srv := serve(t, &recorder{delay: 5 * time.Second, answer: `[]`})
	c, _ := newConn(t, Options{AllowPrivate: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Turn(ctx, msgTurn(botWith(t, Settings{URL: srv.URL})), nil)
	checkErr(t, err, bot.Retryable, "deadline passed")
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v with a 100 ms deadline", d)
	}
}

func TestUnreachableIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there now
	c, _ := newConn(t, Options{AllowPrivate: true})
	_, err := c.Turn(context.Background(), msgTurn(botWith(t, Settings{URL: u})), nil)
	checkErr(t, err, bot.Retryable, "could not reach the bot")
}

func TestPrivateAddressRefused(t *testing.T) {
	var hits atomic.Int32
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	c, _ := newConn(t, Options{}) // the production default
	for _, u := range []string{srv.URL, "http://localhost" + port + "/hook"} {
		_, err := c.Turn(context.Background(), msgTurn(botWith(t, Settings{URL: u})), nil)
		checkErr(t, err, bot.Misconfigured, "is a private, loopback or link-local address")
		if be := (*bot.Error)(nil); errors.As(err, &be) && !strings.Contains(be.Message, "127.0.0.1") && !strings.Contains(be.Message, "::1") {
			t.Errorf("message does not name the address: %s", be.Message)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the private server was reached %d times", hits.Load())
	}
}

func TestInvalidSettingsFailTheTurn(t *testing.T) {
	c, _ := newConn(t, Options{AllowPrivate: true})
	b := &chat.Bot{ID: "b", Settings: json.RawMessage(`{"url":"ftp://x","headerName":"X-Key","headerValue":"` + secret + `"}`)}
	_, err := c.Turn(context.Background(), msgTurn(b), nil)
	checkErr(t, err, bot.Misconfigured, "settings are invalid: webhook.url must be an absolute")
	_, err = c.Turn(context.Background(), bot.Turn{}, nil)
	checkErr(t, err, bot.Misconfigured, "no bot")
}

func TestIsPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true, "8.8.8.8": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false,
		"::": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false,
		"64:ff9b::a00:1": false, "64:ff9b::808:808": true, "224.0.0.1": false,
	} {
		if got := guardControl("tcp", joinHostPort(addr), nil) == nil; got != want {
			t.Errorf("%s: allowed = %v, want %v", addr, got, want)
		}
	}
}

func joinHostPort(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:443"
	}
	return ip + ":443"
}
