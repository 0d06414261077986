// Package lexlocal serves the Amazon Lex V2 runtime and model APIs over HTTP
// with AWS's paths, JSON shapes, error format and SigV4 authentication, so
// the unmodified aws-sdk-go-v2 clients can talk to local bots. What the bots
// say is decided by a pluggable Brain.
package lexlocal

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Options configures a Server.
type Options struct {
	// AccessKeyID and SecretAccessKey are the only credentials accepted.
	AccessKeyID     string
	SecretAccessKey string
	// Region is the region requests must be signed for; default us-east-1.
	Region string
	Brain  Brain
	// Now is the clock for signature skew and session expiry; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// MaxSkew is the allowed difference between X-Amz-Date and Now; AWS
	// allows 5 minutes, the default.
	MaxSkew time.Duration
	// MaxSessions caps live sessions across all bots; default 100,000.
	MaxSessions int
	// DenyModelAPI answers AccessDeniedException to every model-API call
	// from a correctly signed caller, as AWS does for an IAM user that holds
	// AmazonLexRunBotsOnly but not AmazonLexReadOnly.
	DenyModelAPI bool
}

// Server is an http.Handler speaking the Lex V2 wire protocol.
type Server struct {
	opts     Options
	sessions *sessionStore
	sigKey   atomic.Pointer[derivedKey] // the current day's, see signingKey
}

// Limits from the Lex V2 API reference.
const (
	maxBodyBytes      = 256 << 10 // far above any valid RecognizeText/PutSession body
	maxTextRunes      = 1024
	defaultSessionTTL = 5 * time.Minute
)

// Ids are checked by hand rather than by regexp, which costs more than the
// rest of a request's validation together. Each check is exactly AWS's
// documented pattern, shown beside it; TestIDChecksMatchPatterns holds them
// to those patterns.

// isBotID: ^[0-9a-zA-Z]{10}$
func isBotID(s string) bool { return len(s) == 10 && allBytes(s, isAlnum) }

// isAliasID: ^(TSTALIASID|[0-9a-zA-Z]{10})$, where TSTALIASID is itself ten
// alphanumerics.
func isAliasID(s string) bool { return isBotID(s) }

// isSessionID: ^[0-9a-zA-Z._:-]{2,100}$
func isSessionID(s string) bool {
	return len(s) >= 2 && len(s) <= 100 && allBytes(s, func(c byte) bool {
		return isAlnum(c) || c == '.' || c == '_' || c == ':' || c == '-'
	})
}

