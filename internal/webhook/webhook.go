// Package webhook is the domain of outgoing webhooks: endpoints, the events
// they subscribe to, the bodies sent for them, Standard Webhooks signing and
// the retry schedule. It does no I/O; the store writes events into its
// outbox in the transaction of the change that caused them, and the
// delivery worker (webhook/deliver) sends them.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// EventType names what happened.
type EventType string

const (
	MessageCreated            EventType = "message.created"
	ConversationCreated       EventType = "conversation.created"
	ConversationAssigned      EventType = "conversation.assigned"
	ConversationHandedOff     EventType = "conversation.handed_off"
	ConversationStatusChanged EventType = "conversation.status_changed"
	CSATSubmitted             EventType = "csat.submitted"
	// All subscribes an endpoint to every type, including types added later.
	All EventType = "*"
)

// EventTypes lists every concrete type, in the order the API documents them.
var EventTypes = []EventType{MessageCreated, ConversationCreated, ConversationAssigned,
	ConversationHandedOff, ConversationStatusChanged, CSATSubmitted}

// Limits on an endpoint's settings.
const (
	MaxURLLen       = 2048
	MaxEndpoints    = 20 // per app: each one multiplies the outbox writes
	MaxBasicAuthLen = 512
	secretPrefix    = "whsec_"
	minSecretBytes  = 24
	maxSecretBytes  = 64
)

