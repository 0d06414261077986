// Package service holds Switchboard's use cases: starting a conversation,
// sending a message, signing in. Both HTTP APIs (/api/v1 and the
// Kommunicate-compatible /rest/ws) and, later, the realtime gateway and the
// bot pipeline call these, so every rule is enforced in one place whatever
// door a request came through.
package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Blobs keeps uploaded files' bytes.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, maxBytes int64) (int64, error)
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, key string) error
}

// Service is the set of use cases. It is safe for concurrent use.
type Service struct {
	store          store.Store
	bus            bus.Bus
	node           string
	blobs          Blobs
	keys           *auth.Keyring
	passwords      auth.Params
	log            *slog.Logger
	now            func() time.Time
	uploadMaxBytes int64
	sessionTTL     time.Duration

	dummyOnce sync.Once
	dummy     string

	publicURL string
	lex       LexSetup
	// accessToken asks apps' Access Token URLs.
	accessToken *http.Client
	// botWake tells this node's bot worker that a turn was queued, so it
	// claims at once instead of at its next poll.
	botWake chan struct{}
}

// Options configure a Service. Store, Blobs and Keys are required.
type Options struct {
	Store store.Store
	// Bus carries wake-ups to the realtime gateway, on this node and others;
	// nil means a private in-process bus.
	Bus bus.Bus
	// NodeID names this node in the events it publishes.
	NodeID         string
	Blobs          Blobs
	Keys           *auth.Keyring
	Passwords      auth.Params // argon2id cost; the zero value means auth.DefaultParams
	Logger         *slog.Logger
	Now            func() time.Time
	UploadMaxBytes int64
	SessionTTL     time.Duration
	// PublicURL prefixes the signed file URLs handed to bots, whose code
	// fetches them from outside.
	PublicURL string
	// LexSetup checks Lex bots' settings; nil means lexbot.NewSetup's
	// default, which calls AWS (or the settings' endpoint).
	LexSetup LexSetup
	// AllowPrivateOutbound lets the requests made on an app's behalf to a
	// URL its admin chose (the widget's Access Token URL) reach loopback,
	// private and link-local addresses (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivateOutbound bool
}

// New builds a Service.
func New(o Options) *Service {
	s := &Service{
		store:          o.Store,
		bus:            o.Bus,
		node:           o.NodeID,
		blobs:          o.Blobs,
		keys:           o.Keys,
		passwords:      o.Passwords,
		log:            o.Logger,
		now:            o.Now,
		uploadMaxBytes: o.UploadMaxBytes,
		sessionTTL:     o.SessionTTL,
		publicURL:      strings.TrimRight(o.PublicURL, "/"),
		lex:            o.LexSetup,
		accessToken:    newAccessTokenClient(o.AllowPrivateOutbound),
		botWake:        make(chan struct{}, 1),
	}
	if s.bus == nil {
		s.bus = bus.NewLocal()
	}
	if s.lex == nil {
		s.lex = lexbot.NewSetup(lexbot.SetupOptions{})
	}
	if s.passwords == (auth.Params{}) {
		s.passwords = auth.DefaultParams
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.uploadMaxBytes <= 0 {
		s.uploadMaxBytes = 20 << 20
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = 14 * 24 * time.Hour
	}
	return s
}

// Store exposes the store for read paths that need no rule, such as readiness.
func (s *Service) Store() store.Store { return s.store }

// Bus is where the service announces changes, for the realtime gateway to
// subscribe to.
func (s *Service) Bus() bus.Bus { return s.bus }

// publish announces a change that is already durable. Announcing before the
// write commits could wake a reader who then finds nothing (or a change that
// later rolls back). A failed publish is logged, not returned: the write
// succeeded, the store is the truth, and readers catch up from it on their
// next wake-up or resume.
func (s *Service) publish(ctx context.Context, e bus.Event) {
	if e.Node == "" {
		e.Node = s.node
	}
	// The request may end right after the write; the wake-up must still go.
	if err := s.bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		s.log.WarnContext(ctx, "publishing an event failed; readers will catch up from the store",
			"type", e.Type, "app", e.AppID, "conversation", e.ConversationID, "err", err)
	}
}

// Keys exposes the keyring, for signing file URLs at the edge.
func (s *Service) Keys() *auth.Keyring { return s.keys }

// Actor is who makes a request, established by authentication. Every use
// case takes one and scopes its work to Actor.AppID.
type Actor struct {
	AppID string
	// AgentID is set for a signed-in agent; empty for an API key.
	AgentID string
	// Role is the agent's role; API keys act with RoleAdmin, because an
	// integration manages the app but must not be able to change its owner.
	Role     chat.Role
	APIKeyID string
	// ContactID is set for a contact (a widget visitor): such an actor has
	// no role and reaches only its own conversations.
	ContactID string
}

// ContactActor is the actor of a contact of an app, as authenticated by a
// contact token.
func ContactActor(appID, contactID string) Actor {
	return Actor{AppID: appID, ContactID: contactID}
}

// ViaAPIKey reports whether the actor is an integration rather than a person.
func (a Actor) ViaAPIKey() bool { return a.APIKeyID != "" }

// staff refuses contacts: everything but reading and writing in one's own
// conversations is for agents and integrations.
func (a Actor) staff() error { return a.require(chat.RoleAgent) }

func (a Actor) require(min chat.Role) error {
	if !a.Role.AtLeast(min) {
		return chat.Errorf(chat.CodeForbidden, "this needs the %s role", min)
	}
	return nil
}
