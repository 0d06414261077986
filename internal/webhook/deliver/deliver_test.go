package deliver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/upload"
	"github.com/switchboard-chat/switchboard/internal/webhook"
	"github.com/switchboard-chat/switchboard/internal/webhook/deliver"
)

// received is one request as the receiver saw it.
type received struct {
	id, ts, sig, auth string
	body              []byte
	at                time.Time
}

// receiver is a real HTTP server on loopback whose answer to the n-th
// request (from 1) is decided by answer.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received, w http.ResponseWriter)
}

func newReceiver(t testing.TB, answer func(n int, r received, w http.ResponseWriter)) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := received{id: r.Header.Get(webhook.HeaderID), ts: r.Header.Get(webhook.HeaderTimestamp),
			sig: r.Header.Get(webhook.HeaderSignature), auth: r.Header.Get("Authentication"), body: body, at: time.Now()}
		rc.mu.Lock()
		rc.got = append(rc.got, got)
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, got, w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// fixture is a service with one app and conversation, and a worker.
type fixture struct {
	t     testing.TB
	svc   *service.Service
	store store.Store
	bus   bus.Bus
	actor service.Actor
	conv  chat.Conversation
	ct    chat.Contact
}

func newFixture(t testing.TB) *fixture {
	b := bus.NewLocal()
	env := servicetest.New(t, func(o *service.Options) { o.Bus = b })
	return fixtureOn(t, env.Service, env.Store, b)
}

func fixtureOn(t testing.TB, svc *service.Service, st store.Store, b bus.Bus) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, svc: svc, store: st, bus: b}
	apps, err := st.ListApps(ctx)
	if err != nil || len(apps) == 0 {
		t.Fatalf("apps %v: %v", apps, err)
	}
	f.actor = service.Actor{AppID: apps[0].ID, Role: chat.RoleAdmin, APIKeyID: "test"}
	f.ct = chat.Contact{AppID: f.actor.AppID, Name: "Carol"}
	must(t, st.CreateContact(ctx, &f.ct))
	f.conv = f.newConv()
	return f
}

func (f *fixture) newConv() chat.Conversation {
	c := chat.Conversation{AppID: f.actor.AppID, ContactID: f.ct.ID}
	must(f.t, f.store.CreateConversation(context.Background(), &c))
	return c
}

func (f *fixture) endpoint(url string, in service.WebhookInput) *service.WebhookView {
	in.URL = &url
	if in.Events == nil {
		in.Events = []webhook.EventType{webhook.MessageCreated}
	}
	v, err := f.svc.CreateWebhook(context.Background(), f.actor, in)
	must(f.t, err)
	return v
}

func (f *fixture) say(conv string, text string) *chat.Message {
	m, _, err := f.store.AppendMessage(context.Background(), f.actor.AppID, conv, chat.NewMessage{
		Sender: chat.Sender{Type: chat.SenderContact, ID: f.ct.ID}, Text: text})
	must(f.t, err)
	return m
}