// isLocaleID: ^[a-z]{2,3}_([A-Z]{2}|[0-9]{3})$; Lex locale ids are
// language_REGION, with es_419 the numeric region.
func isLocaleID(s string) bool {
	lang, region, ok := strings.Cut(s, "_")
	if !ok || len(lang) < 2 || len(lang) > 3 || !allBytes(lang, func(c byte) bool { return 'a' <= c && c <= 'z' }) {
		return false
	}
	switch len(region) {
	case 2:
		return allBytes(region, func(c byte) bool { return 'A' <= c && c <= 'Z' })
	case 3:
		return allBytes(region, func(c byte) bool { return '0' <= c && c <= '9' })
	}
	return false
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
		return nil, errors.New("lexlocal: an access key id and secret access key are required")
	}
	if opts.Brain == nil {
		return nil, errors.New("lexlocal: a Brain is required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 5 * time.Minute
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 100_000
	}
	return &Server{opts: opts, sessions: newSessionStore(opts.MaxSessions)}, nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

// route is a matched operation with its decoded path parameters.
type route struct {
	op                          string
	bot, alias, locale, session string
	namespace                   string
}

// match routes on the raw path split into segments before decoding each, so
// an encoded '/' inside an id stays inside that id.
func match(method, escapedPath string) (route, bool) {
	p := strings.TrimPrefix(escapedPath, "/")
	// The model API documents trailing slashes (GET /bots/{botId}/) while the
	// SDK sends none; accept both.
	p = strings.TrimSuffix(p, "/")
	raw := strings.Split(p, "/")
	seg := make([]string, len(raw))
	for i, r := range raw {
		d, err := url.PathUnescape(r)
		if err != nil {
			return route{}, false
		}
		seg[i] = d
	}
	if len(seg) == 1 && seg[0] == "bots" && method == http.MethodPost {
		return route{op: "ListBots", namespace: nsModels}, true
	}
	if len(seg) < 2 || seg[0] != "bots" {
		return route{}, false
	}
	switch {
	case len(seg) >= 8 && raw[2] == "botAliases" && raw[4] == "botLocales" && raw[6] == "sessions":
		rt := route{bot: seg[1], alias: seg[3], locale: seg[5], session: seg[7], namespace: nsRuntime}
		switch {
		case len(seg) == 9 && raw[8] == "text" && method == http.MethodPost:
			rt.op = "RecognizeText"
		case len(seg) == 8 && method == http.MethodGet:
			rt.op = "GetSession"
		case len(seg) == 8 && method == http.MethodPost:
			rt.op = "PutSession"
		case len(seg) == 8 && method == http.MethodDelete:
			rt.op = "DeleteSession"
		default:
			return route{}, false
		}
		return rt, true
	case len(seg) == 2 && method == http.MethodGet:
		return route{op: "DescribeBot", bot: seg[1], namespace: nsModels}, true
	case len(seg) == 3 && raw[2] == "botaliases" && method == http.MethodPost:
		return route{op: "ListBotAliases", bot: seg[1], namespace: nsModels}, true
	case len(seg) == 4 && raw[2] == "botaliases" && method == http.MethodGet:
		return route{op: "DescribeBotAlias", bot: seg[1], alias: seg[3], namespace: nsModels}, true
	}
	return route{}, false
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	h := w.Header()
	h.Set("X-Amzn-Requestid", reqID)
	// The SDK corrects its clock from this header after a skew error, as it
	// does against AWS; it must come from the same clock that judged the skew.
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))

	rt, routed := match(r.Method, rawPath(r))
	ns := rt.namespace
	if !routed {
		ns = nsRuntime
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, errorf(ErrValidation, "Request body exceeds %d bytes.", maxBodyBytes), ns)
			return
		}
		writeError(w, errorf(ErrValidation, "Could not read the request body."), ns)
		return
	}
	// Authentication comes before routing, as at AWS: an unsigned caller
	// learns nothing about which paths exist.
	if aerr := s.verifySigV4(r, body); aerr != nil {
		s.opts.Logger.Info("lexlocal: request refused", "type", aerr.Type, "reason", aerr.Message)
		writeError(w, aerr, nsAuth)
		return
	}
	if !routed {
		writeError(w, errorf(errUnknownOperation, "No operation matches %s %s.", r.Method, r.URL.Path), ns)
		return
	}

	if s.opts.DenyModelAPI && rt.namespace == nsModels {
		resource := rt.bot
		if resource == "" {
			resource = "*"
		}
		writeError(w, errorf(ErrAccessDenied, "User: arn:aws:iam::000000000000:user/%s is not authorized to perform: lex:%s on resource: arn:aws:lex:%s:000000000000:bot/%s because no identity-based policy allows the lex:%s action",
			s.opts.AccessKeyID, rt.op, s.opts.Region, resource, rt.op), ns)
		return
	}

	var (
		out     any
		opErr   error
		headers map[string]string
	)
	ctx := r.Context()
	switch rt.op {
	case "RecognizeText":
		out, opErr = s.recognizeText(ctx, rt, body, reqID)
	case "GetSession":
		out, opErr = s.getSession(rt)
	case "PutSession":
		headers, opErr = s.putSession(rt, body, r.Header.Get("Responsecontenttype"))
	case "DeleteSession":
		out, opErr = s.deleteSession(rt)
	case "DescribeBot":
		out, opErr = s.describeBot(rt)
	case "DescribeBotAlias":
		out, opErr = s.describeBotAlias(rt)
	case "ListBotAliases":
		out, opErr = s.listBotAliases(rt, body)
	case "ListBots":
		out, opErr = s.listBots(body)
	}
	if opErr != nil {
		var e *Error
		if !errors.As(opErr, &e) {
			s.opts.Logger.Error("lexlocal: internal error", "op", rt.op, "requestId", reqID, "err", opErr)
			e = errorf(ErrInternalServer, "Internal server error (request %s).", reqID)
		}
		writeError(w, e, ns)
		return
	}
	if headers != nil {
		for k, v := range headers {
			h.Set(k, v)
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer putAnswerBuffer(buf)
	if err := encodeAnswer(buf, out); err != nil {
		s.opts.Logger.Error("lexlocal: encoding response", "op", rt.op, "err", err)
		writeError(w, errorf(ErrInternalServer, "Internal server error (request %s).", reqID), ns)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// answerBuffers recycles the buffers answers are encoded into, which are
// otherwise the largest allocation of a turn.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putAnswerBuffer returns buf to the pool unless one unusually large answer
// made it big enough that keeping it would pin memory.
func putAnswerBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		answerBuffers.Put(buf)
	}
}

// encodeAnswer appends v to buf, byte for byte as json.Marshal writes it.
func encodeAnswer(buf *bytes.Buffer, v any) error {
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends with a newline, Marshal does not
	return nil
}

// validateRuntime checks ids in the order AWS reports them and resolves the
// bot and alias, including whether the locale is enabled on the alias.
func (s *Server) validateRuntime(rt route) (BotInfo, *Error) {
	if e := validateBotAlias(rt.bot, rt.alias); e != nil {
		return BotInfo{}, e
	}
	if !isLocaleID(rt.locale) {
		return BotInfo{}, validationError("localeId", rt.locale, "Member must be a supported Lex locale id such as en_US")
	}
	if !isSessionID(rt.session) {
		return BotInfo{}, validationError("sessionId", rt.session, "Member must satisfy regular expression pattern: [0-9a-zA-Z._:-]+ and have length between 2 and 100")
	}
	bot, alias, e := s.lookup(rt.bot, rt.alias)
	if e != nil {
		return BotInfo{}, e
	}
	if l, ok := alias.Locales[rt.locale]; !ok || !l.Enabled {
		return BotInfo{}, errorf(ErrValidation, "Locale %s is not enabled for bot alias %s of bot %s.", rt.locale, rt.alias, rt.bot)
	}
	return bot, nil
}

func validateBotAlias(bot, alias string) *Error {
	if !isBotID(bot) {
		return validationError("botId", bot, "Member must satisfy regular expression pattern: ^[0-9a-zA-Z]+$ and have length 10")
	}
	if alias != "" && !isAliasID(alias) {
		return validationError("botAliasId", alias, "Member must satisfy regular expression pattern: ^(\\bTSTALIASID\\b|[0-9a-zA-Z]+)$ and have length 10")
	}
	return nil
}

func (s *Server) lookup(botID, aliasID string) (BotInfo, AliasInfo, *Error) {
	bot, ok := s.opts.Brain.Bot(botID)
	if !ok {
		return BotInfo{}, AliasInfo{}, errorf(ErrResourceNotFound, "Failed to retrieve resource since it does not exist: bot %s.", botID)
	}
	alias, ok := bot.Alias(aliasID)
	if !ok {
		return BotInfo{}, AliasInfo{}, errorf(ErrResourceNotFound, "Failed to retrieve resource since it does not exist: bot alias %s of bot %s.", aliasID, botID)
	}
	return bot, alias, nil
}

func sessionTTL(b BotInfo) time.Duration {
	if b.IdleSessionTTL > 0 {
		return b.IdleSessionTTL
	}
	return defaultSessionTTL
}

func (rt route) key() sessionKey { return sessionKey{rt.bot, rt.alias, rt.locale, rt.session} }

// decodeRecognizeText parses and validates a RecognizeText body. It is
// separate from the handler so it can be fuzzed directly.
func decodeRecognizeText(body []byte) (recognizeTextRequest, *Error) {
	var req recognizeTextRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, errorf(ErrValidation, "Request body is not valid JSON for RecognizeText: %s", jsonProblem(err))
	}
	if req.Text == nil {
		return req, validationError("text", "null", "Member must not be null")
	}
	if n := utf8.RuneCountInString(*req.Text); n < 1 || n > maxTextRunes {
		return req, validationError("text", "***", fmt.Sprintf("Member must have length less than or equal to %d and greater than or equal to 1", maxTextRunes))
	}
	if !utf8.ValidString(*req.Text) {
		return req, validationError("text", "***", "Member must be valid UTF-8")
	}
	return req, nil
}

