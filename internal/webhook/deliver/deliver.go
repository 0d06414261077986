// Package deliver owns the goroutines that send outgoing webhooks from a
// node. It claims deliveries from the store's outbox under a lease, sends
// each signed per Standard Webhooks, and reports the outcome, which the
// store turns into delivered, a scheduled retry, or a give-up. Leases make
// it safe to run on every node at once: a delivery is held by one node at a
// time, and a node that dies simply lets its leases expire.
//
// Delivery is at least once. A node that dies after the receiver answered
// but before the outcome was stored sends the event again after the lease;
// the repeat carries the same webhook-id and body, which is how receivers
// recognise it.
package deliver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/bot/webhookbot"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultPoll               = time.Second
	DefaultConcurrency        = 256
	DefaultMaxResponseBytes   = 64 << 10
	DefaultDisableAfter       = 24 * time.Hour
	DefaultDisableMinFailures = 20
	DefaultRetention          = 7 * 24 * time.Hour
	DefaultSweepEvery         = 10 * time.Minute
)

// Bounds of one retention sweep: rows per statement, and statements per
// sweep, so that a backlog (a retention shortened, a node long down) is
// worked off over several sweeps rather than in one long burst.
const (
	sweepBatch   = 1000
	sweepBatches = 100
)

// BusTypeDisabled is the bus event announcing that an endpoint was
// disabled after repeated failures; Data holds the endpoint id and reason.
const BusTypeDisabled = "webhook.disabled"

// Options configure a Worker. Store, Credentials and NodeID are required.
type Options struct {
	Store store.Store
	// Credentials opens an endpoint's sealed secrets
	// (service.WebhookCredentials).
	Credentials func(*webhook.Endpoint) (webhook.Credentials, error)
	// Bus, when set, wakes the worker as changes happen (on any node) and
	// carries BusTypeDisabled announcements.
	Bus    bus.Bus
	NodeID string
	// Timeout bounds one request, connection included.
	Timeout time.Duration
	// Lease is how long a claim lasts; it must outlast Timeout, since a
	// request is never renewed. 0 means 2·Timeout + 10 s.
	Lease time.Duration
	// Poll is how often the queue is checked without a wake-up; it is what
	// finds retries that fell due and leases that expired.
	Poll        time.Duration
	Concurrency int
	Retry       webhook.Retry
	// DisableAfter and DisableMinFailures: an endpoint failing for this
	// long, and at least this many attempts in a row, is disabled.
	DisableAfter       time.Duration
	DisableMinFailures int
	// AllowPrivate lets requests reach private, loopback and link-local
	// addresses (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// MaxResponseBytes bounds how much of a response is read.
	MaxResponseBytes int64
	// Retention is how long finished deliveries and their events are kept
	// (SWITCHBOARD_WEBHOOK_RETENTION); SweepEvery is how often this node
	// deletes what is older. Every node sweeps: the deletes are small and
	// two nodes sweeping at once only find each other's rows gone.
	Retention  time.Duration
	SweepEvery time.Duration
	Logger     *slog.Logger
}

// Worker delivers webhooks until closed.
type Worker struct {
	o      Options
	log    *slog.Logger
	client *http.Client
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	// slots holds one token per delivery this node has claimed and not yet
	// finished, at most Concurrency. Only the claim loop adds tokens; the
	// finisher passes a finished delivery's token on to one it claimed in
	// the same transaction, or gives it back.
	slots chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	// Outcomes go to one finisher goroutine, which stores whatever has
	// queued up in one transaction: a commit per delivery would cap a node
	// at the database's commits per second. The same transaction claims
	// the next deliveries of the conversations it finished: a
	// conversation's next event can go only once the one before it is
	// finished, so claiming in a separate transaction afterwards would put
	// two commits, one after the other, between a conversation's
	// consecutive deliveries.
	finishes   chan *finishReq
	stopFinish chan struct{}
	finisher   sync.WaitGroup
}

type finishReq struct {
	f    webhook.Finish
	done chan webhook.FinishResult
}

// maxFinishBatch bounds the outcomes stored in one transaction.
const maxFinishBatch = 256

