package botrun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/botrun"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// BenchmarkBotTurn measures what the platform adds to a bot turn (issue 5,
// "Speed"): from the contact's message stored and acknowledged
// (service.SendMessage returned) to the bot's reply stored and announced on
// the service's bus (what the realtime layer pushes to clients), minus the
// bot's own time, measured inside the bot's HTTP handler. See
// docs/benchmarks.md for how to run it and what the figures include.
//
// It runs on one node (SQLite, the in-process bus; and PostgreSQL) and on two (two services
// with their own connection pools on one PostgreSQL database, linked by
// NATS, each running a bot worker, as two switchboard processes would).
// On two nodes the contact sends on the first and the reply is watched for
// on the second's bus, so every reply crosses NATS, as it does for a widget
// connected to the other node.
//
// Each sub-benchmark does turnsPerRun measured turns per b.N (run it with
// -benchtime 1x), cut off at runCap, after warmupTurns unmeasured ones.
func BenchmarkBotTurn(b *testing.B) {
	setups := []struct {
		name  string
		nodes func(b *testing.B) []*servicetest.Env
	}{
		{"sqlite", func(b *testing.B) []*servicetest.Env { return []*servicetest.Env{servicetest.New(b, nil)} }},
		// One node on PostgreSQL separates what the database costs from
		// what the second node and NATS add.
		{"postgres", func(b *testing.B) []*servicetest.Env { return servicetest.Nodes(b, pgtest.URL(b), bus.NewLocal()) }},
		{"postgres-nats-2nodes", func(b *testing.B) []*servicetest.Env {
			return servicetest.Nodes(b, pgtest.URL(b), natstest.Bus(b, "node-0"), natstest.Bus(b, "node-1"))
		}},
	}
	for _, s := range setups {
		b.Run(s.name, func(b *testing.B) {
			b.Run("sequential", func(b *testing.B) { benchBotTurns(b, s.nodes(b), 1) })
			b.Run("concurrent16", func(b *testing.B) { benchBotTurns(b, s.nodes(b), 16) })
		})
	}
}

const (
	turnsPerRun = 500
	warmupTurns = 20
	runCap      = 60 * time.Second
	// replyWait fails the benchmark rather than hanging it: a reply this
	// late means the pipeline is broken, not slow.
	replyWait = 10 * time.Second
)

// instantBot is a webhook bot that answers every request at once with one
// text reply. It notes how long its handler took per conversation (the
// bot's own time) and keeps one request body for the baseline.
type instantBot struct {
	srv     *httptest.Server
	own     sync.Map // conversation id -> time.Duration
	mu      sync.Mutex
	lastReq []byte
}

var instantReply = []byte(`[{"message":"ok"}]`)

func newInstantBot(b *testing.B) *instantBot {
	ib := &instantBot{}
	ib.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Decoded like a real bot would, and to learn the conversation.
		var req webhookbot.Request
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(instantReply)
		ib.own.Store(req.GroupID, time.Since(start))
		if req.EventName == "" {
			ib.mu.Lock()
			ib.lastReq = body
			ib.mu.Unlock()
		}
	}))
	b.Cleanup(ib.srv.Close)
	return ib
}

// timedConnector measures each Connector.Turn call, which is what
// turn.Outcome.Timing.Connector sums; RunBotTurn keeps the Outcome to
// itself, so the benchmark takes the same measurement one layer out.
type timedConnector struct {
	inner bot.Connector
	took  sync.Map // conversation id -> time.Duration
}

func (c *timedConnector) Turn(ctx context.Context, t bot.Turn, state json.RawMessage) (bot.Result, error) {
	start := time.Now()
	res, err := c.inner.Turn(ctx, t, state)
	c.took.Store(t.ConversationID, time.Since(start))
	return res, err
}

// seen is one message event as the bus delivered it.
type seen struct {
	seq int64
	at  time.Time
}

// turnSample is one measured turn.
type turnSample struct {
	send, e2e, own, conn time.Duration
}

