// Package webhookbot connects Switchboard to a bot behind a webhook, using
// Kommunicate's "custom bot" contract so that bots written for Kommunicate
// move over unchanged (SPEC §7).
//
// Each turn is one POST of a JSON object (see Request) to the bot's URL,
// with the one optional header the admin configured. The bot answers with a
// JSON array of {"message", "metadata"}; each element becomes one reply, in
// order. Handoff is not a signal here: a reply whose metadata carries
// KM_ASSIGN_TO or KM_ASSIGN_TEAM is read by the pipeline like any other
// reply, so Result.GaveUp is always false for this connector.
//
// The connector only reaches public addresses unless told otherwise: the
// URL is typed by a workspace admin, and without the guard a webhook bot
// would be a way to make the server call its own admin ports, its
// database, or the cloud metadata service.
package webhookbot

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// DefaultMaxResponseBytes bounds the bot's answer. Fifty rich messages fit
// with room to spare; more than that is a bot streaming something it
// should not.
const DefaultMaxResponseBytes = 256 << 10

// UserAgent identifies Switchboard to the bot's server.
const UserAgent = "Switchboard"

// Options configure a Connector. The zero value is ready for production.
type Options struct {
	// Transport replaces the HTTP transport, for tests. The private-address
	// guard lives in the default transport's dialer, so a caller that sets
	// Transport takes over that responsibility.
	Transport http.RoundTripper
	// Logger receives one line per failed turn and a debug line per
	// answered one; nil means slog.Default(). The header value is never
	// logged.
	Logger *slog.Logger
	// AllowPrivate lets the default transport connect to private, loopback
	// and link-local addresses: for bots on the same host or network in a
	// self-hosted install, and for tests against httptest servers.
	AllowPrivate bool
	// MaxResponseBytes bounds the answer; 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Now stamps createdAt on turns without a message (a welcome); nil
	// means time.Now.
	Now func() time.Time
}

// Connector talks to webhook bots. It is safe for concurrent use, and one
// Connector serves every webhook bot of every app: each turn brings its
// bot's settings.
type Connector struct {
	client  *http.Client
	log     *slog.Logger
	maxBody int64
	now     func() time.Time
}

var _ bot.Connector = (*Connector)(nil)

