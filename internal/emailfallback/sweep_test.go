package emailfallback_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/email"
	"github.com/switchboard-chat/switchboard/internal/email/smtptest"
	"github.com/switchboard-chat/switchboard/internal/emailfallback"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
)

// clock is the stores' and the sweepers' shared clock, moved forward
// instead of waiting minutes.
type clock struct{ d atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.d.Load())) }
func (c *clock) Advance(d time.Duration) { c.d.Add(int64(d)) }

const (
	unreadAfter  = 10 * time.Minute
	offlineAfter = 15 * time.Minute
	backoff      = time.Minute
)

// env is two "nodes" (a sweeper each) on one database, and an SMTP relay.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	nodes []*emailfallback.Sweeper
	clk   *clock
	smtp  *smtptest.Server
	app   string
	agent *chat.Agent
}

// backends runs fn on SQLite (one store serving both nodes) and on
// PostgreSQL (a store per node), each with a fresh database.
func backends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		clk := &clock{}
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, newEnv(t, clk, st, st))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		clk := &clock{}
		var stores []store.Store
		for range 2 {
			st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 4, Clock: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			stores = append(stores, st)
		}
		fn(t, newEnv(t, clk, stores...))
	})
}

func newEnv(t *testing.T, clk *clock, stores ...store.Store) *env {
	e := &env{t: t, ctx: context.Background(), st: stores[0], clk: clk, smtp: smtptest.Start(t)}
	sender, err := email.New(email.Config{Addr: e.smtp.Addr, From: "Support <support@example.test>", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stores {
		e.nodes = append(e.nodes, emailfallback.New(emailfallback.Options{
			Store: st, Mailer: sender, Now: clk.Now,
			UnreadAfter: unreadAfter, OfflineAfter: offlineAfter, Backoff: backoff, MaxAttempts: 3,
			DashboardURL: "http://127.0.0.1:8080/",
		}))
	}
	app := chat.App{ID: "app_" + chat.NewID(), Name: "Acme"}
	e.must(e.st.CreateApp(e.ctx, &app))
	e.app = app.ID
	e.agent = e.newAgent("Alice Agent", chat.PresenceOnline)
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) newAgent(name string, p chat.Presence) *chat.Agent {
	e.t.Helper()
	a := &chat.Agent{AppID: e.app, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "." + chat.NewID() + "@example.test",
		Name: name, Role: chat.RoleAgent, Presence: p}
	e.must(e.st.CreateAgent(e.ctx, a))
	return a
}

// conversation starts one with a contact (emailless when addr is ""),
// assigned to the agent.
func (e *env) conversation(name, addr string) *chat.Conversation {
	e.t.Helper()
	ct := chat.Contact{AppID: e.app, Name: name, Email: addr}
	e.must(e.st.CreateContact(e.ctx, &ct))
	c := chat.Conversation{AppID: e.app, ContactID: ct.ID, Status: chat.StatusOpen,
		Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: e.agent.ID}}
	e.must(e.st.CreateConversation(e.ctx, &c))
	return &c
}

func (e *env) post(c *chat.Conversation, from chat.Sender, text string) *chat.Message {
	e.t.Helper()
	if from.Type == chat.SenderContact {
		from.ID = c.ContactID
	}
	m, _, err := e.st.AppendMessage(e.ctx, e.app, c.ID, chat.NewMessage{Sender: from, Text: text})
	e.must(err)
	return m
}

func (e *env) fromAgent() chat.Sender { return chat.Sender{Type: chat.SenderAgent, ID: e.agent.ID} }

// fromContact is the conversation's contact (post fills the id in).
var fromContact = chat.Sender{Type: chat.SenderContact}

// sweepAll has every node sweep at once and sums what they did.
func (e *env) sweepAll() emailfallback.Result {
	e.t.Helper()
	var mu sync.Mutex
	var sum emailfallback.Result
	var wg sync.WaitGroup
	for _, n := range e.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := n.Sweep(e.ctx)
			if err != nil {
				e.t.Errorf("sweep: %v", err)
			}
			mu.Lock()
			sum.ContactEmails += r.ContactEmails
			sum.Digests += r.Digests
			sum.Failed += r.Failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sum
}

func (e *env) mailTo(addr string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range e.smtp.Messages() {
		if len(m.To) == 1 && m.To[0] == addr {
			out = append(out, m)
		}
	}
	return out
}

// connect records a live connection for the app's agent, so
// digests are about the agents the test makes offline only.
func (e *env) connect(agents ...*chat.Agent) {
	var refs []store.AgentRef
	for _, a := range agents {
		refs = append(refs, store.AgentRef{AppID: e.app, AgentID: a.ID})
	}
	e.must(e.st.SetNodeConnections(e.ctx, "node-test", refs, e.clk.Now().Add(24*time.Hour)))
}

// An agent's unread reply is emailed to the contact once, with both
// unread messages in one email and the bot's and the system's left out;
// both nodes sweep at once and only one sends.
func TestUnreadReplyEmailedOnce(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.connect(e.agent)
		c := e.conversation("Zoë Contact", "zoe@example.test")
		e.post(c, fromContact, "Where is my order?")
		e.post(c, chat.Sender{Type: chat.SenderBot, ID: "bot1"}, "A bot line that is not emailed")
		e.post(c, e.fromAgent(), "Hi Zoë, it <b>ships</b> today &amp; arrives Friday.")
		e.post(c, e.fromAgent(), "Tracking number follows.")
		if r := e.sweepAll(); r.ContactEmails != 0 {
			t.Fatalf("emailed before the delay: %+v", r)
		}
		e.clk.Advance(unreadAfter + time.Minute)
		r := e.sweepAll()
		r2 := e.sweepAll()
		got := e.mailTo("zoe@example.test")
		t.Logf("two nodes swept twice after the delay: %+v then %+v; %d email(s) to the contact", r, r2, len(got))
		if len(got) != 1 || r.ContactEmails != 1 || r2.ContactEmails != 0 {
			t.Fatalf("got %d emails (%+v, %+v), want exactly 1", len(got), r, r2)
		}
		m := got[0]
		body := m.Text()
		t.Logf("subject %q\n%s", m.Subject(), body)
		for _, want := range []string{"Alice Agent", "it ships today & arrives Friday.", "Tracking number follows.", "Acme"} {
			if !strings.Contains(body+m.Subject(), want) {
				t.Errorf("email lacks %q", want)
			}
		}
		for _, not := range []string{"<b>", "bot line", "Where is my order"} {
			if strings.Contains(body, not) {
				t.Errorf("email contains %q", not)
			}
		}
		// A later agent message, unread, is a new batch: one more email
		// with only it.
		e.post(c, e.fromAgent(), "Anything else?")
		e.clk.Advance(unreadAfter + time.Minute)
		e.sweepAll()
		got = e.mailTo("zoe@example.test")
		t.Logf("after a later unread message: %d emails", len(got))
		if len(got) != 2 || strings.Contains(got[1].Text(), "Tracking") || !strings.Contains(got[1].Text(), "Anything else?") {
			t.Fatalf("second email wrong: %d emails", len(got))
		}
	})
}

