package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/browsertest"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/localrun"
	"github.com/switchboard-chat/switchboard/internal/server"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password-1"
	apiKey        = "sbk_dashboardtestdashboardtestdashboardtest"
)

// node is a whole Switchboard node with the embedded demo, serving on a
// loopback port for the browser.
type node struct {
	t   *testing.T
	url string
}

func startNode(t *testing.T) *node {
	t.Helper()
	env := map[string]string{
		"SWITCHBOARD_ADDR":              "127.0.0.1:0",
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_ADMIN_EMAIL":       adminEmail,
		"SWITCHBOARD_ADMIN_PASSWORD":    adminPassword,
		"SWITCHBOARD_BOOTSTRAP_API_KEY": apiKey,
		"SWITCHBOARD_DEMO":              "true",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Out: io.Discard, Passwords: auth.TestParams,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		cancel()
		srv.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &node{t: t, url: "http://" + addr.String()}
}

// api calls the REST API with the bootstrap key (or a contact token).
func (n *node) api(method, path string, body any, want int, out any, hdr ...string) {
	n.t.Helper()
	status, data := n.send(method, path, body, hdr...)
	if status != want {
		n.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatal(err)
		}
	}
}

// send is api without the status check: it returns the status and body.
func (n *node) send(method, path string, body any, hdr ...string) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if len(hdr) == 2 {
		req.Header.Set(hdr[0], hdr[1])
	} else {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// contact is a widget visitor talking over the realtime gateway with a
// contact token, the way the widget does.
type contact struct {
	t      *testing.T
	ws     *websocket.Conn
	convID string
	mu     sync.Mutex
	msgs   []contactMsg
}

type contactMsg struct {
	Seq    int64             `json:"seq"`
	Text   string            `json:"text"`
	Sender map[string]string `json:"sender"`
	At     time.Time         `json:"-"`
}

func (n *node) newContact(t *testing.T, name string) *contact {
	var conv struct {
		ID        string `json:"id"`
		ContactID string `json:"contactId"`
	}
	n.api("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"name": name, "language": "en"}}, 201, &conv)
	var tok struct {
		Token string `json:"token"`
	}
	n.api("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, 201, &tok)
	u := strings.Replace(n.url, "http://", "ws://", 1) + "/ws?token=" + url.QueryEscape(tok.Token)
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &contact{t: t, ws: ws, convID: conv.ID}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteJSON(map[string]any{"type": "subscribe", "conversationId": conv.ID, "afterSeq": 0}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			var f struct {
				Type    string     `json:"type"`
				Message contactMsg `json:"message"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "message" {
				f.Message.At = time.Now()
				c.mu.Lock()
				c.msgs = append(c.msgs, f.Message)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *contact) say(text string) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"type": "send", "conversationId": c.convID, "text": text, "clientKey": fmt.Sprint(time.Now().UnixNano())}); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor returns the first message that match accepts, within 15 s.
func (c *contact) waitFor(what string, match func(contactMsg) bool) contactMsg {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, m := range c.msgs {
			if match(m) {
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Fatalf("the contact never saw %s; saw %+v", what, c.msgs)
	return contactMsg{}
}

func signIn(b *browsertest.Browser, base, email, password string) {
	b.Navigate(base + "/")
	b.Wait("the sign-in form", `document.querySelector("#email")`, 0)
	b.Do("sign in",
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	b.Wait("the signed-in header", `document.querySelector("#signout")`, 0)
}

func noConsoleErrors(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	// Refused requests are logged by the browser itself; several tests
	// make them on purpose. Script errors are what must not happen.
	var errs []string
	for _, e := range b.ConsoleErrors() {
		if !strings.Contains(e, "Failed to load resource") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("browser console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}

// The whole handoff story in a real browser: a contact talks to the demo
// bot and asks for a human; the online agent's inbox shows the handoff with
// a notification in under a second; the agent replies and the contact gets
// it live; the agent resolves.
func TestBrowserHandoff(t *testing.T) {
	n := startNode(t)
	b := browsertest.Start(t, browsertest.WindowSize(1280, 720))
	if _, err := chromedp.CallBrowser(b.Context(), browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted, Origin: n.url,
	}); err != nil {
		t.Fatalf("allow notifications: %v", err)
	}
	signIn(b, n.url, adminEmail, adminPassword)

	// Online, so that routing gives the handoff to this agent.
	b.Do("go online", chromedp.SetValue(chromedp.CSS("#presence"), "online"))
	b.Eval0(`document.querySelector("#presence").dispatchEvent(new Event("change", {bubbles: true}))`)
	b.Wait("presence online", `document.querySelector(".presence .dot.online")`, 0)
	// Record each notification as the page raises it; the real one still
	// shows.
	b.Eval0(`(() => { const N = window.Notification; window.__notes = [];
		window.Notification = class extends N { constructor(t, o) { super(t, o); window.__notes.push({title: t, body: o && o.body, at: Date.now()}); } };
		Object.defineProperty(window.Notification, "permission", {get: () => N.permission}); })()`)
	b.Wait("the inbox stream", `document.querySelector(".live.live")`, 0)

	// Watching a list the bot's conversation is not in must not hide the
	// handoff: the agent looks at Mine, which is empty.
	b.Eval0(`location.hash = "#/inbox/mine"`)
	b.Wait("the Mine list", `document.querySelector("#list-mine.active")`, 0)
	c := n.newContact(t, "Dana Contact")
	c.waitFor("the demo bot's welcome", func(m contactMsg) bool { return m.Sender["type"] == "bot" })

	c.say("talk to a human")
	// With the default rules (notify everybody) the conversation waits for
	// whoever takes it; either way the contact is told at once.
	notice := c.waitFor("the handoff notice", func(m contactMsg) bool { return m.Sender["type"] == "system" })
	b.Wait("the handoff notification", `window.__notes.length > 0`, 5*time.Second)
	type note struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		At    int64  `json:"at"`
	}
	notes := browsertest.Eval[[]note](b, `window.__notes`)
	lag := time.UnixMilli(notes[0].At).Sub(notice.At)
	t.Logf("handoff notification %v after the contact saw the handoff notice", lag)
	if lag > time.Second {
		t.Errorf("the notification came %v after the handoff, want under 1 s", lag)
	}
	if !strings.HasPrefix(notes[0].Body, "Handed off by Demo bot: ") {
		t.Errorf("notification body = %q", notes[0].Body)
	}
	// The mark names the reason, at once or as soon as its record is there.
	b.Wait("the handoff mark with its reason", fmt.Sprintf(`((document.querySelector('li.item[data-id=%q] .handoff-mark') || {}).textContent || "").includes("the bot asked for a person")`, c.convID), 0)
	mark := browsertest.Eval[string](b, fmt.Sprintf(`(document.querySelector('li.item[data-id=%q] .handoff-mark') || {}).textContent || ""`, c.convID))
	if !strings.HasPrefix(mark, "Handed off by") {
		t.Errorf("inbox mark = %q", mark)
	}
	b.Wait("the handed-off conversation listed", fmt.Sprintf(`document.querySelector('li.item[data-id=%q]')`, c.convID), 0)
	top := browsertest.Eval[string](b, `document.querySelector("li.item").dataset.id`)
	if top != c.convID {
		t.Errorf("the handed-off conversation is not at the top of the list")
	}
	b.Eval0(`location.hash = "#/inbox/all"`)
	b.Wait("the All list, still marked", fmt.Sprintf(`document.querySelector("#list-all.active") && document.querySelector('li.item[data-id=%q] .handoff-mark')`, c.convID), 0)
	b.Screenshot("inbox")

	// The search asks the server; keys switch lists.
	b.Do("search", chromedp.SendKeys(chromedp.CSS("#search"), "zzz-nobody"))
	b.Wait("no match", `document.querySelectorAll("li.item").length === 0`, 0)
	b.Eval0(`(() => { const el = document.querySelector("#search"); el.value = "dana"; el.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	b.Wait("the match", fmt.Sprintf(`document.querySelectorAll("li.item").length === 1 && document.querySelector('li.item[data-id=%q]')`, c.convID), 0)
	b.Eval0(`(() => { const el = document.querySelector("#search"); el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); el.blur(); })()`)
	b.Eval0(`document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "5", bubbles: true}))`)
	b.Wait("the Resolved list by key", `location.hash === "#/inbox/resolved" && document.querySelectorAll("li.item").length === 0`, 0)
	b.Eval0(`document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "4", bubbles: true}))`)
	b.Wait("back to All", fmt.Sprintf(`location.hash === "#/inbox/all" && document.querySelector('li.item[data-id=%q]')`, c.convID), 0)

	b.Do("open the conversation", chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.item[data-id=%q] a`, c.convID))))
	b.Wait("the conversation view", `document.querySelector("#composer")`, 0)
	b.Wait("the history", `[...document.querySelectorAll(".msg.bot")].length > 0`, 0)
	take := "#take"
	if browsertest.Eval[bool](b, `!!document.querySelector("#takeover")`) {
		take = "#takeover"
	}
	b.Do("take it", chromedp.Click(chromedp.CSS(take)))
	b.Wait("owned by the agent", `document.querySelector("#owner").textContent.startsWith("Owned by Agent")`, 0)
	b.Wait("handoff reason in the contact panel", `document.querySelector("#handoff-reason")`, 0)
	b.Do("reply", chromedp.SendKeys(chromedp.CSS("#composer"), "Hi Dana, I am here to help."), chromedp.Click(chromedp.CSS("#send")))
	c.waitFor("the agent's reply", func(m contactMsg) bool { return m.Sender["type"] == "agent" && m.Text == "Hi Dana, I am here to help." })
	b.Wait("the reply in the view", `[...document.querySelectorAll(".msg.agent")].some(m => m.textContent.includes("I am here to help"))`, 0)

	// An internal note shows to agents, in place, and never reaches the
	// contact.
	b.Do("switch to note", chromedp.Click(chromedp.CSS("#mode-note")))
	b.Do("write a note", chromedp.SendKeys(chromedp.CSS("#composer"), "Asked twice for a refund"), chromedp.Click(chromedp.CSS("#send")))
	b.Wait("the note in the view", `[...document.querySelectorAll(".msg.note")].some(m => m.textContent.includes("Asked twice for a refund"))`, 0)
	b.Do("back to replies", chromedp.Click(chromedp.CSS("#mode-reply")))
	b.Screenshot("conversation")

	c.mu.Lock()
	for _, m := range c.msgs {
		if strings.Contains(m.Text, "refund") {
			t.Errorf("the contact received the internal note: %+v", m)
		}
	}
	c.mu.Unlock()
	b.Do("resolve", chromedp.Click(chromedp.CSS("#resolve")))
	b.Wait("resolved", `document.querySelector("#conv-status").textContent === "resolved"`, 0)
	var conv struct {
		StatusName string `json:"statusName"`
	}
	n.api("GET", "/api/v1/conversations/"+c.convID, nil, 200, &conv)
	if conv.StatusName != "resolved" {
		t.Errorf("after resolving, the conversation is %q", conv.StatusName)
	}

	// The analytics page draws the day's conversation and its handoff.
	b.Navigate(n.url + "/#/analytics")
	b.Wait("the charts", `document.querySelectorAll("#chart-per-day rect.bar").length > 0 && document.querySelector("#chart-reasons rect.bar")`, 0)
	if got := browsertest.Eval[string](b, `document.querySelector("#chart-reasons").textContent`); !strings.Contains(got, "bot asked for a person") {
		t.Errorf("handoffs by reason chart = %q", got)
	}
	if got := browsertest.Eval[string](b, `document.querySelector("#chart-intents").textContent`); !strings.Contains(got, "TalkToHuman") {
		t.Errorf("handoffs by intent chart = %q", got)
	}
	b.Screenshot("analytics")
	noConsoleErrors(t, b)
}

// An admin adds a Lex bot through the form against a local runtime: wrong
// keys get the specific error next to the form, the right ones are saved
// and Validate shows the alias's languages.
func TestBrowserLexForm(t *testing.T) {
	n := startNode(t)
	bot, err := demobot.Load()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := localrun.Start(localrun.Options{Addr: "127.0.0.1:0", Bots: []*export.Bot{bot}, Region: "us-east-1",
		AccessKeyID: "AKIATESTDASHBOARD001", SecretAccessKey: "dashboard-test-secret-0123456789abcdefghij", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Shutdown(context.Background()) })

	// Tall enough for the whole form in one screenshot.
	b := browsertest.Start(t, browsertest.WindowSize(1280, 1150))
	signIn(b, n.url, adminEmail, adminPassword)
	b.Navigate(n.url + "/#/settings/bots")
	b.Wait("the bots page", `document.querySelector("#add-lex")`, 0)
	b.Do("open the Lex form", chromedp.Click(chromedp.CSS("#add-lex")))
	b.Wait("the Lex form", `document.querySelector("#lex-form")`, 0)
	fill := func(sel, v string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%q);
			el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); })()`, sel, v))
	}
	b.Do("fill the form with a wrong secret",
		fill("#lex-accessKeyId", "AKIATESTDASHBOARD001"),
		fill("#lex-secretAccessKey", "not-the-right-secret-0000000000000000000"),
		fill("#lex-endpoint", rt.URL),
		fill("#lex-botId", demobot.ID),
		fill("#lex-botAliasId", "TSTALIASID"),
		fill("#bot-name", "Helper"),
	)
	b.Do("save", chromedp.Click(chromedp.CSS("#save-lex")))
	b.Wait("the wrong-keys error", `document.querySelector("#lex-form .error, #lex-form .field-error")`, 0)
	msg := browsertest.Eval[string](b, `[...document.querySelectorAll("#lex-form .error, #lex-form .field-error")].map(e => e.textContent).join(" | ")`)
	t.Logf("wrong keys: %s", msg)
	if !strings.Contains(strings.ToLower(msg), "secret") && !strings.Contains(strings.ToLower(msg), "key") {
		t.Errorf("the wrong-keys error does not say what is wrong: %q", msg)
	}
	b.Eval0(`document.querySelector(".page").scrollTop = 0`)
	b.Screenshot("lex-form-error")

	b.Do("fix the secret", fill("#lex-secretAccessKey", "dashboard-test-secret-0123456789abcdefghij"))
	b.Do("find bots", chromedp.Click(chromedp.CSS("#discover")))
	b.Wait("discovery", `document.querySelector("#discovered")`, 0)
	if got := browsertest.Eval[int](b, `document.querySelectorAll("#lex-bots option").length`); got < 1 {
		t.Errorf("discovery listed %d bots", got)
	}
	b.Do("save again", chromedp.Click(chromedp.CSS("#save-lex")))
	b.Wait("the alias's languages", `document.querySelector("#lex-locales") && /en_US/.test(document.querySelector("#lex-locales").textContent)`, 0)
	b.Do("validate", chromedp.Click(chromedp.CSS("#validate")))
	b.Wait("credentials ok", `document.querySelector("#lex-status") && document.querySelector("#lex-status").textContent.includes("ok")`, 0)
	locales := browsertest.Eval[string](b, `document.querySelector("#lex-locales").textContent`)
	if !strings.Contains(locales, "en_US") || !strings.Contains(locales, "es_419") {
		t.Errorf("languages shown = %q, want en_US and es_419", locales)
	}
	if secret := browsertest.Eval[string](b, `document.querySelector("#lex-secretAccessKey").value`); strings.Contains(secret, "dashboard-test-secret") {
		t.Errorf("the secret came back to the page: %q", secret)
	}
	b.Eval0(`document.querySelector(".page").scrollTop = 0`)
	b.Screenshot("lex-form")
	noConsoleErrors(t, b)
}

// An agent (not an admin) sees no settings or analytics, is told so when
// opening them by address, and the admin routes refuse the agent's session.
func TestBrowserAgentRole(t *testing.T) {
	n := startNode(t)
	var inv struct {
		Token string `json:"token"`
	}
	n.api("POST", "/api/v1/invites", map[string]string{"role": "agent"}, 201, &inv)

	b := browsertest.Start(t, browsertest.WindowSize(1024, 768))
	b.Navigate(n.url + "/#/invite/" + inv.Token)
	b.Wait("the invitation form", `document.querySelector("form[aria-label='Accept invitation']")`, 0)
	b.Do("accept",
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Agent"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "ada-password-1"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	b.Wait("signed in", `document.querySelector("#signout")`, 0)
	if browsertest.Eval[bool](b, `[...document.querySelectorAll("header nav a")].some(a => /Settings|Analytics/.test(a.textContent))`) {
		t.Error("an agent sees the settings or analytics tabs")
	}
	for _, page := range []string{"settings/bots", "settings/agents", "analytics"} {
		b.Navigate(n.url + "/#/" + page)
		b.Wait("the refusal on "+page, `document.querySelector("#forbidden")`, 0)
	}
	statuses := browsertest.Eval[[]int](b, `Promise.all(["/api/v1/invites", "/api/v1/analytics/summary", "/api/v1/apikeys", "/api/v1/rules"].map(p => fetch(p).then(r => r.status)))`)
	for i, s := range statuses {
		if s != 403 {
			t.Errorf("admin route %d answered the agent %d, want 403", i, s)
		}
	}
	// With the session's real CSRF token, so that the refusal is the role's.
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	created := browsertest.Eval[answer](b, `fetch("/api/v1/auth/me").then(r => r.json()).then(me =>
		fetch("/api/v1/bots", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": me.csrfToken},
			body: JSON.stringify({name: "Sneaky", type: "webhook", webhook: {url: "https://bot.example.com/hook"}})}))
		.then(async r => ({status: r.status, body: await r.text()}))`)
	if created.Status != 403 || !strings.Contains(created.Body, "role") {
		t.Errorf("creating a bot as an agent = %d %s, want 403 for the role", created.Status, created.Body)
	}
	noConsoleErrors(t, b)
}

// Every settings page opens and does its main job in the browser, on a
// tablet-sized screen, in the dark theme.
func TestBrowserSettingsPages(t *testing.T) {
	n := startNode(t)
	b := browsertest.Start(t, browsertest.WindowSize(1024, 768))
	signIn(b, n.url, adminEmail, adminPassword)
	b.Wait("the light theme first", `document.documentElement.dataset.theme === "light"`, 0)
	b.Eval0(`[...document.querySelectorAll("header button")].find(x => x.textContent === "Dark").click()`)
	b.Wait("the dark theme", `document.documentElement.dataset.theme === "dark"`, 0)
	theme := "dark"

	setInput := func(sel, v string) {
		b.Eval0(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); })()`, sel, v))
	}
	click := func(what, sel string) { b.Do(what, chromedp.Click(chromedp.CSS(sel))) }
	submit := func(form string) {
		b.Eval0(fmt.Sprintf(`document.querySelector("form[aria-label='%s'] button[type=submit]").click()`, form))
	}

	// Agents: an invitation link is shown once, and listed.
	b.Navigate(n.url + "/#/settings/agents")
	b.Wait("the agents page", `document.querySelector("#agents tbody tr")`, 0)
	click("invite", "#invite")
	b.Wait("the invitation link", `document.querySelector("#invite-link") && document.querySelector("#invite-link").value.includes("/#/invite/")`, 0)
	b.Wait("the open invitation", `document.querySelectorAll("#invites li").length === 1`, 0)

	// Teams: a new team, and its business hours saved.
	b.Navigate(n.url + "/#/settings/teams")
	b.Wait("the teams page", `document.querySelector("form.row input")`, 0)
	setInput("form.row input", "Billing")
	b.Eval0(`document.querySelector("form.row button[type=submit]").click()`)
	b.Wait("the team", `[...document.querySelectorAll("#teams li")].some(li => li.textContent.includes("Billing"))`, 0)
	b.Eval0(`[...document.querySelectorAll("#teams li button")][0].click()`)
	b.Wait("the hours form", `document.querySelector("#hours-zone")`, 0)
	setInput("#hours-zone", "Europe/Lisbon")
	setInput(`input[aria-label="monday opens"]`, "09:00")
	setInput(`input[aria-label="monday closes"]`, "17:00")
	submit("Business hours")
	b.Wait("hours saved", `document.querySelector("form[aria-label='Business hours'] .ok")`, 0)
	setInput("#hours-zone", "Mars/Base")
	submit("Business hours")
	b.Wait("the bad zone refused in words", `document.querySelector("form[aria-label='Business hours'] .error, form[aria-label='Business hours'] .field-error")`, 0)

	// Rules, API keys, widget.
	b.Navigate(n.url + "/#/settings/rules")
	b.Wait("the rules form", `document.querySelector("form[aria-label='Conversation rules']")`, 0)
	submit("Conversation rules")
	b.Wait("rules saved", `document.querySelector("form[aria-label='Conversation rules'] .ok")`, 0)
	b.Navigate(n.url + "/#/settings/apikeys")
	b.Wait("the keys page", `document.querySelector("form.row input")`, 0)
	setInput("form.row input", "CRM")
	b.Eval0(`document.querySelector("form.row button[type=submit]").click()`)
	b.Wait("the key shown once", `[...document.querySelectorAll("p.ok input")].some(i => i.value.length > 20)`, 0)
	b.Navigate(n.url + "/#/settings/widget")
	b.Wait("the widget page", `document.querySelector("#snippet") && document.querySelector("#identity-secret") && document.querySelector("#identity-secret").value.length > 10`, 0)
	if got := browsertest.Eval[string](b, `document.querySelector("#snippet").value`); !strings.Contains(got, "/widget.js") || !strings.Contains(got, `data-app-id="`) {
		t.Errorf("install snippet = %q", got)
	}
	b.Eval0(`document.querySelector("#identity").click()`)
	if got := browsertest.Eval[string](b, `document.querySelector("#widget-csat").value`); got != "faces" {
		t.Errorf("the CSAT control starts at %q, want the default faces", got)
	}
	b.Eval0(`(() => { const el = document.querySelector("#widget-csat"); el.value = "stars"; el.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	submit("Widget settings")
	b.Wait("widget saved", `document.querySelector("form[aria-label='Widget settings'] .ok")`, 0)
	b.Screenshot("widget-settings-dark-tablet")
	// Saved on the server, and shown again after a reload.
	var ws struct {
		CSAT string `json:"csat"`
	}
	n.api("GET", "/api/v1/widget/settings", nil, 200, &ws)
	if ws.CSAT != "stars" {
		t.Errorf("saved CSAT style = %q, want stars", ws.CSAT)
	}
	b.Navigate(n.url + "/#/settings/apikeys")
	b.Navigate(n.url + "/#/settings/widget")
	b.Wait("the CSAT style after a reload", `document.querySelector("#widget-csat") && document.querySelector("#widget-csat").value === "stars"`, 0)
	b.Eval0(`(() => { const el = document.querySelector("#widget-csat"); el.value = "off"; el.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	submit("Widget settings")
	b.Wait("widget saved again", `document.querySelector("form[aria-label='Widget settings'] .ok")`, 0)
	n.api("GET", "/api/v1/widget/settings", nil, 200, &ws)
	if ws.CSAT != "off" {
		t.Errorf("saved CSAT style = %q, want off", ws.CSAT)
	}

	// Account: a wrong current password is refused in words.
	b.Navigate(n.url + "/#/account")
	b.Wait("the account page", `document.querySelector("#current-password")`, 0)
	setInput("#current-password", "not-my-password")
	setInput("#new-password", "a-brand-new-password")
	submit("Change password")
	b.Wait("the refusal", `document.querySelector("form[aria-label='Change password'] .field-error, form[aria-label='Change password'] .error")`, 0)
	setInput("#current-password", adminPassword)
	submit("Change password")
	b.Wait("changed", `document.querySelector("form[aria-label='Change password'] .ok")`, 0)

	if theme2 := browsertest.Eval[string](b, `document.documentElement.dataset.theme`); theme2 != theme {
		t.Errorf("the theme did not stay %q across pages: %q", theme, theme2)
	}
	noConsoleErrors(t, b)
}

// The same story with the real widget as the contact, in a second browser:
// the contact talks to the demo bot on the widget's demo page and asks for
// a human; the agent sees it arrive with a notification, replies, and the
// contact sees the reply live; the agent resolves and the contact sees the
// resolved banner and the rating prompt.
func TestBrowserWidgetContact(t *testing.T) {
	n := startNode(t)
	agent := browsertest.Start(t, browsertest.WindowSize(1280, 720))
	if _, err := chromedp.CallBrowser(agent.Context(), browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted, Origin: n.url,
	}); err != nil {
		t.Fatalf("allow notifications: %v", err)
	}
	signIn(agent, n.url, adminEmail, adminPassword)
	agent.Eval0(`(() => { const N = window.Notification; window.__notes = [];
		window.Notification = class extends N { constructor(t, o) { super(t, o); window.__notes.push({title: t, body: o && o.body, at: Date.now()}); } };
		Object.defineProperty(window.Notification, "permission", {get: () => N.permission}); })()`)
	agent.Wait("the inbox stream", `document.querySelector(".live.live")`, 0)

	visitor := browsertest.Start(t, browsertest.WindowSize(1024, 768))
	visitor.Navigate(n.url + "/demo")
	visitor.Wait("the launcher", `document.querySelector("#switchboard-launcher")`, 0)
	visitor.Eval0(`document.querySelector("#switchboard-launcher").click()`)
	const frame = `document.querySelector("#switchboard-frame").contentDocument`
	visitor.Wait("the widget", frame+` && `+frame+`.querySelector("#sb-input, .sb-new")`, 0)
	if browsertest.Eval[bool](visitor, `!!`+frame+`.querySelector(".sb-new") && !`+frame+`.querySelector("#sb-input")`) {
		visitor.Eval0(frame + `.querySelector(".sb-new").click()`)
	}
	visitor.Wait("the demo bot's welcome", frame+`.querySelector(".sb-msg[data-sender=bot]")`, 0)
	// The moment the contact is told of the handoff, stamped in the page.
	visitor.Eval0(`(() => { const d = ` + frame + `; window.__told = 0;
		new MutationObserver(() => { if (!window.__told && d.querySelector(".sb-system")) window.__told = Date.now(); })
			.observe(d.body, {childList: true, subtree: true}); })()`)
	visitor.Eval0(`(() => { const d = ` + frame + `; const box = d.querySelector("#sb-input");
		box.value = "talk to a human"; box.dispatchEvent(new Event("input", {bubbles: true}));
		d.querySelector(".sb-composer").requestSubmit(); })()`)
	visitor.Wait("the handoff notice in the widget", frame+`.querySelector(".sb-system")`, 0)
	agent.Wait("the handoff notification", `window.__notes.length > 0`, 2*time.Second)
	visitor.Wait("the stamp", `window.__told > 0`, 0)
	told := browsertest.Eval[int64](visitor, `window.__told`)
	noted := browsertest.Eval[int64](agent, `window.__notes[0].at`)
	lag := time.Duration(noted-told) * time.Millisecond
	t.Logf("agent notified %v after the widget showed the handoff", lag)
	if lag > time.Second {
		t.Errorf("the agent was notified %v after the handoff, want under 1 s", lag)
	}

	agent.Wait("the conversation listed", `document.querySelector("li.item.handoff a")`, 0)
	agent.Eval0(`document.querySelector("li.item.handoff a").click()`)
	agent.Wait("the conversation view", `document.querySelector("#take, #takeover")`, 0)
	agent.Eval0(`document.querySelector("#take, #takeover").click()`)
	agent.Wait("owned by the agent", `document.querySelector("#owner").textContent.startsWith("Owned by Agent")`, 0)
	// Typing shows both ways.
	// The widget says "typing" at most every 2 s, and it last did with
	// "talk to a human".
	time.Sleep(2100 * time.Millisecond)
	visitor.Eval0(`(() => { const box = ` + frame + `.querySelector("#sb-input"); box.value = "one more thing"; box.dispatchEvent(new Event("input", {bubbles: true})); })()`)
	agent.Wait("the contact typing", `document.querySelector("#typing")`, 5*time.Second)
	agent.Do("type", chromedp.SendKeys(chromedp.CSS("#composer"), "Hello"))
	visitor.Wait("the agent typing in the widget", frame+`.querySelector(".sb-typing")`, 5*time.Second)
	agent.Do("reply", chromedp.SendKeys(chromedp.CSS("#composer"), " from a person"), chromedp.Click(chromedp.CSS("#send")))
	visitor.Wait("the reply in the widget", `[...`+frame+`.querySelectorAll(".sb-msg[data-sender=agent]")].some(m => m.textContent.includes("Hello from a person"))`, 0)

	agent.Do("resolve", chromedp.Click(chromedp.CSS("#resolve")))
	visitor.Wait("the resolved banner and the rating prompt", frame+`.querySelector(".sb-resolved") && `+frame+`.querySelector(".sb-csat")`, 10*time.Second)
	noConsoleErrors(t, agent)
}

// An admin saves a canned reply in settings; in a conversation, typing "/"
// and part of its shortcut lists it, Enter inserts its text and a second
// Enter sends it to the contact; a click inserts too.
func TestBrowserCannedReplies(t *testing.T) {
	n := startNode(t)
	b := browsertest.Start(t, browsertest.WindowSize(1280, 720))
	signIn(b, n.url, adminEmail, adminPassword)
	setInput := func(sel, v string) {
		b.Eval0(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); })()`, sel, v))
	}

	b.Navigate(n.url + "/#/settings/canned")
	b.Wait("the canned replies page", `document.querySelector("#canned-shortcut")`, 0)
	setInput("#canned-shortcut", "/refund")
	setInput("#canned-text", "Refunds reach your card within 5 working days.")
	b.Do("save", chromedp.Click(chromedp.CSS("#canned-save")))
	b.Wait("the reply listed", `[...document.querySelectorAll("#canned-replies tbody tr")].some(r => r.textContent.includes("/refund"))`, 0)
	setInput("#canned-shortcut", "/thanks")
	setInput("#canned-text", "Thank you for your patience!")
	b.Do("save another", chromedp.Click(chromedp.CSS("#canned-save")))
	b.Wait("both listed", `document.querySelectorAll("#canned-replies tbody tr").length === 2`, 0)
	// A taken shortcut is refused in words, next to the field.
	setInput("#canned-shortcut", "/REFUND")
	setInput("#canned-text", "again")
	b.Do("save a duplicate", chromedp.Click(chromedp.CSS("#canned-save")))
	b.Wait("the refusal", `document.querySelector("form .error, form .field-error")`, 0)
	b.Screenshot("canned-replies")

	c := n.newContact(t, "Erin Contact")
	c.waitFor("the demo bot's welcome", func(m contactMsg) bool { return m.Sender["type"] == "bot" })
	b.Navigate(n.url + "/#/c/" + c.convID)
	b.Wait("the conversation view", `document.querySelector("#composer")`, 0)
	b.Do("type a shortcut", chromedp.SendKeys(chromedp.CSS("#composer"), "/re"))
	b.Wait("the matching reply offered", `document.querySelectorAll("#canned-menu [role=option]").length === 1 && document.querySelector("#canned-menu").textContent.includes("/refund")`, 0)
	// Keys the page handles are dispatched as the browser does before its
	// default action; the DevTools key input would also type the
	// character, which a real keypress the page cancelled never does.
	key := func(k string) {
		b.Eval0(fmt.Sprintf(`document.querySelector("#composer").dispatchEvent(new KeyboardEvent("keydown", {key: %q, bubbles: true, cancelable: true}))`, k))
	}
	key("Enter")
	b.Wait("the text inserted", `document.querySelector("#composer").value === "Refunds reach your card within 5 working days." && !document.querySelector("#canned-menu")`, 0)
	key("Enter")
	c.waitFor("the canned reply", func(m contactMsg) bool {
		return m.Sender["type"] == "agent" && m.Text == "Refunds reach your card within 5 working days."
	})

	// "/" alone lists both; the arrow keys move, a click inserts.
	b.Wait("the composer emptied", `document.querySelector("#composer").value === ""`, 0)
	b.Do("type a slash", chromedp.SendKeys(chromedp.CSS("#composer"), "/"))
	b.Wait("both offered", `document.querySelectorAll("#canned-menu [role=option]").length === 2`, 0)
	key("ArrowDown")
	b.Wait("the second picked", `document.querySelector("#composer").getAttribute("aria-activedescendant") === "canned-1"`, 0)
	b.Screenshot("canned-reply-menu")
	b.Eval0(`[...document.querySelectorAll("#canned-menu [role=option]")].find(o => o.textContent.includes("/refund")).click()`)
	b.Wait("the clicked reply inserted", `document.querySelector("#composer").value.startsWith("Refunds reach")`, 0)
	noConsoleErrors(t, b)
}