// New returns a Connector.
func New(o Options) *Connector {
	c := &Connector{log: o.Logger, maxBody: o.MaxResponseBytes, now: o.Now}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	tr := o.Transport
	if tr == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		if !o.AllowPrivate {
			d.Control = guardControl
		}
		tr = &http.Transport{
			// No proxy: the guard checks the address this process dials,
			// and through a proxy that would be the proxy's, not the bot's.
			Proxy:                  nil,
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    16,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		}
	}
	c.client = &http.Client{
		Transport: tr,
		// A redirect is reported, not followed: following it would send
		// the contact's message (and, to the same host, the secret header)
		// somewhere the admin never configured, and a 301 tells the admin
		// the URL to fix.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Turn posts t to the bot named by t.Bot, whose Settings must be this
// package's Settings. state is unused: the contract is stateless, and the
// bot keys its own sessions on groupId.
func (c *Connector) Turn(ctx context.Context, t bot.Turn, _ json.RawMessage) (bot.Result, error) {
	if t.Bot == nil {
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the turn names no bot"}
	}
	s, err := ParseSettings(t.Bot.Settings)
	if err != nil {
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the webhook bot's settings are invalid: " + chatMessage(err)}
	}
	where := displayURL(s.URL)

	body, warnings := buildRequest(t, c.now())
	payload, err := json.Marshal(body)
	if err != nil {
		// Only a non-finite float could do this, and chat validation
		// refuses those; say so rather than panic.
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the turn could not be encoded for the bot", Cause: err}
	}

	tctx, cancel := context.WithTimeout(ctx, s.Timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, s.URL, bytes.NewReader(payload))
	if err != nil {
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: "the webhook URL " + where + " cannot be used"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if s.HeaderName != "" {
		req.Header.Set(s.HeaderName, s.HeaderValue)
	}

	start := time.Now()
	res, err := c.do(ctx, req, s, where)
	log := c.log.With("bot", t.Bot.ID, "app", t.Bot.AppID, "url", where, "elapsed", time.Since(start))
	if err != nil {
		var be *bot.Error
		if errors.As(err, &be) {
			log.Warn("webhook bot turn failed", "kind", be.Kind.String(), "error", err)
		}
		return bot.Result{}, err
	}
	res.Warnings = append(warnings, res.Warnings...)
	log.Debug("webhook bot answered", "replies", len(res.Replies))
	return res, nil
}

func (c *Connector) do(ctx context.Context, req *http.Request, s Settings, where string) (bot.Result, error) {
	resp, err := c.client.Do(req)
	if err != nil {
		return bot.Result{}, transportError(ctx, err, s, where)
	}
	defer resp.Body.Close()

	status := resp.Status
	if status == "" {
		status = strconv.Itoa(resp.StatusCode)
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
	case code >= 300 && code < 400:
		drain(resp.Body)
		msg := fmt.Sprintf("the bot answered %s at %s; redirects are not followed", status, where)
		if loc, err := resp.Location(); err == nil {
			msg += ": set the webhook URL to " + displayURL(loc.String())
		}
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: msg}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		drain(resp.Body)
		return bot.Result{}, &bot.Error{Kind: bot.Unauthorized, Message: fmt.Sprintf("the bot refused the request with %s at %s: check the webhook header name and value", status, where)}
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests || code >= 500:
		drain(resp.Body)
		return bot.Result{}, &bot.Error{Kind: bot.Retryable, Message: fmt.Sprintf("the bot answered %s at %s", status, where), RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	default:
		drain(resp.Body)
		return bot.Result{}, &bot.Error{Kind: bot.Misconfigured, Message: fmt.Sprintf("the bot answered %s at %s", status, where)}
	}

	if resp.ContentLength > c.maxBody {
		return bot.Result{}, c.tooLarge(where)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		// The status was fine and the body broke off: a network hiccup or
		// the turn's deadline, either of which a retry may get past.
		return bot.Result{}, transportError(ctx, err, s, where)
	}
	if int64(len(raw)) > c.maxBody {
		return bot.Result{}, c.tooLarge(where)
	}
	replies, warnings, err := parseReplies(raw)
	if err != nil {
		var be *bot.Error
		if errors.As(err, &be) {
			be.Message += " (from " + where + ")"
		}
		return bot.Result{}, err
	}
	return bot.Result{Replies: replies, Warnings: warnings}, nil
}

func (c *Connector) tooLarge(where string) error {
	return &bot.Error{Kind: bot.Misconfigured, Message: fmt.Sprintf("the bot's answer from %s is larger than %d KiB", where, c.maxBody>>10)}
}

// transportError classifies a failure to get an answer at all.
func transportError(parent context.Context, err error, s Settings, where string) error {
	// url.Error repeats the full URL, query string included; the message
	// already names the endpoint without it.
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	var pe *privateAddressError
	if errors.As(err, &pe) || errors.Is(err, errPrivateAddress) {
		addr := "it"
		if pe != nil {
			addr = pe.addr.String()
		}
		return &bot.Error{Kind: bot.Misconfigured, Cause: cause, Message: fmt.Sprintf(
			"refused to connect to %s: %s is a private, loopback or link-local address; use the bot's public address, or allow private bot addresses in the server configuration", where, addr)}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err) {
		if parent.Err() != nil {
			return &bot.Error{Kind: bot.Retryable, Cause: cause, Message: "the turn's deadline passed before the bot at " + where + " answered"}
		}
		return &bot.Error{Kind: bot.Retryable, Cause: cause, Message: fmt.Sprintf("the bot at %s did not answer within %s", where, s.Timeout())}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return &bot.Error{Kind: bot.Misconfigured, Cause: cause, Message: "the bot's host name in " + where + " does not exist"}
	}
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invErr x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr) || errors.As(err, &invErr) {
		return &bot.Error{Kind: bot.Misconfigured, Cause: cause, Message: "the TLS certificate of " + where + " is not valid"}
	}
	return &bot.Error{Kind: bot.Retryable, Cause: cause, Message: "could not reach the bot at " + where}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// drain reads a little of an error body so the connection can be reused;
// a bot that sends megabytes with its 500 loses the connection instead.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10)) }

// displayURL is raw without its query string, for messages and logs:
// admins sometimes put tokens in the query, and the path is enough to know
// which endpoint failed.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the webhook URL"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

// chatMessage is the client-safe part of a chat.Error.
func chatMessage(err error) string {
	var ce *chat.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}

// retryAfter reads an HTTP Retry-After value, in seconds or as a date; it
// is bounded, so a bot cannot park a turn beyond any sensible deadline.
func retryAfter(v string, now time.Time) time.Duration {
	const most = time.Minute
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, most))
}