// Nothing is sent when the contact read the reply before the delay,
// answered it, has no email, or the conversation was resolved; nor for a
// reply older than MaxAge past the delay (email turned on late).
func TestUnreadReplyNotEmailed(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.connect(e.agent)
		stale := e.conversation("Stale", "stale@example.test")
		e.post(stale, e.fromAgent(), "An old reply")
		e.clk.Advance(emailfallback.DefaultMaxAge + unreadAfter + time.Hour)
		e.connect(e.agent)
		read := e.conversation("Reader", "reader@example.test")
		m := e.post(read, e.fromAgent(), "Read me")
		if _, err := e.st.MarkContactRead(e.ctx, e.app, read.ID, m.Seq); err != nil {
			t.Fatal(err)
		}
		replied := e.conversation("Replier", "replier@example.test")
		e.post(replied, e.fromAgent(), "Question?")
		e.post(replied, fromContact, "Answer.")
		noEmail := e.conversation("Anonymous", "")
		e.post(noEmail, e.fromAgent(), "Hello there")
		resolved := e.conversation("Done", "done@example.test")
		e.post(resolved, e.fromAgent(), "Closing now")
		_, err := e.st.UpdateConversation(e.ctx, e.app, resolved.ID, func(c *chat.Conversation) error {
			c.Status = chat.StatusResolved
			return nil
		})
		e.must(err)
		e.clk.Advance(unreadAfter + time.Minute)
		r := e.sweepAll()
		t.Logf("stale / read / replied / no email / resolved: %+v, %d emails", r, len(e.smtp.Messages()))
		if n := len(e.smtp.Messages()); n != 0 || r.ContactEmails != 0 {
			t.Fatalf("%d emails sent, want none", n)
		}
	})
}