// jsonProblem names what was wrong without echoing the payload back.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at offset %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	}
	return "malformed"
}

func (s *Server) recognizeText(ctx context.Context, rt route, body []byte, reqID string) (any, error) {
	bot, verr := s.validateRuntime(rt)
	if verr != nil {
		return nil, verr
	}
	req, derr := decodeRecognizeText(body)
	if derr != nil {
		return nil, derr
	}
	now := s.now()
	var state SessionState
	if req.SessionState != nil {
		// A client-sent state replaces the stored one, as in Lex.
		state = cloneState(*req.SessionState)
	} else if sess, ok := s.sessions.get(rt.key(), now); ok {
		state = cloneState(sess.state)
	}
	res, err := s.opts.Brain.Recognize(ctx, RecognizeInput{
		BotID: rt.bot, AliasID: rt.alias, LocaleID: rt.locale, SessionID: rt.session,
		Text: *req.Text, SessionState: state, RequestAttributes: req.RequestAttributes,
	})
	if err != nil {
		return nil, err
	}
	out := res.SessionState
	out.OriginatingRequestID = reqID
	if out.SessionAttributes == nil {
		out.SessionAttributes = map[string]string{}
	}
	out = cloneState(out)
	s.sessions.put(session{
		key: rt.key(), state: out, messages: res.Messages, interpretations: res.Interpretations,
		requestAttributes: req.RequestAttributes, expires: now.Add(sessionTTL(bot)),
	}, now)
	return recognizeTextResponse{
		Messages: res.Messages, SessionState: out.wire(), Interpretations: wireInterpretations(res.Interpretations),
		RequestAttributes: req.RequestAttributes, SessionID: rt.session,
	}, nil
}