func (f *fixture) worker(o deliver.Options) *deliver.Worker {
	o.Store, o.Credentials, o.Bus = f.store, f.svc.WebhookCredentials, f.bus
	if o.NodeID == "" {
		o.NodeID = "node-a"
	}
	if o.Poll == 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Retry.Base == 0 {
		o.Retry = webhook.Retry{Base: 10 * time.Millisecond, Max: 40 * time.Millisecond}
	}
	w := deliver.New(o)
	w.Start(context.Background())
	f.t.Cleanup(w.Close)
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSignaturesVerify(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	basic := "crm:s3cret"
	ep := f.endpoint(rc.URL+"/in?token=abc", service.WebhookInput{BasicAuth: &basic})
	m := f.say(f.conv.ID, "hello")
	f.worker(deliver.Options{AllowPrivate: true})
	eventually(t, "the receiver got the event", func() bool { return len(rc.requests()) == 1 })
	r := rc.requests()[0]
	must(t, webhook.Verify(ep.Secret, r.id, r.ts, r.sig, r.body, time.Now(), 5*time.Minute))
	// Each part of the signed content matters.
	for name, tamper := range map[string]func(received) received{
		"body": func(r received) received {
			r.body = bytes.Replace(r.body, []byte("hello"), []byte("hellO"), 1)
			return r
		},
		"id":        func(r received) received { r.id += "x"; return r },
		"timestamp": func(r received) received { r.ts = fmt.Sprint(mustInt(t, r.ts) - 1); return r },
	} {
		x := tamper(r)
		if err := webhook.Verify(ep.Secret, x.id, x.ts, x.sig, x.body, time.Now(), 5*time.Minute); err == nil {
			t.Errorf("a tampered %s verified", name)
		}
	}
	if err := webhook.Verify(webhook.NewSecret(), r.id, r.ts, r.sig, r.body, time.Now(), 5*time.Minute); err == nil {
		t.Error("another secret verified the signature")
	}
	if err := webhook.Verify(ep.Secret, r.id, r.ts, r.sig, r.body, time.Now().Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("a stale timestamp verified")
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(basic)); r.auth != want {
		t.Errorf("Authentication %q, want %q", r.auth, want)
	}
	var body struct {
		Type    string `json:"type"`
		Key     string `json:"key"`
		GroupID string `json:"groupId"`
		Message string `json:"message"`
		Data    chat.Message
	}
	must(t, json.Unmarshal(r.body, &body))
	if body.Type != "message.created" || body.Key != m.ID || body.GroupID != f.conv.ID || body.Message != "hello" || body.Data.Seq != m.Seq {
		t.Errorf("body %s", r.body)
	}
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFailsThreeTimesThenSucceeds(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, func(n int, _ received, w http.ResponseWriter) {
		if n <= 3 {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	f.say(f.conv.ID, "once")
	f.worker(deliver.Options{AllowPrivate: true})
	eventually(t, "the fourth attempt", func() bool { return len(rc.requests()) == 4 })
	time.Sleep(200 * time.Millisecond) // room for a wrong fifth
	got := rc.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for _, r := range got[1:] {
		if r.id != got[0].id || !bytes.Equal(r.body, got[0].body) {
			t.Fatalf("a retry changed the id or body: %s vs %s", r.id, got[0].id)
		}
	}
	// Exponential: each wait at least as long as the jitter-free floor.
	for i := 2; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < 8*time.Millisecond {
			t.Errorf("retry %d came %s after the previous one", i, gap)
		}
	}
	log, err := f.svc.WebhookDeliveryLog(context.Background(), f.actor, ep.ID, 10)
	must(t, err)
	if len(log.Attempts) != 4 || log.Attempts[0].StatusCode != 200 || log.Attempts[3].StatusCode != 503 ||
		log.Attempts[3].Response != "not now\n" || len(log.Deliveries) != 1 || log.Deliveries[0].State != webhook.DeliveryDelivered {
		t.Fatalf("log %+v", log)
	}
	v, err := f.svc.GetWebhook(context.Background(), f.actor, ep.ID)
	must(t, err)
	if v.Failures != 0 || !v.Enabled {
		t.Fatalf("after a success the endpoint shows %+v", v.Endpoint)
	}
}

func TestOrderPerConversation(t *testing.T) {
	f := newFixture(t)
	var fail atomic.Int64
	rc := newReceiver(t, func(n int, _ received, w http.ResponseWriter) {
		// Every fifth request fails, so retries interleave with the rest.
		if n%5 == 0 {
			fail.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	f.endpoint(rc.URL, service.WebhookInput{})
	convs := []chat.Conversation{f.conv, f.newConv(), f.newConv()}
	const per = 25
	f.worker(deliver.Options{AllowPrivate: true, Concurrency: 8})
	var wg sync.WaitGroup
	for _, c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				f.say(c.ID, fmt.Sprint(i))
			}
		}()
	}
	wg.Wait()
	okCount := func() int {
		n := 0
		for i := range rc.requests() {
			if (i+1)%5 != 0 {
				n++
			}
		}
		return n
	}
	eventually(t, "every event delivered", func() bool { return okCount() >= len(convs)*per })
	last := map[string]int64{}
	seen := map[string]bool{}
	for i, r := range rc.requests() {
		var b struct{ Data chat.Message }
		must(t, json.Unmarshal(r.body, &b))
		if (i+1)%5 == 0 { // failed: it must come again, next in its conversation
			if b.Data.Seq != last[b.Data.ConversationID]+1 {
				t.Fatalf("conversation %s: seq %d sent after %d", b.Data.ConversationID, b.Data.Seq, last[b.Data.ConversationID])
			}
			continue
		}
		if seen[r.id] {
			t.Fatalf("event %s delivered twice", r.id)
		}
		seen[r.id] = true
		if b.Data.Seq != last[b.Data.ConversationID]+1 {
			t.Fatalf("conversation %s: seq %d delivered after %d", b.Data.ConversationID, b.Data.Seq, last[b.Data.ConversationID])
		}
		last[b.Data.ConversationID] = b.Data.Seq
	}
	if fail.Load() == 0 {
		t.Fatal("no request failed, so order under retries was not tested")
	}
}

func TestHangingReceiverTimesOut(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ received, w http.ResponseWriter) {
		if n == 1 {
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { close(release) }) // runs before the receiver's Close
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	f.say(f.conv.ID, "slow")
	start := time.Now()
	f.worker(deliver.Options{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	eventually(t, "the retry after the timeout", func() bool { return len(rc.requests()) >= 2 })
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the retry came after %s", took)
	}
	var log *service.WebhookLog
	eventually(t, "both attempts logged", func() bool {
		var err error
		log, err = f.svc.WebhookDeliveryLog(context.Background(), f.actor, ep.ID, 10)
		must(t, err)
		return len(log.Attempts) == 2
	})
	hung := log.Attempts[1]
	if hung.StatusCode != 0 || !strings.Contains(hung.Error, "no answer within 300ms") || hung.LatencyMillis < 250 || hung.LatencyMillis > 3000 {
		t.Fatalf("the hung attempt was logged as %+v", hung)
	}
}

func TestPrivateAddressRefused(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, nil)
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	f.say(f.conv.ID, "to loopback")
	f.worker(deliver.Options{}) // private addresses not allowed
	var log *service.WebhookLog
	eventually(t, "the refusal logged", func() bool {
		var err error
		log, err = f.svc.WebhookDeliveryLog(context.Background(), f.actor, ep.ID, 10)
		must(t, err)
		return len(log.Attempts) > 0
	})
	if !strings.Contains(log.Attempts[0].Error, "private, loopback or link-local") || log.Attempts[0].StatusCode != 0 {
		t.Fatalf("attempt %+v", log.Attempts[0])
	}
	if strings.Contains(log.Attempts[0].Error, rc.URL) {
		t.Fatal("the error repeats the url")
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

func TestRedirectsAndLargeResponses(t *testing.T) {
	f := newFixture(t)
	var followed atomic.Bool
	target := newReceiver(t, func(int, received, http.ResponseWriter) { followed.Store(true) })
	big := strings.Repeat("é", 100_000)
	rc := newReceiver(t, func(n int, _ received, w http.ResponseWriter) {
		if n == 1 {
			http.Redirect(w, &http.Request{}, target.URL, http.StatusFound)
			return
		}
		io.WriteString(w, big)
	})
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	f.say(f.conv.ID, "x")
	f.worker(deliver.Options{AllowPrivate: true})
	var log *service.WebhookLog
	eventually(t, "delivered after the redirect", func() bool {
		var err error
		log, err = f.svc.WebhookDeliveryLog(context.Background(), f.actor, ep.ID, 10)
		must(t, err)
		return len(log.Deliveries) == 1 && log.Deliveries[0].State == webhook.DeliveryDelivered
	})
	if followed.Load() {
		t.Fatal("the redirect was followed")
	}
	redirect, ok := log.Attempts[1], log.Attempts[0]
	if redirect.StatusCode != 302 || !strings.Contains(redirect.Error, "redirects are not followed") {
		t.Fatalf("redirect attempt %+v", redirect)
	}
	if ok.StatusCode != 200 || len(ok.Response) > webhook.MaxResponseExcerpt || !strings.HasPrefix(big, ok.Response) || len(ok.Response) < webhook.MaxResponseExcerpt-1 {
		t.Fatalf("large response kept as %d bytes", len(ok.Response))
	}
}

func TestAutoDisable(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, func(_ int, _ received, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	announced := make(chan bus.Event, 1)
	unsub := f.bus.Subscribe(func(e bus.Event) {
		if e.Type == deliver.BusTypeDisabled {
			select {
			case announced <- e:
			default:
			}
		}
	})
	defer unsub()
	f.say(f.conv.ID, "doomed")
	f.worker(deliver.Options{AllowPrivate: true, DisableMinFailures: 3, DisableAfter: time.Nanosecond})
	var e bus.Event
	select {
	case e = <-announced:
	case <-time.After(10 * time.Second):
		t.Fatal("no announcement of the disabled endpoint")
	}
	if e.AppID != f.actor.AppID || !strings.Contains(string(e.Data), ep.ID) {
		t.Fatalf("announcement %+v", e)
	}
	v, err := f.svc.GetWebhook(context.Background(), f.actor, ep.ID)
	must(t, err)
	if v.Enabled || !strings.Contains(v.DisabledReason, "3 failed attempts") {
		t.Fatalf("endpoint %+v", v.Endpoint)
	}
	n := len(rc.requests())
	time.Sleep(150 * time.Millisecond)
	if m := len(rc.requests()); m != n || n != 3 {
		t.Fatalf("%d then %d requests, want 3 and none after disabling", n, m)
	}
}

// TestTwoNodesPostgres runs two workers on two stores sharing one
// PostgreSQL database: every event is delivered, and none by both nodes.
// postgresNodes opens n services, as n nodes would, on the PostgreSQL
// database at url, sharing the bus b.
func postgresNodes(t testing.TB, url string, n int, b bus.Bus) ([]*service.Service, []store.Store) {
	ctx := context.Background()
	keys, err := auth.NewKeyring(bytes.Repeat([]byte{9}, auth.MasterKeyLen))
	must(t, err)
	var svcs []*service.Service
	var stores []store.Store
	for range n {
		st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 8})
		must(t, err)
		t.Cleanup(func() { st.Close() })
		disk, err := upload.NewDisk(t.TempDir())
		must(t, err)
		t.Cleanup(func() { disk.Close() })
		svc := service.New(service.Options{Store: st, Blobs: disk, Keys: keys, Passwords: auth.TestParams, Bus: b})
		_, err = svc.EnsureDefaults(ctx, service.Bootstrap{AdminEmail: "o@example.com", AdminPassword: "owner-password"})
		must(t, err)
		svcs, stores = append(svcs, svc), append(stores, st)
	}
	return svcs, stores
}

func TestTwoNodesPostgres(t *testing.T) {
	b := bus.NewLocal()
	svcs, stores := postgresNodes(t, pgtest.URL(t), 2, b)
	var mu sync.Mutex
	byID := map[string]int{}
	rc := newReceiver(t, func(_ int, r received, w http.ResponseWriter) {
		mu.Lock()
		byID[r.id]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	f := fixtureOn(t, svcs[0], stores[0], b)
	f.endpoint(rc.URL, service.WebhookInput{})
	for i, name := range []string{"node-a", "node-b"} {
		g := &fixture{t: t, svc: svcs[i], store: stores[i], bus: b}
		g.worker(deliver.Options{AllowPrivate: true, NodeID: name, Concurrency: 16})
	}
	convs := []chat.Conversation{f.conv, f.newConv(), f.newConv(), f.newConv()}
	const per = 75
	var wg sync.WaitGroup
	for i, c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := *f
			g.store = stores[i%2]
			for k := range per {
				g.say(c.ID, fmt.Sprint(k))
			}
		}()
	}
	wg.Wait()
	eventually(t, "every event delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(byID) == len(convs)*per
	})
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range byID {
		if n != 1 {
			t.Fatalf("event %s delivered %d times", id, n)
		}
	}
	if total := len(rc.requests()); total != len(convs)*per {
		t.Fatalf("%d requests for %d events", total, len(convs)*per)
	}
}

// The worker's retention sweep deletes delivered events once they are
// older than the retention, and leaves a delivery that is still being
// retried alone.
func TestRetentionSweep(t *testing.T) {
	f := newFixture(t)
	var failing atomic.Bool
	rc := newReceiver(t, func(_ int, r received, w http.ResponseWriter) {
		var b struct{ Data chat.Message }
		if json.Unmarshal(r.body, &b) == nil && b.Data.Text == "stuck" {
			failing.Store(true)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ep := f.endpoint(rc.URL, service.WebhookInput{})
	stuck := f.newConv()
	for i := range 20 {
		f.say(f.conv.ID, fmt.Sprint(i))
	}
	f.say(stuck.ID, "stuck")
	list := func() []webhook.Delivery {
		ds, err := f.store.ListWebhookDeliveries(context.Background(), f.actor.AppID, ep.ID, 100)
		must(t, err)
		return ds
	}
	// Retried for an hour, never sooner than a minute apart: it stays open.
	f.worker(deliver.Options{AllowPrivate: true, Retention: 300 * time.Millisecond, SweepEvery: 50 * time.Millisecond,
		Retry: webhook.Retry{Base: time.Minute, Max: time.Minute, MaxAge: time.Hour}})
	eventually(t, "the stuck delivery tried once", failing.Load)
	eventually(t, "delivered events swept", func() bool { return len(list()) == 1 })
	ds := list()
	if ds[0].ConversationID != stuck.ID || ds[0].State != webhook.DeliveryPending {
		t.Fatalf("the sweep left %+v, want the pending delivery of %s", ds[0], stuck.ID)
	}
	if n := len(rc.requests()); n != 21 {
		t.Fatalf("receiver got %d requests, want 21", n)
	}
}