// New returns a Worker; Start sets it going.
func New(o Options) *Worker {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Lease < o.Timeout+time.Second {
		o.Lease = 2*o.Timeout + 10*time.Second
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.DisableAfter <= 0 {
		o.DisableAfter = DefaultDisableAfter
	}
	if o.DisableMinFailures <= 0 {
		o.DisableMinFailures = DefaultDisableMinFailures
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = DefaultSweepEvery
	}
	w := &Worker{o: o, log: o.Logger, wake: make(chan struct{}, 1), slots: make(chan struct{}, o.Concurrency),
		finishes: make(chan *finishReq), stopFinish: make(chan struct{})}
	if w.log == nil {
		w.log = slog.Default()
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		d.Control = webhookbot.GuardControl
	}
	w.client = &http.Client{
		Transport: &http.Transport{
			// No proxy: the guard checks the address this process dials.
			Proxy:                  nil,
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           2 * o.Concurrency,
			MaxIdleConnsPerHost:    o.Concurrency,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    o.Timeout,
			MaxResponseHeaderBytes: 64 << 10,
		},
		// A redirect is a failure the admin should see, not a hop to
		// somewhere they never configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// Start runs the claim loop until ctx ends or Close is called.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.ctx = ctx
	unsub := func() {}
	if w.o.Bus != nil {
		// Messages and conversation changes are what write the outbox;
		// either, from any node, is reason enough to look.
		unsub = w.o.Bus.Subscribe(func(e bus.Event) {
			if e.Type == bus.TypeMessage || e.Type == bus.TypeInbox {
				w.Poke()
			}
		})
	}
	w.finisher.Add(1)
	go func() {
		defer w.finisher.Done()
		w.finishLoop()
	}()
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		defer unsub()
		w.loop(ctx)
	}()
	go func() {
		defer w.wg.Done()
		w.sweepLoop(ctx)
	}()
}

// sweepLoop runs the retention sweep now and then every SweepEvery.
func (w *Worker) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(w.o.SweepEvery)
	defer tick.Stop()
	for {
		w.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Sweep deletes finished deliveries and events older than the retention,
// and attempts beyond each endpoint's log, in bounded batches until a
// batch finds less than it may delete. It reports what it deleted.
func (w *Worker) Sweep(ctx context.Context) store.WebhookPurge {
	var total store.WebhookPurge
	for range sweepBatches {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		p, err := w.o.Store.PurgeWebhooks(cctx, time.Now().Add(-w.o.Retention), sweepBatch)
		cancel()
		total.Deliveries += p.Deliveries
		total.Events += p.Events
		total.Attempts += p.Attempts
		if err != nil {
			if ctx.Err() == nil {
				w.log.WarnContext(ctx, "sweeping old webhook deliveries failed", "err", err)
			}
			break
		}
		if p.Deliveries < sweepBatch && p.Events < sweepBatch && p.Attempts < sweepBatch {
			break
		}
	}
	if total != (store.WebhookPurge{}) {
		w.log.InfoContext(ctx, "swept old webhook deliveries", "deliveries", total.Deliveries, "events", total.Events, "attempts", total.Attempts)
	}
	return total
}

// Close stops claiming and waits for the requests in flight; those cut
// short are released to the queue without counting the attempt.
func (w *Worker) Close() {
	w.once.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
		w.wg.Wait()
		// Every delivery goroutine has stored its outcome by now.
		close(w.stopFinish)
	})
	w.wg.Wait()
	w.finisher.Wait()
}

// finish hands an outcome, and with it the delivery's slot, to the
// finisher and waits for its result. ok is false when the worker closed
// first, leaving the slot with the caller.
func (w *Worker) finish(f webhook.Finish) (res webhook.FinishResult, ok bool) {
	r := &finishReq{f: f, done: make(chan webhook.FinishResult, 1)}
	select {
	case w.finishes <- r:
		return <-r.done, true
	case <-w.stopFinish:
		return webhook.FinishResult{Err: errors.New("the worker is closed")}, false
	}
}

