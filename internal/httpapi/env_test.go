package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// testUploadMax keeps the over-limit upload cases cheap.
const testUploadMax = 64 << 10

const (
	ownerEmail    = servicetest.OwnerEmail
	ownerPassword = servicetest.OwnerPassword
	bootstrapKey  = servicetest.APIKey
)

// clock is the service's time, which tests move to expire signed links.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one server over a real SQLite store and real disk, reached through
// a real socket. Every response passing through env.call is checked against
// the OpenAPI document.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	handler http.Handler
	store   store.Store
	svc     *service.Service
	clock   *clock
	blobDir string
	spec    *specChecker
	logs    *syncBuffer
	covered *sync.Map // route pattern → true once a 2xx was seen
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	clk := &clock{t: time.Now()}
	se := servicetest.New(t, func(o *service.Options) {
		o.Now, o.UploadMaxBytes = clk.Now, testUploadMax
		// Test receivers (an app's Access Token URL) live on loopback.
		o.AllowPrivateOutbound = true
	})
	st, svc, blobDir := se.Store, se.Service, se.FilesDir
	e := &env{t: t, store: st, svc: svc, clock: clk, blobDir: blobDir, spec: loadSpec(t), covered: &sync.Map{}, logs: &syncBuffer{}}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	o := Options{
		Service:        svc,
		Logger:         slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry:       prometheus.NewRegistry(),
		PublicURL:      e.srv.URL,
		UploadMaxBytes: testUploadMax,
		Ready:          st.Ping,
	}
	for _, f := range opts {
		f(&o)
	}
	h = New(o)
	e.handler = h
	return e
}

// cred is how a request authenticates.
type cred struct {
	bearer  string
	apiKey  string
	session *session
	// noCSRF leaves out the CSRF header of a cookie request; origin
	// overrides its Origin header ("" means same origin).
	noCSRF bool
	origin string
}

type session struct {
	token, csrf string
	agent       agentJSON
}

func key(k string) cred          { return cred{apiKey: k} }
func bearer(k string) cred       { return cred{bearer: k} }
func cookie(s *session) cred     { return cred{session: s} }
func anonymous() cred            { return cred{} }
func (c cred) withoutCSRF() cred { c.noCSRF = true; return c }
func (c cred) from(o string) cred {
	c.origin = o
	return c
}

var wildcard = regexp.MustCompile(`\{[A-Za-z]+\}`)

// req describes one call. route is a pattern of the route table; params
// fill its {wildcards}.
type req struct {
	route       string
	params      map[string]string
	query       string
	body        any // string or []byte as is, anything else as JSON
	contentType string
	cred        cred
	header      map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r resp) errorCode(t testing.TB) (string, map[string]any) {
	t.Helper()
	var b struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	r.json(t, &b)
	return b.Error.Code, b.Error.Details
}

func (e *env) url(rq req) string {
	_, path, _ := strings.Cut(rq.route, " ")
	for k, v := range rq.params {
		path = strings.Replace(path, "{"+k+"}", v, 1)
	}
	// A wildcard left unfilled (a case that only needs some path of the
	// route's shape) gets a harmless value.
	path = wildcard.ReplaceAllString(path, "x")
	u := e.srv.URL + path
	if rq.query != "" {
		u += "?" + rq.query
	}
	return u
}

// call sends rq and checks the response against the OpenAPI document.
func (e *env) call(rq req) resp {
	e.t.Helper()
	method, _, _ := strings.Cut(rq.route, " ")
	var body io.Reader
	ct := rq.contentType
	switch b := rq.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	if body != nil && ct == "" {
		ct = "application/json"
	}
	hr, err := http.NewRequest(method, e.url(rq), body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	c := rq.cred
	switch {
	case c.bearer != "":
		hr.Header.Set("Authorization", "Bearer "+c.bearer)
	case c.apiKey != "":
		hr.Header.Set(auth.APIKeyHeader, c.apiKey)
	case c.session != nil:
		hr.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: c.session.token})
		if !c.noCSRF {
			hr.Header.Set(auth.CSRFHeader, c.session.csrf)
		}
		origin := c.origin
		if origin == "" {
			origin = e.srv.URL
		}
		hr.Header.Set("Origin", origin)
	}
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		e.t.Fatalf("%s: %v", rq.route, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := resp{status: res.StatusCode, header: res.Header, body: data}
	e.spec.checkResponse(e.t, rq.route, out)
	if out.status < 300 {
		e.covered.Store(rq.route, true)
		if isJSON(ct) && rq.body != nil {
			e.spec.checkRequest(e.t, rq.route, bodyBytes(e.t, rq.body))
		}
	}
	return out
}

func isJSON(ct string) bool { return strings.HasPrefix(ct, "application/json") }

