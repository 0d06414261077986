package lexbot

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// EndpointEnv is AWS's standard variable for the Lex V2 runtime endpoint
// (SPEC §4.1). The config reads it into Options.Endpoint: Switchboard
// builds its AWS clients from each bot's settings and never loads AWS's
// shared config, which is where the SDK would otherwise look for it.
const EndpointEnv = "AWS_ENDPOINT_URL_LEX_RUNTIME_V2"

// DefaultMaxClients bounds the cached Lex clients: one per bot in use.
const DefaultMaxClients = 1024

// Options configure a Connector. The zero value is ready for production.
type Options struct {
	// Logger receives one line per failed turn and a debug line per
	// answered one; nil means slog.Default(). Secrets are never logged.
	Logger *slog.Logger
	// Registerer receives the connector's metrics; nil keeps them
	// unregistered.
	Registerer prometheus.Registerer
	// Now is the clock for latency; nil means time.Now.
	Now func() time.Time
	// HTTPClient carries every Lex call; nil means a pooled client shared
	// by all bots.
	HTTPClient *http.Client
	// MaxClients bounds the cached per-bot Lex clients; 0 means
	// DefaultMaxClients.
	MaxClients int
	// Endpoint is the runtime endpoint for bots whose settings name none
	// (EndpointEnv); empty means AWS's own.
	Endpoint string
}

// Connector talks to Amazon Lex V2 bots with the official SDK client. One
// Connector serves every Lex bot of every app: each turn brings its bot's
// (decrypted) settings. It is safe for concurrent use.
//
// Each turn is one RecognizeText in the conversation's own Lex session
// (SessionID), in the locale chosen from the contact's language
// (ChooseLocale). What Lex must remember between turns travels in the
// turn's state rather than only in Lex, whose sessions expire after a few
// idle minutes: the session attributes Lex returned last, merged with the
// contact's chat context (see mergeAttributes), and the count of
// FallbackIntent answers in a row, which is how a bot without any Lambda
// code still gives up (SPEC §4.3).
type Connector struct {
	log         *slog.Logger
	now         func() time.Time
	http        *http.Client
	envEndpoint string
	metrics     *metrics

	mu         sync.Mutex
	clients    map[string]*list.Element // bot id → *cachedClient
	lru        *list.List               // front is the most recently used
	maxClients int
}

type cachedClient struct {
	botID       string
	fingerprint [32]byte
	client      *lexruntimev2.Client
}

var _ bot.Connector = (*Connector)(nil)