// Endpoint is where an app's events go.
type Endpoint struct {
	ID      string      `json:"id"`
	AppID   string      `json:"appId"`
	URL     string      `json:"url"`
	Events  []EventType `json:"events"`
	Enabled bool        `json:"enabled"`
	// DisabledReason says why Switchboard turned the endpoint off (repeated
	// failures); empty when an admin did, or when it is enabled.
	DisabledReason string `json:"disabledReason,omitempty"`
	// Failures counts failed attempts since the last success, and
	// FailingSince is when the first of them happened.
	Failures     int        `json:"failures"`
	FailingSince *time.Time `json:"failingSince,omitempty"`
	// Sealed is the encrypted Credentials, as the store keeps them.
	Sealed    []byte    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Credentials are an endpoint's secrets, sealed together at rest.
type Credentials struct {
	// Secret signs every request ("whsec_" and base64 of the key).
	Secret string `json:"secret"`
	// BasicAuth, "user:password", adds an Authentication header for
	// receivers migrating from Kommunicate's webhooks.
	BasicAuth string `json:"basicAuth,omitempty"`
}

// SealAD binds sealed credentials to their endpoint, so a ciphertext copied
// to another endpoint's row does not open there.
func SealAD(appID, endpointID string) []byte {
	return []byte("webhook-credentials\x00" + appID + "\x00" + endpointID)
}

// Subscribes reports whether the endpoint wants events of type t.
func (e *Endpoint) Subscribes(t EventType) bool {
	return slices.Contains(e.Events, All) || slices.Contains(e.Events, t)
}

// ValidateURL accepts absolute http and https URLs without user info (the
// credentials belong in basicAuth, where they are sealed).
func ValidateURL(raw string) error {
	if raw == "" {
		return chat.FieldError("url", "url is required")
	}
	if len(raw) > MaxURLLen {
		return chat.FieldError("url", "url is longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return chat.FieldError("url", "url must be an absolute http or https URL")
	}
	if u.User != nil {
		return chat.FieldError("url", "put credentials in basicAuth, not in the url")
	}
	if u.Fragment != "" {
		return chat.FieldError("url", "url must not have a fragment")
	}
	return nil
}

// NormalizeEvents checks a subscription list and returns it sorted and
// without repeats.
func NormalizeEvents(in []EventType) ([]EventType, error) {
	if len(in) == 0 {
		return nil, chat.FieldError("events", `events must name at least one event type, or "*" for all`)
	}
	out := make([]EventType, 0, len(in))
	for i, t := range in {
		if t != All && !slices.Contains(EventTypes, t) {
			return nil, chat.FieldError("events", "unknown event type %q at events[%d]", t, i)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// NewSecret returns a fresh signing secret in the whsec_ form.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SecretKey decodes a whsec_ secret into its HMAC key.
func SecretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, chat.FieldError("secret", "secret must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, chat.FieldError("secret", "secret must be whsec_ followed by standard base64")
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, chat.FieldError("secret", "the secret's key must be %d to %d bytes", minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// ValidateBasicAuth accepts "user:password" with a non-empty user and no
// control characters (they would split the header).
func ValidateBasicAuth(s string) error {
	if s == "" {
		return nil
	}
	user, _, ok := strings.Cut(s, ":")
	if !ok || user == "" || len(s) > MaxBasicAuthLen || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return chat.FieldError("basicAuth", `basicAuth must be "user:password", at most %d bytes`, MaxBasicAuthLen)
	}
	return nil
}

// Event is one outbox entry: what happened, rendered once into the body
// every attempt sends, so retries and redeliveries carry the same bytes
// under the same id.
type Event struct {
	ID             string          `json:"id"`
	AppID          string          `json:"appId"`
	Type           EventType       `json:"type"`
	ConversationID string          `json:"conversationId"`
	Body           json.RawMessage `json:"body"`
	CreatedAt      time.Time       `json:"createdAt"`
}

// DeliveryState is where a delivery stands.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "pending" // waiting for its turn or its next attempt
	DeliveryRunning   DeliveryState = "running" // leased to a worker
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // gave up after the maximum age
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID             string        `json:"id"`
	AppID          string        `json:"appId"`
	EndpointID     string        `json:"endpointId"`
	EventID        string        `json:"eventId"`
	EventType      EventType     `json:"eventType"`
	ConversationID string        `json:"conversationId"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"`
	NextAttemptAt  time.Time     `json:"nextAttemptAt"`
	CreatedAt      time.Time     `json:"createdAt"`
	FinishedAt     *time.Time    `json:"finishedAt,omitempty"`

	// Filled in by a claim only: what the worker needs to send it.
	LeaseToken string   `json:"-"`
	Event      Event    `json:"-"`
	Endpoint   Endpoint `json:"-"`
}

// Attempt is one try at a delivery, as the delivery log shows it.
type Attempt struct {
	DeliveryID string    `json:"deliveryId"`
	EndpointID string    `json:"endpointId"`
	EventID    string    `json:"eventId"`
	EventType  EventType `json:"eventType"`
	Attempt    int       `json:"attempt"`
	// StatusCode is 0 when no response came (refused, timed out).
	StatusCode    int    `json:"statusCode"`
	LatencyMillis int64  `json:"latencyMillis"`
	Error         string `json:"error,omitempty"`
	// Response is the start of the response body, for the admin.
	Response string    `json:"response,omitempty"`
	At       time.Time `json:"at"`
}

// OK reports whether the receiver accepted the event.
func (a *Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Limits on what the log keeps.
const (
	MaxResponseExcerpt = 1024
	MaxAttemptError    = 512
	// LogSize is how many attempts the log keeps per endpoint.
	LogSize = 100
)

// Finish is one delivery's outcome, as a worker hands it to the store;
// a worker finishes many in one transaction.
type Finish struct {
	DeliveryID, Token string
	Outcome           Outcome
}

// FinishResult is what became of one Finish: Disabled when its failure
// disabled the endpoint, Err (CodeConflict: the lease was lost) when it
// was refused and changed nothing.
type FinishResult struct {
	Disabled bool
	Err      error
}

// Outcome is what a worker reports after an attempt.
type Outcome struct {
	Attempt Attempt
	// RetryAt, when the attempt failed, is when to try again; zero gives
	// the delivery up.
	RetryAt time.Time
	// DisableAfter and DisableMinFailures: the endpoint is disabled when
	// this failure makes at least DisableMinFailures in a row over at least
	// DisableAfter. DisableMinFailures 0 never disables.
	DisableAfter       time.Duration
	DisableMinFailures int
}