func bodyBytes(t testing.TB, b any) []byte {
	switch b := b.(type) {
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, rq req) resp {
	e.t.Helper()
	r := e.call(rq)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", rq.route, e.url(rq), r.status, want, r.body)
	}
	return r
}

func (e *env) login(email, password string) *session {
	e.t.Helper()
	r := e.must(200, req{route: "POST /api/v1/auth/login", body: map[string]string{"email": email, "password": password}})
	var lr loginResponse
	r.json(e.t, &lr)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == auth.SessionCookieName {
			return &session{token: c.Value, csrf: lr.CSRFToken, agent: lr.Agent}
		}
	}
	e.t.Fatal("login set no session cookie")
	return nil
}

// world is the data most tests need: two apps with their people, keys and
// conversations, so that cross-app access can be tried everywhere.
type world struct {
	owner, agent *session // app A (the default app): an owner and an agent-role agent
	key          string   // API key of app A
	team         teamJSON
	conv         conversationJSON
	contact      string
	resolved     string // a resolved conversation, for transitions that are refused
	msg          messageJSON
	upload       uploadJSON
	apiKeyID     string
	bot          botJSON // a webhook bot with a secret header (botSecret)
	webhook      string  // an outgoing webhook endpoint, and one event sent to it
	event        string
	canned       string // a canned reply, "/hello"
	other        otherApp
}

// botSecret is the seeded bot's webhook header value: it must never come
// back in a response or reach the logs.
const botSecret = "seeded-bot-secret-value-77"

type otherApp struct {
	owner    *session
	key      string
	apiKeyID string
	agent    string
	team     string
	bot      string
	conv     conversationJSON
	contact  string
	upload   uploadJSON
	webhook  string
	canned   string
}

func (e *env) seed() *world {
	e.t.Helper()
	w := &world{key: bootstrapKey}
	w.owner = e.login(ownerEmail, ownerPassword)
	var a agentJSON
	e.must(201, req{route: "POST /api/v1/agents", cred: key(w.key), body: map[string]string{"email": "agent@example.com", "name": "Agent Smith", "password": "agent-password", "role": "agent"}}).json(e.t, &a)
	w.agent = e.login("agent@example.com", "agent-password")
	e.must(201, req{route: "POST /api/v1/teams", cred: key(w.key), body: map[string]any{"name": "Support", "agentIds": []string{a.ID}}}).json(e.t, &w.team)
	e.must(201, req{route: "POST /api/v1/conversations", cred: key(w.key), body: map[string]any{"contact": map[string]any{"userId": "user-1", "name": "Ann"}}}).json(e.t, &w.conv)
	w.contact = w.conv.ContactID
	e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: map[string]string{"id": w.conv.ID}, cred: key(w.key), body: map[string]any{"text": "hello", "sender": map[string]string{"type": "contact"}}}).json(e.t, &w.msg)
	w.upload = e.uploadFile(key(w.key), "pic.png", "image/png", pngBytes())
	var resolved conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: key(w.key), body: map[string]any{"contact": map[string]any{"userId": "user-1"}}}).json(e.t, &resolved)
	e.must(200, req{route: "POST /api/v1/conversations/{id}/status", params: map[string]string{"id": resolved.ID}, cred: key(w.key), body: map[string]any{"status": "resolved"}})
	w.resolved = resolved.ID
	var k apiKeyJSON
	e.must(201, req{route: "POST /api/v1/apikeys", cred: cookie(w.owner), body: map[string]string{"name": "spare"}}).json(e.t, &k)
	w.apiKeyID = k.ID
	e.must(201, req{route: "POST /api/v1/bots", cred: key(w.key), body: map[string]any{"name": "Hook", "type": "webhook",
		"webhook": map[string]any{"url": "https://bot.example.com/hook", "headerName": "X-Api-Key", "headerValue": botSecret}}}).json(e.t, &w.bot)
	w.webhook, w.event = e.seedWebhook(key(w.key), w.conv.ID)
	w.canned = e.seedCannedReply(key(w.key), "/hello")

	// App B, made by A's owner, with its own everything.
	var created appResponse
	e.must(201, req{route: "POST /api/v1/apps", cred: cookie(w.owner), body: map[string]any{"name": "Other", "owner": map[string]string{"email": "owner-b@example.com", "name": "Bea", "password": "owner-b-password"}}}).json(e.t, &created)
	o := &w.other
	o.owner = e.login("owner-b@example.com", "owner-b-password")
	var kb apiKeyJSON
	e.must(201, req{route: "POST /api/v1/apikeys", cred: cookie(o.owner), body: map[string]string{"name": "b"}}).json(e.t, &kb)
	o.key, o.apiKeyID = kb.Key, kb.ID
	var ab agentJSON
	e.must(201, req{route: "POST /api/v1/agents", cred: key(o.key), body: map[string]string{"email": "agent-b@example.com", "name": "Bob", "password": "agent-b-password"}}).json(e.t, &ab)
	o.agent = ab.ID
	var tb teamJSON
	e.must(201, req{route: "POST /api/v1/teams", cred: key(o.key), body: map[string]any{"name": "B team"}}).json(e.t, &tb)
	o.team = tb.ID
	var bb botJSON
	e.must(201, req{route: "POST /api/v1/bots", cred: key(o.key), body: map[string]any{"name": "B bot", "type": "webhook", "webhook": map[string]any{"url": "https://b.example.com/hook"}}}).json(e.t, &bb)
	o.bot = bb.ID
	e.must(201, req{route: "POST /api/v1/conversations", cred: key(o.key), body: map[string]any{"contact": map[string]any{"name": "Bo"}}}).json(e.t, &o.conv)
	o.contact = o.conv.ContactID
	e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: map[string]string{"id": o.conv.ID}, cred: key(o.key), body: map[string]any{"text": "hi from B", "sender": map[string]string{"type": "contact"}}})
	o.upload = e.uploadFile(key(o.key), "b.png", "image/png", pngBytes())
	o.webhook, _ = e.seedWebhook(key(o.key), o.conv.ID)
	o.canned = e.seedCannedReply(key(o.key), "/hello")
	return w
}