// benchBotTurns sends on the first of nodes and watches for replies on the
// last; every node runs a bot worker.
func benchBotTurns(b *testing.B, nodes []*servicetest.Env, convs int) {
	ctx := context.Background()
	e, watch := nodes[0], nodes[len(nodes)-1]
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		b.Fatal(err)
	}
	ib := newInstantBot(b)
	hook, _ := json.Marshal(webhookbot.Settings{URL: ib.srv.URL, TimeoutSeconds: 5})
	v, err := e.Service.CreateBot(ctx, admin, service.NewBot{Name: "Instant", Type: chat.BotWebhook, Webhook: hook})
	if err != nil {
		b.Fatal(err)
	}
	tc := &timedConnector{inner: webhookbot.New(webhookbot.Options{AllowPrivate: true})}
	runner := turn.New(turn.Options{Connectors: map[chat.BotType]bot.Connector{chat.BotWebhook: tc}})
	// Production defaults for lease, poll and concurrency: the poll must
	// not be what wakes the worker, or the figure would measure the poll.
	for i, n := range nodes {
		w := botrun.New(botrun.Options{Service: n.Service, Runner: runner, NodeID: fmt.Sprintf("bench-%d", i)})
		w.Start(ctx)
		b.Cleanup(w.Close) // before the store closes: cleanups run last-in first-out
	}

	// One buffered channel per conversation; the bus callback must not
	// block, and it stamps the time itself so a slow reader adds nothing.
	events := map[string]chan seen{}
	var cs []*chat.Conversation
	for i := range convs {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{
			Contact:  service.ContactInput{Name: fmt.Sprintf("Visitor %d", i)},
			Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: v.Bot.ID},
			// No welcome turn: every turn measured is a contact message.
			SkipBotEvent: true,
		})
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
		events[c.ID] = make(chan seen, 64)
	}
	unsub := watch.Service.Bus().Subscribe(func(ev bus.Event) {
		if ev.Type != bus.TypeMessage {
			return
		}
		at := time.Now()
		if ch, ok := events[ev.ConversationID]; ok {
			select {
			case ch <- seen{ev.Seq, at}:
			default:
			}
		}
	})
	b.Cleanup(unsub)

	// oneTurn sends a contact message and waits for the bot's reply, the
	// first message event in the conversation after the contact's seq
	// (nothing else posts there).
	oneTurn := func(c *chat.Conversation, n int) (turnSample, error) {
		ch := events[c.ID]
		start := time.Now()
		m, _, err := e.Service.SendMessage(ctx, service.ContactActor(c.AppID, c.ContactID), c.ID, service.SendInput{Text: fmt.Sprintf("hello %d", n)})
		t0 := time.Now()
		if err != nil {
			return turnSample{}, err
		}
		timeout := time.NewTimer(replyWait)
		defer timeout.Stop()
		for {
			select {
			case s := <-ch:
				if s.seq <= m.Seq {
					continue // the contact's own message
				}
				own, _ := ib.own.Load(c.ID)
				conn, _ := tc.took.Load(c.ID)
				return turnSample{send: t0.Sub(start), e2e: s.at.Sub(t0), own: own.(time.Duration), conn: conn.(time.Duration)}, nil
			case <-timeout.C:
				return turnSample{}, fmt.Errorf("conversation %s: no bot reply within %s", c.ID, replyWait)
			}
		}
	}

	for i := range warmupTurns {
		if _, err := oneTurn(cs[i%len(cs)], -i); err != nil {
			b.Fatal(err)
		}
	}

	// Baseline, same process, same bot, same body: a bare keep-alive
	// round trip with net/http, the floor for any webhook turn.
	ib.mu.Lock()
	body := ib.lastReq
	ib.mu.Unlock()
	base := baselineRoundTrips(b, ib.srv.URL, body, turnsPerRun*b.N)

	total := int64(turnsPerRun * b.N)
	deadline := time.Now().Add(runCap)
	var (
		next    atomic.Int64
		mu      sync.Mutex
		samples []turnSample
		wg      sync.WaitGroup
		failed  error
	)
	b.ResetTimer()
	for _, c := range cs {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > total || time.Now().After(deadline) {
					return
				}
				s, err := oneTurn(c, int(n))
				mu.Lock()
				if err != nil {
					failed = err
				} else {
					samples = append(samples, s)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}

	// platform: the definition, e2e minus the bot's own time.
	// pastConnector: also minus the connector (request build, loopback
	// HTTP, response decode), i.e. Total - Connector - Backoff.
	pick := func(f func(turnSample) time.Duration) []time.Duration {
		out := make([]time.Duration, len(samples))
		for i, s := range samples {
			out[i] = f(s)
		}
		return out
	}
	platform := pick(func(s turnSample) time.Duration { return s.e2e - s.own })
	past := pick(func(s turnSample) time.Duration { return s.e2e - s.conn })
	conn := pick(func(s turnSample) time.Duration { return s.conn })
	own := pick(func(s turnSample) time.Duration { return s.own })
	send := pick(func(s turnSample) time.Duration { return s.send })

	b.ReportMetric(0, "ns/op") // one op is a whole run; per-op time means nothing
	b.ReportMetric(float64(len(samples)), "turns")
	b.ReportMetric(ms(pct(platform, 50)), "p50-ms")
	b.ReportMetric(ms(pct(platform, 99)), "p99-ms")
	b.ReportMetric(ms(pct(base, 50)), "base-p50-ms")
	b.ReportMetric(ms(pct(base, 99)), "base-p99-ms")
	b.ReportMetric(ms(pct(platform, 50))/ms(pct(base, 50)), "x-base-p50")
	b.ReportMetric(ms(pct(platform, 99))/ms(pct(base, 99)), "x-base-p99")
	b.ReportMetric(ms(pct(past, 50)), "beyond-conn-p50-ms")
	b.ReportMetric(ms(pct(conn, 50)), "conn-p50-ms")
	b.ReportMetric(ms(pct(own, 50)), "bot-own-p50-ms")
	b.ReportMetric(ms(pct(send, 50)), "send-p50-ms")
	b.ReportMetric(ms(pct(send, 99)), "send-p99-ms")
}

// baselineRoundTrips POSTs body to url n times (capped at runCap) over one
// keep-alive client and returns each round trip's duration.
func baselineRoundTrips(b *testing.B, url string, body []byte, n int) []time.Duration {
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(runCap)
	out := make([]time.Duration, 0, n)
	for i := 0; i < n+warmupTurns && time.Now().Before(deadline); i++ {
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("baseline round trip: status %d, %v", resp.StatusCode, err)
		}
		if i >= warmupTurns {
			out = append(out, time.Since(start))
		}
	}
	return out
}

// pct is the nearest-rank percentile p of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
