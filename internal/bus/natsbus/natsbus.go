// Package natsbus links the nodes of a cluster through core NATS. Each event
// is published as JSON on a subject per app; every node subscribes to all of
// them. Core NATS is at-most-once, which is all a wake-up needs: the store
// is the truth, and a lost event only delays a delivery (see package bus).
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-chat/switchboard/internal/bus"
)

// subjectPrefix plus the app id is an event's subject. One subject per app
// leaves room for a node to subscribe only to the apps it serves later on.
const subjectPrefix = "switchboard.ev."

// Bounds on what the server may queue for this node before the client
// drops events (and reports a slow consumer). Events are a few hundred
// bytes and subscribers never block, so reaching these means the node is
// badly overloaded; dropping wake-ups then is the designed behaviour.
const (
	pendingMsgs  = 1 << 16
	pendingBytes = 64 << 20
)

// Reconnect backoff: quick at first, so a NATS restart costs little, then
// capped, so a long outage does not hammer the server when it comes back.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 5 * time.Second
)

// Bus is a bus.Bus over a NATS connection.
type Bus struct {
	nc    *nats.Conn
	node  string
	log   *slog.Logger
	local *bus.Local // this node's subscribers

	closeOnce sync.Once
	closed    chan struct{} // closed by the connection's ClosedHandler
	closeErr  error
}

var _ bus.Bus = (*Bus)(nil)

// Open connects to the NATS server at url (which may carry credentials; it
// is never logged) as node nodeID. The first connection must succeed, so a
// wrong URL fails the node's start; after that the client reconnects
// forever, and events published while disconnected are buffered by the
// client (up to its reconnect buffer) and sent on reconnection.
func Open(ctx context.Context, url, nodeID string, log *slog.Logger) (*Bus, error) {
	if nodeID == "" {
		return nil, errors.New("natsbus: node id is required")
	}
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{node: nodeID, log: log, local: bus.NewLocal(), closed: make(chan struct{})}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("natsbus: connect: %w", context.DeadlineExceeded)
	}
	nc, err := nats.Connect(url,
		nats.Name("switchboard "+nodeID),
		// A node delivers its own events to its own subscribers in Publish,
		// without the round trip through the server; the echo would be a
		// duplicate.
		nats.NoEcho(),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		// Notice a dead server (no TCP reset, e.g. a network partition)
		// within about a minute rather than the default several minutes.
		nats.PingInterval(20*time.Second),
		nats.MaxPingsOutstanding(3),
		nats.DrainTimeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected; reconnecting", "node", nodeID, "err", err)
			} else {
				log.Info("nats disconnected", "node", nodeID)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "node", nodeID, "server", c.ConnectedAddr())
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				log.Warn("nats: events dropped, this node is not keeping up (slow consumer)", "node", nodeID)
				return
			}
			log.Warn("nats error", "node", nodeID, "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbus: connect: %w", err)
	}
	b.nc = nc
	sub, err := nc.Subscribe(subjectPrefix+"*", b.deliver)
	if err == nil {
		err = sub.SetPendingLimits(pendingMsgs, pendingBytes)
	}
	// Flush makes the server acknowledge the subscription, so that every
	// event published anywhere after Open returns reaches this node.
	if err == nil {
		fctx, cancel := context.WithTimeout(ctx, timeout)
		err = nc.FlushWithContext(fctx)
		cancel()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natsbus: subscribe: %w", err)
	}
	log.Info("nats connected", "node", nodeID, "server", nc.ConnectedAddr())
	return b, nil
}

func reconnectDelay(attempts int) time.Duration {
	d := reconnectMax
	if attempts < 16 {
		d = min(reconnectMin<<max(attempts-1, 0), reconnectMax)
	}
	// Jitter spreads the reconnects of many nodes after a server restart.
	return d + rand.N(d/4+1)
}

// deliver runs on the subscription's goroutine. Subscribers never block
// (bus.Bus's contract), so neither does this.
func (b *Bus) deliver(m *nats.Msg) {
	var e bus.Event
	if err := json.Unmarshal(m.Data, &e); err != nil {
		b.log.Warn("nats: undecodable event dropped", "subject", m.Subject, "err", err)
		return
	}
	if e.Node == b.node {
		return // already delivered locally by Publish
	}
	_ = b.local.Publish(context.Background(), e) // fails only once closed
}

// validToken reports whether s can be one token of a NATS subject.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ". \t\r\n*>")
}

// Publish sends e to the other nodes and delivers it to this node's
// subscribers directly.
func (b *Bus) Publish(ctx context.Context, e bus.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validToken(e.AppID) {
		return fmt.Errorf("natsbus: app id %q cannot name a subject", e.AppID)
	}
	e.Node = b.node
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("natsbus: encode: %w", err)
	}
	// Local subscribers first: they get the event even when NATS is down,
	// and with the lowest latency.
	if err := b.local.Publish(ctx, e); err != nil {
		return fmt.Errorf("natsbus: %w", err)
	}
	if err := b.nc.Publish(subjectPrefix+e.AppID, data); err != nil {
		return fmt.Errorf("natsbus: publish: %w", err)
	}
	return nil
}

// Subscribe registers fn for every event of every node, this one included.
func (b *Bus) Subscribe(fn func(bus.Event)) func() { return b.local.Subscribe(fn) }

// Close drains the connection (events already received are delivered,
// events published are flushed), waits a bounded time for it to close, and
// then drops every subscriber.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		err := b.nc.Drain()
		if err != nil {
			// Draining is impossible while reconnecting; Drain has then
			// closed the connection itself.
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(10 * time.Second):
			b.nc.Close()
			err = errors.New("natsbus: drain timed out")
		}
		if errors.Is(err, nats.ErrConnectionReconnecting) {
			err = nil
		}
		b.closeErr = errors.Join(err, b.local.Close())
	})
	return b.closeErr
}
