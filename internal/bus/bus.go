// Package bus carries wake-up events between the parts of a node and
// between nodes. It is deliberately not a source of truth: the store is.
// An event says "conversation C has a message with seq N" or "app A's inbox
// changed"; whoever receives it reads the store. A lost or late event
// therefore delays a delivery but never loses it, and a duplicate is
// harmless.
//
// Local is the in-process bus of a single node; natsbus/ links nodes through a
// NATS server. Both pass the same suite, bustest.
package bus

import (
	"context"
	"encoding/json"
)

// Event types.
const (
	TypeMessage  = "message"  // ConversationID and Seq are set
	TypeInbox    = "inbox"    // the app's inbox changed; Seq is the inbox seq when known, ConversationID the changed conversation when there is one
	TypeTyping   = "typing"   // ConversationID set; Data holds who is typing
	TypePresence = "presence" // Data holds the agent and their presence
)

// Event is one wake-up. Data carries small type-specific details (typing,
// presence) that have no place in the store.
type Event struct {
	Type           string          `json:"type"`
	AppID          string          `json:"appId"`
	ConversationID string          `json:"conversationId,omitempty"`
	Seq            int64           `json:"seq,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	// Node is the id of the node that published the event, so that a node
	// can tell its own events from others'.
	Node string `json:"node,omitempty"`
}

// Bus publishes events to every subscriber on every node, the publishing
// node included.
type Bus interface {
	// Publish sends e. It does not wait for subscribers; an error means the
	// event may not have left this node (callers log it and go on: the store
	// still has the truth).
	Publish(ctx context.Context, e Event) error
	// Subscribe calls fn for every event until the returned function is
	// called. fn runs on the bus's delivery goroutine and must not block:
	// hand the event off and return. It may run on several goroutines at
	// once (a publisher's own, and the one bringing other nodes' events).
	Subscribe(fn func(Event)) (unsubscribe func())
	// Close stops delivery and releases the connection.
	Close() error
}