func (s *Server) getSession(rt route) (any, error) {
	if _, verr := s.validateRuntime(rt); verr != nil {
		return nil, verr
	}
	sess, ok := s.sessions.get(rt.key(), s.now())
	if !ok {
		return nil, errorf(ErrResourceNotFound, "Session %s not found.", rt.session)
	}
	return getSessionResponse{
		SessionID: rt.session, Messages: sess.messages, Interpretations: wireInterpretations(sess.interpretations), SessionState: sess.state.wire(),
	}, nil
}

// putSession answers in headers, not a body: PutSession returns the state as
// base64 of gzipped JSON, the same encoding RecognizeUtterance uses.
func (s *Server) putSession(rt route, body []byte, contentType string) (map[string]string, error) {
	bot, verr := s.validateRuntime(rt)
	if verr != nil {
		return nil, verr
	}
	var req putSessionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, errorf(ErrValidation, "Request body is not valid JSON for PutSession: %s", jsonProblem(err))
	}
	if req.SessionState == nil {
		return nil, validationError("sessionState", "null", "Member must not be null")
	}
	if contentType == "" {
		contentType = "text/plain; charset=utf-8"
	}
	if !strings.HasPrefix(contentType, "text/plain") {
		return nil, validationError("responseContentType", contentType, "Only text/plain responses are supported by the local runtime")
	}
	state := cloneState(*req.SessionState)
	if state.SessionAttributes == nil {
		state.SessionAttributes = map[string]string{}
	}
	now := s.now()
	s.sessions.put(session{
		key: rt.key(), state: state, messages: req.Messages, requestAttributes: req.RequestAttributes,
		expires: now.Add(sessionTTL(bot)),
	}, now)
	h := map[string]string{
		"Content-Type":            contentType,
		"x-amz-lex-session-id":    rt.session,
		"x-amz-lex-session-state": gzipBase64(state),
	}
	if len(req.Messages) > 0 {
		h["x-amz-lex-messages"] = gzipBase64(req.Messages)
	}
	if len(req.RequestAttributes) > 0 {
		h["x-amz-lex-request-attributes"] = gzipBase64(req.RequestAttributes)
	}
	return h, nil
}