func (w *Worker) finishLoop() {
	batch := make([]*finishReq, 0, maxFinishBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-w.finishes:
			batch = append(batch, r)
		case <-w.stopFinish:
			return
		}
	gather:
		for len(batch) < maxFinishBatch {
			select {
			case r := <-w.finishes:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		fs := make([]webhook.Finish, len(batch))
		for i, r := range batch {
			fs[i] = r.f
		}
		rs, claimed, err := w.finishBatch(fs)
		// The batch's slots pass to what was claimed; the rest are free.
		// This comes before the replies: until then the batch's senders
		// keep Close waiting, so no new sender can start after it.
		for _, d := range claimed {
			w.dispatch(d)
		}
		for range len(batch) - len(claimed) {
			<-w.slots
		}
		for i, r := range batch {
			if err != nil {
				r.done <- webhook.FinishResult{Err: err}
				continue
			}
			r.done <- rs[i]
		}
		if len(claimed) < len(batch) {
			// Slots came free, and other conversations may be due (new
			// ones, retries), which only the claim loop looks for.
			w.Poke()
		}
	}
}

// finishBatch stores outcomes and, unless the worker is stopping, claims
// what they unblocked in the same transaction, at most one per outcome.
func (w *Worker) finishBatch(fs []webhook.Finish) ([]webhook.FinishResult, []webhook.Delivery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if w.ctx.Err() != nil {
		rs, err := w.o.Store.FinishWebhookDeliveries(ctx, fs)
		return rs, nil, err
	}
	rs, claimed, err := w.o.Store.FinishAndClaimWebhookDeliveries(ctx, fs, w.o.NodeID, w.o.Lease, len(fs))
	if err != nil && w.ctx.Err() == nil {
		w.log.WarnContext(ctx, "storing webhook outcomes failed", "err", err)
	}
	return rs, claimed, err
}

// dispatch sends d on its own goroutine; d's slot is already taken.
func (w *Worker) dispatch(d webhook.Delivery) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if !w.deliver(w.ctx, d) {
			<-w.slots
			w.Poke()
		}
	}()
}

// Poke makes the worker look at the queue now rather than at its next poll.
func (w *Worker) Poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) loop(ctx context.Context) {
	tick := time.NewTicker(w.o.Poll)
	defer tick.Stop()
	// Under load, a claim waits until a few slots are free: every claim is
	// a write transaction, and claiming one delivery per freed slot would
	// spend the database's commits on claims (the finisher's claims cost
	// no commit of their own). With the queue short (the last claim found
	// less than it asked for) it claims at once, which is what keeps the
	// delay low when the node is not busy.
	minClaim := max(1, w.o.Concurrency/8)
	busy := false
	for {
		if free := cap(w.slots) - len(w.slots); free > 0 && (!busy || free >= minClaim) {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			ds, err := w.o.Store.ClaimWebhookDeliveries(cctx, w.o.NodeID, w.o.Lease, free)
			cancel()
			if err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "claiming webhook deliveries failed", "err", err)
			}
			for _, d := range ds {
				w.slots <- struct{}{}
				w.dispatch(d)
			}
			busy = len(ds) == free
			if busy && len(ds) > 0 {
				continue // more may be waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.wake:
		}
	}
}

// deliver sends one delivery and stores the outcome. It reports whether
// the delivery's slot went to the finisher with the outcome.
func (w *Worker) deliver(ctx context.Context, d webhook.Delivery) (slotPassed bool) {
	a := w.send(ctx, d)
	// The outcome is stored even while shutting down: the request is over.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ctx.Err() != nil && !a.OK() {
		// Cut short by shutdown, not failed by the receiver: another node
		// (or this one, restarted) sends it without counting this try.
		if err := w.o.Store.ReleaseWebhookDelivery(sctx, d.ID, d.LeaseToken); err != nil && !chat.IsCode(err, chat.CodeConflict) {
			w.log.WarnContext(sctx, "releasing a webhook delivery failed; it is retried after its lease", "delivery", d.ID, "err", err)
		}
		return false
	}
	o := webhook.Outcome{Attempt: a, DisableAfter: w.o.DisableAfter, DisableMinFailures: w.o.DisableMinFailures}
	if !a.OK() {
		o.RetryAt = w.o.Retry.Next(d.Attempts, d.Event.CreatedAt, time.Now())
	}
	res, slotPassed := w.finish(webhook.Finish{DeliveryID: d.ID, Token: d.LeaseToken, Outcome: o})
	disabled, err := res.Disabled, res.Err
	switch {
	case chat.IsCode(err, chat.CodeConflict):
		w.log.DebugContext(sctx, "webhook delivery lease lost", "delivery", d.ID)
	case err != nil:
		// Left to its lease: it is sent again after expiry, same id.
		w.log.ErrorContext(sctx, "storing a webhook outcome failed; it will be sent again after its lease", "delivery", d.ID, "err", err)
	case !a.OK() && o.RetryAt.IsZero():
		w.log.WarnContext(sctx, "webhook delivery given up", "app", d.AppID, "webhook", d.EndpointID, "event", d.EventID, "attempts", d.Attempts)
	}
	if disabled {
		w.announceDisabled(sctx, d)
	}
	return slotPassed
}