// New returns a Connector.
func New(o Options) *Connector {
	c := &Connector{
		log:         o.Logger,
		now:         o.Now,
		http:        o.HTTPClient,
		envEndpoint: o.Endpoint,
		clients:     map[string]*list.Element{},
		lru:         list.New(),
		maxClients:  o.MaxClients,
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Turns of many conversations go to the same regional endpoint at
		// once; the default of two idle connections per host would make
		// most of them open a new TLS connection.
		tr.MaxIdleConnsPerHost = 64
		c.http = &http.Client{Transport: tr}
	}
	if c.maxClients <= 0 {
		c.maxClients = DefaultMaxClients
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	c.metrics = newMetrics(reg)
	return c
}

// Turn sends t to the Lex bot named by t.Bot, whose Settings must be this
// package's Settings with the secret in clear. state is the previous
// turn's Result.State for the conversation (nil for the first turn).
func (c *Connector) Turn(ctx context.Context, t bot.Turn, raw json.RawMessage) (bot.Result, error) {
	if t.Bot == nil {
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the turn names no bot"}
	}
	s, err := turnSettings(t.Bot.Settings)
	if err != nil {
		return bot.Result{}, err
	}

	in := buildInput(t)
	if in.text == "" {
		// Lex refuses empty text; asking would only fail the turn and hand
		// off a contact who sent, say, an empty form.
		return bot.Result{Warnings: append(in.warnings, "the message had no text for Lex and was not sent to the bot")}, nil
	}
	st, warnings := decodeState(raw)
	warnings = append(warnings, in.warnings...)
	ctxAttrs, w := contextAttributes(t)
	warnings = append(warnings, w...)
	attrs, digests := mergeAttributes(st, ctxAttrs)

	lang := t.Language
	if lang == "" && t.Contact != nil {
		lang = t.Contact.Language
	}
	locale := ChooseLocale(lang, s.Locales, s.DefaultLocale)
	endpoint := c.endpoint(s)
	client := c.client(t.Bot.ID, s, endpoint)

	req := &lexruntimev2.RecognizeTextInput{
		BotId:             aws.String(s.BotID),
		BotAliasId:        aws.String(s.BotAliasID),
		LocaleId:          aws.String(locale),
		SessionId:         aws.String(SessionID(t.ConversationID)),
		Text:              aws.String(in.text),
		RequestAttributes: in.reqAttrs,
		// Always sent, even empty: Lex replaces its copy of the session's
		// attributes with these, so an attribute dropped here (a handoff
		// flag already acted on) is dropped there too.
		SessionState: &types.SessionState{SessionAttributes: attrs},
	}
	start := c.now()
	out, err := client.RecognizeText(ctx, req)
	elapsed := c.now().Sub(start)
	c.metrics.latency.WithLabelValues(t.Bot.ID).Observe(elapsed.Seconds())
	log := c.log.With("bot", t.Bot.ID, "app", t.Bot.AppID, "conversation", t.ConversationID,
		"lexBot", s.BotID, "alias", s.BotAliasID, "locale", locale, "elapsed", elapsed)
	if err != nil {
		be, label := classify(ctx, err, s, endpoint)
		c.metrics.errors.WithLabelValues(t.Bot.ID, label).Inc()
		log.Warn("lex turn failed", "kind", be.Kind.String(), "type", label, "error", be.Message)
		return bot.Result{}, be
	}

	res := bot.Result{Intent: interpretedIntent(out)}
	var w2 []string
	res.Replies, w2 = replies(out.Messages)
	res.Warnings = append(warnings, w2...)

	next := state{SessionAttributes: attrs, Context: digests}
	if out.SessionState != nil && out.SessionState.SessionAttributes != nil {
		next.SessionAttributes = out.SessionState.SessionAttributes
	}
	if res.Intent == fallbackIntent {
		next.Fallbacks = st.Fallbacks + 1
		c.metrics.fallbacks.WithLabelValues(t.Bot.ID).Inc()
	}
	if reason := giveUp(out, next.SessionAttributes, s.Attribute(), next.Fallbacks, s.Fallbacks()); reason != "" {
		res.GaveUp = true
		c.metrics.giveUps.WithLabelValues(t.Bot.ID, reason).Inc()
		// The give-up is acted on now; kept, it would hand the
		// conversation off again on the first turn after a hand-back.
		next.Fallbacks = 0
		if reason == reasonAttribute {
			next.SessionAttributes = withoutKey(next.SessionAttributes, s.Attribute())
		}
		log = log.With("gaveUp", reason)
	}
	if res.State, err = json.Marshal(next); err != nil {
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the Lex session state could not be kept", Cause: err}
	}
	log.Debug("lex answered", "intent", res.Intent, "replies", len(res.Replies))
	return res, nil
}

// turnSettings reads the bot's stored settings. Unlike ParseSettings it
// keeps Locales, which validation filled in.
func turnSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	err := bot.DecodeSettings(raw, "lex", &s)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		msg := err.Error()
		var ce *chat.Error
		if errors.As(err, &ce) {
			msg = ce.Message
		}
		return Settings{}, &bot.Error{Kind: bot.Misconfigured, Message: "the Lex bot's settings are invalid: " + msg}
	}
	if !s.IsBotID() || !s.IsAliasID() {
		return Settings{}, &bot.Error{Kind: bot.Misconfigured, Message: "the Lex bot's settings name the bot or alias by name, not by id: save the settings again so that they are resolved"}
	}
	return s, nil
}

// endpoint is the runtime endpoint for s; empty means AWS's own.
func (c *Connector) endpoint(s Settings) string {
	if s.Endpoint != "" {
		return s.Endpoint
	}
	return c.envEndpoint
}

// client returns the Lex client for a bot, building a new one when the bot
// is new or its settings changed. The cache is bounded: the least recently
// used bot's client goes first, and is rebuilt if that bot comes back.
func (c *Connector) client(botID string, s Settings, endpoint string) *lexruntimev2.Client {
	fp := fingerprint(s, endpoint)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.clients[botID]; ok {
		cc := el.Value.(*cachedClient)
		if cc.fingerprint == fp {
			c.lru.MoveToFront(el)
			return cc.client
		}
		c.lru.Remove(el)
		delete(c.clients, botID)
	}
	o := lexruntimev2.Options{
		Region:      s.Region,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		HTTPClient:  c.http,
		// One attempt per call: the turn pipeline retries with its own
		// backoff under the turn's deadline, and SDK retries inside that
		// would multiply the attempts and hide throttling from it.
		Retryer: aws.NopRetryer{},
	}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	cc := &cachedClient{botID: botID, fingerprint: fp, client: lexruntimev2.New(o)}
	c.clients[botID] = c.lru.PushFront(cc)
	for c.lru.Len() > c.maxClients {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.clients, old.Value.(*cachedClient).botID)
	}
	return cc.client
}

// fingerprint identifies everything a client is built from; the secret
// goes in only through the hash.
func fingerprint(s Settings, endpoint string) [32]byte {
	h := sha256.New()
	for _, v := range []string{s.Region, s.AccessKeyID, s.SecretAccessKey, endpoint} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	var fp [32]byte
	h.Sum(fp[:0])
	return fp
}

func withoutKey(m map[string]string, key string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// cachedClients reports how many clients are cached, for tests.
func (c *Connector) cachedClients() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