func (e *env) seedCannedReply(c cred, shortcut string) string {
	e.t.Helper()
	var r struct {
		ID string `json:"id"`
	}
	e.must(201, req{route: "POST /api/v1/canned-replies", cred: c, body: map[string]string{"shortcut": shortcut, "text": "Hello! How can I help?"}}).json(e.t, &r)
	return r.ID
}

// multipartBody builds an upload form with one file part.
func multipartBody(t testing.TB, field, name, mimeType string, content []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+name+`"`)
	if mimeType != "" {
		h.Set("Content-Type", mimeType)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(content)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func (e *env) uploadFile(c cred, name, mimeType string, content []byte) uploadJSON {
	e.t.Helper()
	ct, body := multipartBody(e.t, "file", name, mimeType, content)
	var u uploadJSON
	e.must(201, req{route: "POST /api/v1/uploads", cred: c, body: body, contentType: ct}).json(e.t, &u)
	return u
}

// pngBytes is a real 1×1 PNG.
func pngBytes() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
}

// snapshot renders everything the store holds (and the files on disk) as
// one string, so a test can prove a request changed nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	add := func(v any, err error) {
		if err != nil {
			e.t.Fatalf("snapshot: %v", err)
		}
		data, _ := json.Marshal(v)
		b.Write(data)
		b.WriteByte('\n')
	}
	apps, err := e.store.ListApps(ctx)
	add(apps, err)
	for _, app := range apps {
		agents, err := e.store.ListAgents(ctx, app.ID)
		add(agents, err)
		for _, a := range agents {
			// The hash is not in the JSON form; a password change must show.
			add(a.PasswordHash, nil)
		}
		teams, err := e.store.ListTeams(ctx, app.ID)
		add(teams, err)
		for _, tm := range teams {
			add(e.store.GetTeamRules(ctx, app.ID, tm.ID))
		}
		// Bots with their stored (sealed) settings, which the JSON form hides.
		bots, err := e.store.ListBots(ctx, app.ID)
		add(bots, err)
		for _, b := range bots {
			add(string(b.Settings), nil)
		}
		add(e.store.GetAppRules(ctx, app.ID))
		add(e.store.ListAPIKeys(ctx, app.ID))
		add(e.store.ListCannedReplies(ctx, app.ID))
		// Webhook endpoints with their sealed credentials, and their queues.
		hooks, err := e.store.ListWebhooks(ctx, app.ID)
		add(hooks, err)
		for _, h := range hooks {
			add(h.Sealed, nil)
			add(e.store.ListWebhookDeliveries(ctx, app.ID, h.ID, store.MaxPageSize))
		}
		f := store.ConversationFilter{Limit: store.MaxPageSize}
		for {
			page, err := e.store.ListConversations(ctx, app.ID, f)
			add(page.Conversations, err)
			for _, c := range page.Conversations {
				add(e.store.GetContact(ctx, app.ID, c.ContactID))
				add(e.store.ListMessages(ctx, app.ID, c.ID, 0, 100000))
				add(e.store.ContactReadSeq(ctx, app.ID, c.ID))
			}
			if page.Next == "" {
				break
			}
			f.Cursor = page.Next
		}
	}
	var files []string
	filepath.WalkDir(e.blobDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			files = append(files, p+":"+fi.ModTime().String())
		}
		return nil
	})
	sort.Strings(files)
	add(files, nil)
	return b.String()
}

// syncBuffer collects the server's log lines, so tests can check that no
// secret ever reaches them.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