// announceDisabled tells admins: the log for operators, and a bus event
// for dashboards; the endpoint itself shows enabled false and the reason.
func (w *Worker) announceDisabled(ctx context.Context, d webhook.Delivery) {
	reason := "disabled after repeated failures"
	if e, err := w.o.Store.GetWebhook(ctx, d.AppID, d.EndpointID); err == nil && e.DisabledReason != "" {
		reason = e.DisabledReason
	}
	w.log.ErrorContext(ctx, "webhook endpoint disabled after repeated failures", "app", d.AppID, "webhook", d.EndpointID, "reason", reason)
	if w.o.Bus == nil {
		return
	}
	data, _ := json.Marshal(map[string]string{"webhookId": d.EndpointID, "reason": reason})
	if err := w.o.Bus.Publish(ctx, bus.Event{Type: BusTypeDisabled, AppID: d.AppID, Data: data, Node: w.o.NodeID}); err != nil {
		w.log.WarnContext(ctx, "announcing a disabled webhook failed", "webhook", d.EndpointID, "err", err)
	}
}

// send makes one attempt and describes it for the log.
func (w *Worker) send(ctx context.Context, d webhook.Delivery) webhook.Attempt {
	start := time.Now()
	a := webhook.Attempt{}
	finish := func() webhook.Attempt {
		a.LatencyMillis = time.Since(start).Milliseconds()
		return a
	}
	creds, err := w.o.Credentials(&d.Endpoint)
	if err != nil {
		a.Error = "the endpoint's secret cannot be read"
		return finish()
	}
	key, err := webhook.SecretKey(creds.Secret)
	if err != nil {
		a.Error = "the endpoint's secret is malformed"
		return finish()
	}
	rctx, cancel := context.WithTimeout(ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, d.Endpoint.URL, bytes.NewReader(d.Event.Body))
	if err != nil {
		a.Error = "the endpoint's url cannot be used"
		return finish()
	}
	ts := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(webhook.HeaderID, d.Event.ID)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(key, d.Event.ID, ts, d.Event.Body))
	if creds.BasicAuth != "" {
		// Kommunicate's header name, not Authorization: receivers migrating
		// from it read this one.
		req.Header.Set("Authentication", "Basic "+base64.StdEncoding.EncodeToString([]byte(creds.BasicAuth)))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		a.Error = describe(err, rctx, ctx, w.o.Timeout)
		return finish()
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, w.o.MaxResponseBytes))
	a.Response = excerpt(body)
	if err != nil && a.OK() {
		// The receiver said yes; a body cut off afterwards changes nothing.
		a.Error = ""
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.Error = "redirects are not followed; point the webhook at " + redirectTarget(resp)
	}
	return finish()
}

// describe turns a transport error into an admin-safe line. url.Error
// repeats the URL, query string and all, which may hold a token.
func describe(err error, rctx, parent context.Context, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case webhookbot.IsPrivateAddress(err):
		return "refused: the address is private, loopback or link-local; use a public address, or allow private webhook addresses in the server configuration"
	case parent.Err() != nil:
		return "interrupted by shutdown"
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return "cannot connect: " + ne.Err.Error()
	}
	return "request failed: " + err.Error()
}

func redirectTarget(resp *http.Response) string {
	if loc := resp.Header.Get("Location"); loc != "" && len(loc) <= 200 {
		return "its final address (" + strings.ToValidUTF8(loc, "") + ")"
	}
	return "its final address"
}

// excerpt keeps the start of a response body, cut on a rune boundary.
func excerpt(b []byte) string {
	if len(b) > webhook.MaxResponseExcerpt {
		b = b[:webhook.MaxResponseExcerpt]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "")
}
