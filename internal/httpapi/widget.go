package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// The widget's routes. A visitor's browser first becomes a contact with
// POST /api/v1/widget/session (public: the app id is not a secret, it is
// in every page that embeds the widget), then sends the contact token it
// got in ContactTokenHeader on the others, and in the realtime handshake.

type widgetSessionJSON struct {
	ContactToken string              `json:"contactToken"`
	ExpiresAt    time.Time           `json:"expiresAt"`
	Contact      contactJSON         `json:"contact"`
	Anonymous    bool                `json:"anonymous"`
	Settings     chat.WidgetSettings `json:"settings"`
	// Participants names the app's bots and agents, so the widget can
	// show who wrote each message.
	Participants []participantJSON `json:"participants"`
}

type participantJSON struct {
	Type      chat.SenderType `json:"type"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	AvatarURL string          `json:"avatarUrl,omitempty"`
}

func (s *server) widgetSession(w http.ResponseWriter, r *http.Request) error {
	if !widgetLimiter(s).allow(s.clientIP(r), time.Now()) {
		return chat.Errorf(chat.CodeRateLimited, "too many widget sessions from this address: try again in a minute")
	}
	var in service.WidgetSessionInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ws, err := s.svc.StartWidgetSession(r.Context(), in)
	if err != nil {
		return err
	}
	out := widgetSessionJSON{
		ContactToken: ws.Token, ExpiresAt: ws.ExpiresAt.UTC(), Contact: toContact(ws.Contact),
		Anonymous: ws.Anonymous, Settings: ws.Settings, Participants: []participantJSON{},
	}
	ps, err := s.svc.WidgetParticipants(r.Context(), ws.Contact.AppID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		out.Participants = append(out.Participants, participantJSON(p))
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *server) getWidgetSettings(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetWidgetSettings(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) putWidgetSettings(w http.ResponseWriter, r *http.Request) error {
	var in chat.WidgetSettings
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.svc.PutWidgetSettings(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) widgetMe(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.WidgetMe(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toContact(c))
	return nil
}

func (s *server) updateWidgetMe(w http.ResponseWriter, r *http.Request) error {
	var in service.ContactPatch
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.WidgetUpdateMe(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toContact(c))
	return nil
}

func (s *server) widgetConversations(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.svc.WidgetConversations(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]conversationJSON, 0, len(cs))
	for i := range cs {
		out = append(out, toConversation(&cs[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"conversations": out})
	return nil
}

func (s *server) startWidgetConversation(w http.ResponseWriter, r *http.Request) error {
	var in service.WidgetConversationInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.WidgetStartConversation(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toConversation(c))
	return nil
}

// clientIP is the address per-address limits key on: the peer's, or the
// client's as named by a trusted proxy.
func (s *server) clientIP(r *http.Request) string {
	return httpx.ClientAddr(r, s.trusted).String()
}

// Widget sessions per address: a burst for a household or an office behind
// one address, then a steady refill.
const (
	widgetSessionBurst  = 30
	widgetSessionRefill = 2 * time.Second
	limiterMaxKeys      = 10000
)

// widgetLimiters holds each API handler's limiter, made on first use, so
// that two servers in one process (tests, embedding) do not share budgets.
var widgetLimiters sync.Map // *server → *ipLimiter

func widgetLimiter(s *server) *ipLimiter {
	if l, ok := widgetLimiters.Load(s); ok {
		return l.(*ipLimiter)
	}
	l, _ := widgetLimiters.LoadOrStore(s, newIPLimiter(widgetSessionBurst, widgetSessionRefill))
	return l.(*ipLimiter)
}

// ipLimiter is a token bucket per client address.
type ipLimiter struct {
	burst  int
	refill time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newIPLimiter(burst int, refill time.Duration) *ipLimiter {
	return &ipLimiter{burst: burst, refill: refill, buckets: map[string]*bucket{}}
}

func (l *ipLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= limiterMaxKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[key] = b
	}
	b.tokens += float64(now.Sub(b.at)) / float64(l.refill)
	if b.tokens > float64(l.burst) {
		b.tokens = float64(l.burst)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets full buckets, which are the same as no bucket, so that a
// flood of addresses cannot grow the map without bound.
func (l *ipLimiter) sweep(now time.Time) {
	full := time.Duration(l.burst) * l.refill
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= limiterMaxKeys {
		clear(l.buckets)
	}
}

// widgetClick answers 201 with the contact message a click became (200 for
// a repeat of its clientKey), or 200 with {"link"} for a link button.
func (s *server) widgetClick(w http.ResponseWriter, r *http.Request) error {
	var in service.WidgetClickInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	res, err := s.svc.WidgetClick(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	if res.Message == nil {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"link": res.Link})
		return nil
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, s.toMessage(res.Message))
	return nil
}
