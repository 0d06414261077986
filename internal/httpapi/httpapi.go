// Package httpapi is Switchboard's REST API, /api/v1, with its OpenAPI 3.1
// document, the operational endpoints (/healthz, /readyz, /metrics) and the
// signed file downloads. Handlers are thin: they decode a request, call one
// use case of internal/service and encode the answer. Rules live in the
// service; error statuses live in internal/httpx.
//
// Every route is declared once, in the table in routes.go. That table drives
// registration on the mux, and the tests check it against the OpenAPI
// document, so a route cannot exist without being documented.
package httpapi

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Options configure the API handler. Service is required.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics. When
	// nil, a private registry is used, so /metrics still answers.
	Registry *prometheus.Registry
	// PublicURL is the address clients reach the server at (for example
	// https://chat.example.com). File URLs are made absolute with it, and
	// it is an accepted origin for cookie-authenticated changes.
	PublicURL string
	// SecureCookies marks the session cookie Secure; set it when the
	// public URL is https.
	SecureCookies bool
	// UploadMaxBytes bounds one uploaded file; 0 means 20 MiB.
	UploadMaxBytes int64
	// Ready reports whether the server can serve traffic (the store answers
	// and is migrated). Nil means always ready.
	Ready func(ctx context.Context) error
	// Mount adds handlers of other packages (the /rest/ws compatibility
	// layer, the realtime gateway, the dashboard) under their mux patterns,
	// for example "/rest/ws/". They get the same recovery, logging and
	// metrics as the API's own routes.
	Mount map[string]http.Handler
	// TrustedProxies are the reverse proxies whose forwarding headers name
	// the client for per-address limits (see httpx.ClientAddr); nil trusts
	// none.
	TrustedProxies []netip.Prefix
}

// DefaultUploadMaxBytes is the upload limit when Options leaves it zero.
const DefaultUploadMaxBytes = 20 << 20

type server struct {
	svc         *service.Service
	log         *slog.Logger
	publicURL   string
	secure      bool
	uploadMax   int64
	ready       func(context.Context) error
	mux         *http.ServeMux
	metrics     *metrics
	metricsHTTP http.Handler
	openapiJSON []byte
	trusted     []netip.Prefix
}

// New builds the handler for the whole HTTP surface of the server.
func New(o Options) http.Handler {
	s := &server{
		svc:       o.Service,
		log:       o.Logger,
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		secure:    o.SecureCookies,
		uploadMax: o.UploadMaxBytes,
		ready:     o.Ready,
		mux:       http.NewServeMux(),
		trusted:   o.TrustedProxies,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.uploadMax <= 0 {
		s.uploadMax = DefaultUploadMaxBytes
	}
	reg := o.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)
	s.metricsHTTP = metricsHandler(reg)
	s.openapiJSON = openapiDocument(s.publicURL)
	for _, rt := range routes() {
		s.mux.Handle(rt.pattern(), s.wrap(rt))
	}
	for pattern, h := range o.Mount {
		s.mux.Handle(pattern, h)
	}
	return s
}

// ServeHTTP is the outermost layer: it finds the route, so that logs and
// metrics are labelled by the route's pattern rather than by the raw path
// (which holds ids and would explode metric cardinality), recovers panics,
// and answers unrouted requests with the JSON error shape instead of the
// mux's plain-text 404 and 405.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	h, pattern := s.mux.Handler(r)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "route", pattern, "panic", v, "stack", string(debug.Stack()))
			if !rec.wroteHeader {
				httpx.WriteError(rec, r, nil, chat.Errorf(chat.CodeInternal, "internal error"))
			}
		}
		route := r.Pattern
		if route == "" {
			route = pattern
		}
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(route, rec.status, d)
		s.log.LogAttrs(r.Context(), logLevel(rec.status), "http request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d))
	}()
	// API responses carry per-user data: no cache may keep them, and no
	// browser may guess a type other than the one declared. File downloads
	// set their own caching after this.
	rec.Header().Set("X-Content-Type-Options", "nosniff")
	rec.Header().Set("Cache-Control", "no-store")
	if pattern == "" {
		s.unrouted(rec, r, h)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// unrouted answers a request that matches no route. The mux's own handler
// knows whether the path exists under another method (405, with Allow); it
// runs against a throwaway writer and only its verdict is kept.
func (s *server) unrouted(w http.ResponseWriter, r *http.Request, muxHandler http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	muxHandler.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		// chat has no code for this (no use case ever answers it), so
		// the body is written here rather than through httpx's mapping.
		httpx.WriteJSON(w, http.StatusMethodNotAllowed, httpx.ErrorBody{Error: httpx.ErrorDetail{
			Code:    "method_not_allowed",
			Message: "method " + r.Method + " is not allowed on this route",
			Details: map[string]any{"allow": probe.header.Get("Allow")},
		}})
		return
	}
	httpx.WriteError(w, r, nil, chat.Errorf(chat.CodeNotFound, "no such route: %s", r.URL.Path))
}

func logLevel(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

// recorder remembers the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flushing,
// deadlines, hijacking for WebSockets mounted through Options.Mount).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush and Hijack serve handlers that still look for http.Flusher and
// http.Hijacker by type assertion rather than through ResponseController.
func (r *recorder) Flush() {
	r.wroteHeader = true
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && !r.wroteHeader {
		// The connection left HTTP (a WebSocket upgrade): log it as such.
		r.status, r.wroteHeader = http.StatusSwitchingProtocols, true
	}
	return c, rw, err
}

// headerProbe swallows a response, keeping its status and headers.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