// A relay that refuses is tried again after the backoff, not before, and
// the email arrives once; one that keeps refusing is given up after
// MaxAttempts.
func TestUnreadReplyRetried(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.connect(e.agent)
		c := e.conversation("Retry", "retry@example.test")
		e.post(c, e.fromAgent(), "Are you there?")
		e.clk.Advance(unreadAfter + time.Minute)
		e.smtp.FailNext("RCPT", 1)
		r1 := e.sweepAll()
		r2 := e.sweepAll()
		t.Logf("relay refused once: %+v; swept again before the backoff: %+v", r1, r2)
		if r1.Failed != 1 || r1.ContactEmails != 0 || r2 != (emailfallback.Result{}) {
			t.Fatalf("first sweeps %+v, %+v", r1, r2)
		}
		e.clk.Advance(backoff + time.Second)
		r3 := e.sweepAll()
		e.sweepAll()
		t.Logf("after the backoff: %+v; %d emails", r3, len(e.mailTo("retry@example.test")))
		if r3.ContactEmails != 1 || len(e.mailTo("retry@example.test")) != 1 {
			t.Fatalf("not delivered once after recovery: %+v", r3)
		}

		dead := e.conversation("Dead", "dead@example.test")
		e.post(dead, e.fromAgent(), "Hello?")
		e.clk.Advance(unreadAfter + time.Minute)
		e.smtp.FailNext("DATA", 100)
		failed := 0
		for i := range 6 {
			failed += e.sweepAll().Failed
			e.clk.Advance(backoff << i)
		}
		e.smtp.FailNext("DATA", 0)
		e.clk.Advance(time.Hour)
		r := e.sweepAll()
		t.Logf("relay refusing for good: %d failed attempts, then after recovery %+v", failed, r)
		if failed != 3 || r.ContactEmails != 0 || len(e.mailTo("dead@example.test")) != 0 {
			t.Fatalf("failed %d times (want MaxAttempts=3), then %+v", failed, r)
		}
	})
}