func gzipBase64(v any) string {
	raw, _ := json.Marshal(v)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func (s *Server) deleteSession(rt route) (any, error) {
	if _, verr := s.validateRuntime(rt); verr != nil {
		return nil, verr
	}
	if !s.sessions.delete(rt.key(), s.now()) {
		return nil, errorf(ErrResourceNotFound, "Session %s not found.", rt.session)
	}
	return deleteSessionResponse{BotID: rt.bot, BotAliasID: rt.alias, LocaleID: rt.locale, SessionID: rt.session}, nil
}

func (s *Server) describeBot(rt route) (any, error) {
	if e := validateBotAlias(rt.bot, ""); e != nil {
		return nil, e
	}
	bot, ok := s.opts.Brain.Bot(rt.bot)
	if !ok {
		return nil, errorf(ErrResourceNotFound, "Failed to retrieve resource since it does not exist: bot %s.", rt.bot)
	}
	return describeBotResponse{
		BotID: bot.ID, BotName: bot.Name, Description: bot.Description,
		RoleArn:                 "arn:aws:iam::000000000000:role/aws-service-role/lexv2.amazonaws.com/AWSServiceRoleForLexV2Bots_local",
		IdleSessionTTLInSeconds: int(sessionTTL(bot) / time.Second),
		BotStatus:               "Available", BotType: "Bot",
		CreationDateTime: epochSeconds(bot.Created), LastUpdatedDateTime: epochSeconds(bot.Updated),
	}, nil
}

func (s *Server) describeBotAlias(rt route) (any, error) {
	if e := validateBotAlias(rt.bot, rt.alias); e != nil {
		return nil, e
	}
	bot, alias, e := s.lookup(rt.bot, rt.alias)
	if e != nil {
		return nil, e
	}
	settings := make(map[string]botAliasLocaleSetting, len(alias.Locales))
	for id, l := range alias.Locales {
		st := botAliasLocaleSetting{Enabled: l.Enabled}
		if l.LambdaARN != "" {
			st.CodeHookSpecification = &codeHookSpecification{LambdaCodeHook: lambdaCodeHook{LambdaARN: l.LambdaARN, CodeHookInterfaceVersion: "1.0"}}
		}
		settings[id] = st
	}
	return describeBotAliasResponse{
		BotAliasID: alias.ID, BotAliasName: alias.Name, Description: alias.Description,
		BotVersion: aliasVersion(alias), BotAliasLocaleSettings: settings, BotAliasStatus: "Available",
		BotID: bot.ID, CreationDateTime: epochSeconds(bot.Created), LastUpdatedDateTime: epochSeconds(bot.Updated),
	}, nil
}

func aliasVersion(a AliasInfo) string {
	if a.BotVersion == "" {
		return "DRAFT"
	}
	return a.BotVersion
}

func (s *Server) listBotAliases(rt route, body []byte) (any, error) {
	if e := validateBotAlias(rt.bot, ""); e != nil {
		return nil, e
	}
	var req listBotAliasesRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, errorf(ErrValidation, "Request body is not valid JSON for ListBotAliases: %s", jsonProblem(err))
		}
	}
	limit := 10
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > 1000 {
			return nil, validationError("maxResults", strconv.Itoa(*req.MaxResults), "Member must have value less than or equal to 1000 and greater than or equal to 1")
		}
		limit = *req.MaxResults
	}
	start := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(req.NextToken)
		if err != nil || n < 0 {
			return nil, errorf(ErrValidation, "The nextToken is not valid.")
		}
		start = n
	}
	bot, ok := s.opts.Brain.Bot(rt.bot)
	if !ok {
		return nil, errorf(ErrResourceNotFound, "Failed to retrieve resource since it does not exist: bot %s.", rt.bot)
	}
	resp := listBotAliasesResponse{BotID: bot.ID, BotAliasSummaries: []botAliasSummary{}}
	for i := start; i < len(bot.Aliases) && i < start+limit; i++ {
		a := bot.Aliases[i]
		resp.BotAliasSummaries = append(resp.BotAliasSummaries, botAliasSummary{
			BotAliasID: a.ID, BotAliasName: a.Name, Description: a.Description, BotVersion: aliasVersion(a),
			BotAliasStatus: "Available", CreationDateTime: epochSeconds(bot.Created), LastUpdatedDateTime: epochSeconds(bot.Updated),
		})
	}
	if start+limit < len(bot.Aliases) {
		resp.NextToken = strconv.Itoa(start + limit)
	}
	return resp, nil
}

// newRequestID makes a UUID-shaped id like AWS's x-amzn-RequestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