// An agent offline past the delay gets one digest of the conversations
// whose contacts wrote after the agent's last message; not again for the
// same messages, again when something new arrives; an online agent gets
// nothing.
func TestOfflineAgentDigest(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		online := e.newAgent("Olga Online", chat.PresenceOnline)
		e.connect(online)
		waiting := e.conversation("Waiting Walt", "")
		e.post(waiting, e.fromAgent(), "Earlier answer")
		e.post(waiting, fromContact, "One")
		e.post(waiting, fromContact, "Two")
		answered := e.conversation("Answered Ann", "")
		e.post(answered, fromContact, "Hi")
		e.post(answered, e.fromAgent(), "Hello!")
		// Olga's conversation has a waiting contact too, but she is online.
		ct := chat.Contact{AppID: e.app, Name: "Olga's contact"}
		e.must(e.st.CreateContact(e.ctx, &ct))
		oc := chat.Conversation{AppID: e.app, ContactID: ct.ID, Status: chat.StatusOpen, Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: online.ID}}
		e.must(e.st.CreateConversation(e.ctx, &oc))
		e.post(&oc, fromContact, "Olga?")

		e.sweepAll() // Alice is seen offline (no connection) from now
		e.clk.Advance(offlineAfter - time.Minute)
		if r := e.sweepAll(); r.Digests != 0 {
			t.Fatalf("digest before the delay: %+v", r)
		}
		e.clk.Advance(2 * time.Minute)
		r := e.sweepAll()
		e.sweepAll()
		got := e.mailTo(e.agent.Email)
		t.Logf("offline past the delay, two nodes swept twice: %+v, %d digest(s); online agent got %d", r, len(got), len(e.mailTo(online.Email)))
		if len(got) != 1 || r.Digests != 1 {
			t.Fatalf("%d digests, want 1", len(got))
		}
		if n := len(e.mailTo(online.Email)); n != 0 {
			t.Errorf("online agent got %d digests", n)
		}
		body := got[0].Text()
		t.Logf("subject %q\n%s", got[0].Subject(), body)
		if !strings.Contains(body, "Waiting Walt: 2 messages") || strings.Contains(body, "Answered Ann") || !strings.Contains(body, waiting.ID) {
			t.Errorf("digest lists the wrong conversations")
		}
		// Something new: a digest listing only that.
		e.post(answered, fromContact, "One more question")
		e.sweepAll()
		got = e.mailTo(e.agent.Email)
		t.Logf("after a new contact message: %d digests", len(got))
		if len(got) != 2 || !strings.Contains(got[1].Text(), "Answered Ann: 1 message ") || strings.Contains(got[1].Text(), "Waiting Walt") {
			t.Fatalf("second digest wrong (%d digests)", len(got))
		}
		// Back online: nothing, even with something new.
		e.connect(e.agent, online)
		e.post(waiting, fromContact, "Three")
		e.clk.Advance(time.Hour)
		if r := e.sweepAll(); r.Digests != 0 {
			t.Fatalf("digest to an online agent: %+v", r)
		}
		// Connected but presence set to offline counts as offline.
		_, err := e.st.SetAgentPresence(e.ctx, e.app, e.agent.ID, chat.PresenceOffline)
		e.must(err)
		e.sweepAll()
		e.clk.Advance(offlineAfter + time.Minute)
		r = e.sweepAll()
		t.Logf("connected with presence offline, past the delay: %+v", r)
		if r.Digests != 1 {
			t.Fatalf("no digest for an agent set offline: %+v", r)
		}
	})
}

// Two nodes running their sweep loops at once over many due emails send
// each exactly once.
func TestTwoNodesSendEachOnce(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.connect(e.agent)
		const n = 20
		for i := range n {
			c := e.conversation("Contact", "c"+strconv.Itoa(i)+"@example.test")
			e.post(c, e.fromAgent(), "Reply "+strconv.Itoa(i))
		}
		e.clk.Advance(unreadAfter + time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, node := range e.nodes {
			wg.Go(func() { node.Run(ctx, 10*time.Millisecond) })
		}
		e.smtp.WaitFor(n, 30*time.Second)
		time.Sleep(300 * time.Millisecond) // dozens more sweeps: nothing more may go out
		cancel()
		wg.Wait()
		got := e.smtp.Messages()
		to := map[string]int{}
		for _, m := range got {
			to[m.To[0]]++
		}
		t.Logf("%d conversations due, two nodes sweeping every 10ms: %d emails to %d addresses", n, len(got), len(to))
		if len(got) != n || len(to) != n {
			t.Fatalf("%d emails to %d addresses, want %d each once", len(got), len(to), n)
		}
	})
}

// Run stops when its context ends.
func TestRunStops(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.nodes[0].Run(ctx, 10*time.Millisecond) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the sweeper did not stop")
		}
	})
}

// Messages become plain text: HTML reduced to its text, scripts dropped,
// attachments named.
func TestMessageText(t *testing.T) {
	for _, tc := range []struct {
		m    chat.Message
		want string
	}{
		{chat.Message{Text: "plain\r\ntext"}, "plain\ntext"},
		{chat.Message{ContentType: chat.ContentHTML, Text: "<p>Hi&nbsp;<b>there</b></p><script>alert(1)</script><p>x &lt;y&gt;</p>"}, "Hi\u00a0there\nx <y>"},
		{chat.Message{Text: "bell\x07 and \x1b[31mred"}, "bell and [31mred"},
		{chat.Message{Text: "see file", Attachments: []chat.Attachment{{Name: "a\nb.pdf"}}}, "see file\n[attachment: a b.pdf]"},
	} {
		got := emailfallback.MessageText(tc.m)
		t.Logf("%q -> %q", tc.m.Text, got)
		if got != tc.want {
			t.Errorf("MessageText(%q) = %q, want %q", tc.m.Text, got, tc.want)
		}
	}
}
