// Package lextest is a scripted Amazon Lex V2 endpoint for tests: the
// runtime's RecognizeText answers from a script, byte for byte as AWS would
// send them (null slots, intents and messages left out, typed errors), and
// the model API's DescribeBot, DescribeBotAlias, ListBots and ListBotAliases
// describe one bot and alias, so that saving a Lex bot validates against
// the same address its turns go to. Every request is recorded, with what
// the official SDK client put in it, down to its SigV4 credential scope.
package lextest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bot and alias the model API describes unless the test says
// otherwise (Server.Describe).
const (
	BotID     = "ABCDEFGHIJ"
	BotName   = "SupportBot"
	AliasID   = "TSTALIASID"
	AliasName = "TestBotAlias"
)

// Call is one request the server received.
type Call struct {
	// Op is the operation: RecognizeText, DescribeBotAlias, DescribeBot,
	// ListBots or ListBotAliases.
	Op string
	// Path is the request's path as sent, escaped.
	Path                        string
	Bot, Alias, Locale, Session string
	Text                        string
	RequestAttributes           map[string]string
	SessionAttributes           map[string]string
	// HasSessionState says the request carried a sessionState object.
	HasSessionState bool
	Scope           Scope
	SignedHeaders   string
}

// Scope is the credential scope of a SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
type Scope struct {
	Algorithm, KeyID, Date, Region, Service, Terminator string
}

// Answer is one scripted RecognizeText response: a status, AWS's error
// type (for errors), extra headers and the raw body. The zero Status means
// 200.
type Answer struct {
	Status  int
	ErrType string
	Header  map[string]string
	Body    string
	// Delay holds the response back, or until the client gives up.
	Delay time.Duration
	// From, when set, computes the answer from the request instead: a bot
	// whose code reads what it was sent (and may call back, as a Lambda
	// fetching an attachment does).
	From func(Call) Answer
}

// Server is a running scripted Lex endpoint.
type Server struct {
	// URL is the endpoint for both the runtime and the model API.
	URL string

	mu      sync.Mutex
	calls   []Call // RecognizeText only
	model   []Call
	answers []Answer
	bad     []string
	alias   Alias
}

// Alias is what the model API reports about the one bot and alias it
// knows.
type Alias struct {
	BotID, BotName, AliasID, AliasName string
	// Locales are the alias's botAliasLocaleSettings: id → enabled.
	Locales map[string]bool
}

// New starts a server on loopback until t ends. Until a script is set it
// answers OK, and its model API describes BotID/AliasID with en_US
// enabled.
func New(t testing.TB, answers ...Answer) *Server {
	t.Helper()
	s := &Server{answers: answers, alias: Alias{BotID: BotID, BotName: BotName, AliasID: AliasID, AliasName: AliasName,
		Locales: map[string]bool{"en_US": true}}}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Script replaces the answers still to come. The last one repeats once the
// script runs out.
func (s *Server) Script(answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = answers
}

// Describe replaces what the model API reports.
func (s *Server) Describe(a Alias) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alias = a
}

// Calls returns the RecognizeText requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ModelCalls returns the model-API requests received so far, in order.
func (s *Server) ModelCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.model)
}

// Count is len(Calls()).
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Last returns the latest RecognizeText, failing the test if there was
// none or any request was malformed.
func (s *Server) Last(t testing.TB) Call {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) > 0 {
		t.Fatalf("malformed requests: %v", s.bad)
	}
	if len(s.calls) == 0 {
		t.Fatal("Lex received no request")
	}
	return s.calls[len(s.calls)-1]
}

// Malformed returns the requests that were not well-formed Lex calls.
func (s *Server) Malformed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bad)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "6b2b1f4e-3f4a-4e8e-9d6a-0c1d2e3f4a5b")
	call, err := readCall(r)
	if err != nil {
		s.mu.Lock()
		s.bad = append(s.bad, err.Error())
		s.mu.Unlock()
		write(w, Error(http.StatusBadRequest, "UnknownOperationException", err.Error()))
		return
	}
	if call.Op != "RecognizeText" {
		s.mu.Lock()
		s.model = append(s.model, call)
		a := s.alias
		s.mu.Unlock()
		write(w, a.answer(call))
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	a := Answer{Body: OK}
	if len(s.answers) > 0 {
		a = s.answers[0]
		if len(s.answers) > 1 {
			s.answers = s.answers[1:]
		}
	}
	s.mu.Unlock()
	if a.From != nil {
		a = a.From(call)
	}
	if a.Delay > 0 {
		select {
		case <-time.After(a.Delay):
		case <-r.Context().Done():
			return
		}
	}
	write(w, a)
}

func write(w http.ResponseWriter, a Answer) {
	if a.ErrType != "" {
		// AWS appends the service's namespace to the type; the SDK reads
		// the part before the colon.
		w.Header().Set("X-Amzn-ErrorType", a.ErrType+":http://internal.amazon.com/coral/com.amazonaws.deepsense.runtimeservice/")
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	w.WriteHeader(a.Status)
	_, _ = io.WriteString(w, a.Body)
}

// answer serves a model-API call for the one bot and alias a describes;
// anything else is ResourceNotFoundException, as Lex answers.
func (a Alias) answer(c Call) Answer {
	notFound := func(what, id string) Answer {
		return Error(http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Could not find %s %s", what, id))
	}
	if c.Op != "ListBots" && c.Bot != a.BotID {
		return notFound("bot", c.Bot)
	}
	switch c.Op {
	case "ListBots":
		return jsonAnswer(map[string]any{"botSummaries": []map[string]any{{
			"botId": a.BotID, "botName": a.BotName, "botStatus": "Available", "botType": "Bot", "latestBotVersion": "1",
			"lastUpdatedDateTime": 1.7e9,
		}}})
	case "DescribeBot":
		return jsonAnswer(map[string]any{
			"botId": a.BotID, "botName": a.BotName, "botStatus": "Available", "botType": "Bot",
			"dataPrivacy": map[string]bool{"childDirected": false}, "idleSessionTTLInSeconds": 300,
			"creationDateTime": 1.7e9, "lastUpdatedDateTime": 1.7e9,
			"roleArn": "arn:aws:iam::123456789012:role/aws-service-role/lexv2.amazonaws.com/AWSServiceRoleForLexV2Bots",
		})
	case "ListBotAliases":
		return jsonAnswer(map[string]any{"botId": a.BotID, "botAliasSummaries": []map[string]any{{
			"botAliasId": a.AliasID, "botAliasName": a.AliasName, "botAliasStatus": "Available", "botVersion": "DRAFT",
			"creationDateTime": 1.7e9, "lastUpdatedDateTime": 1.7e9,
		}}})
	}
	if c.Alias != a.AliasID {
		return notFound("bot alias", c.Alias)
	}
	locales := map[string]map[string]bool{}
	for id, on := range a.Locales {
		locales[id] = map[string]bool{"enabled": on}
	}
	return jsonAnswer(map[string]any{
		"botId": a.BotID, "botAliasId": a.AliasID, "botAliasName": a.AliasName,
		"botAliasStatus": "Available", "botVersion": "DRAFT", "botAliasLocaleSettings": locales,
		"creationDateTime": 1.7e9, "lastUpdatedDateTime": 1.7e9,
		"sentimentAnalysisSettings": map[string]bool{"detectSentiment": false},
	})
}

func jsonAnswer(v any) Answer {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings, numbers and booleans
	}
	return Answer{Body: string(b)}
}

// readCall parses a request into a Call, by the paths of the Lex V2
// runtime and model APIs.
func readCall(r *http.Request) (Call, error) {
	c := Call{Path: r.URL.EscapedPath()}
	c.Scope, c.SignedHeaders = parseAuthorization(r.Header.Get("Authorization"))
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return c, err
	}
	// The model API's paths end in a slash; the runtime's do not.
	seg := strings.Split(strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/"), "/")
	for i := range seg {
		if seg[i], err = url.PathUnescape(seg[i]); err != nil {
			return c, fmt.Errorf("bad path %s: %v", r.URL.Path, err)
		}
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case post && len(seg) == 9 && seg[0] == "bots" && seg[2] == "botAliases" && seg[4] == "botLocales" && seg[6] == "sessions" && seg[8] == "text":
		c.Op, c.Bot, c.Alias, c.Locale, c.Session = "RecognizeText", seg[1], seg[3], seg[5], seg[7]
	case post && len(seg) == 1 && seg[0] == "bots":
		c.Op = "ListBots"
		return c, nil
	case get && len(seg) == 2 && seg[0] == "bots":
		c.Op, c.Bot = "DescribeBot", seg[1]
		return c, nil
	case post && len(seg) == 3 && seg[0] == "bots" && seg[2] == "botaliases":
		c.Op, c.Bot = "ListBotAliases", seg[1]
		return c, nil
	case get && len(seg) == 4 && seg[0] == "bots" && seg[2] == "botaliases":
		c.Op, c.Bot, c.Alias = "DescribeBotAlias", seg[1], seg[3]
		return c, nil
	default:
		return c, fmt.Errorf("not a Lex V2 request: %s %s", r.Method, r.URL.Path)
	}
	var body struct {
		Text              string            `json:"text"`
		RequestAttributes map[string]string `json:"requestAttributes"`
		SessionState      *struct {
			SessionAttributes map[string]string `json:"sessionAttributes"`
		} `json:"sessionState"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return c, fmt.Errorf("RecognizeText body is not JSON: %v", err)
	}
	c.Text, c.RequestAttributes = body.Text, body.RequestAttributes
	if body.SessionState != nil {
		c.HasSessionState = true
		c.SessionAttributes = body.SessionState.SessionAttributes
	}
	return c, nil
}

func parseAuthorization(h string) (Scope, string) {
	alg, rest, _ := strings.Cut(h, " ")
	sc := Scope{Algorithm: alg}
	var signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if f := strings.Split(v, "/"); len(f) == 5 {
				sc.KeyID, sc.Date, sc.Region, sc.Service, sc.Terminator = f[0], f[1], f[2], f[3], f[4]
			}
		case "SignedHeaders":
			signed = v
		}
	}
	return sc, signed
}

// Error is an answer in AWS's error format: the type in X-Amzn-ErrorType
// and a body of {"__type","message"}.
func Error(status int, typ, msg string) Answer {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	return Answer{Status: status, ErrType: typ, Body: string(body)}
}

// The error answers Lex V2's runtime gives, with AWS's statuses and
// messages.
var (
	Throttling   = Error(http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	Internal     = Error(http.StatusInternalServerError, "InternalServerException", "An internal error occurred")
	AccessDenied = Error(http.StatusForbidden, "AccessDeniedException",
		"User: arn:aws:iam::123456789012:user/switchboard is not authorized to perform: lex:RecognizeText on resource: arn:aws:lex:eu-west-2:123456789012:bot-alias/ABCDEFGHIJ/TSTALIASID")
	UnrecognizedClient = Error(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	NotFound           = Error(http.StatusNotFound, "ResourceNotFoundException", "Could not find bot alias TSTALIASID")
	Validation         = Error(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'localeId' failed to satisfy constraint")
)

// OK is a success body as Lex V2 sends it: unfilled slots are null,
// slotless intents have "slots": {}, and sessionAttributes is always there.
const OK = `{
  "interpretations": [{"intent": {"confirmationState": "None", "name": "Greeting", "slots": {}, "state": "Fulfilled"}, "interpretationSource": "Lex", "nluConfidence": {"score": 1}}],
  "messages": [{"content": "Hello!", "contentType": "PlainText"}],
  "sessionId": "s",
  "sessionState": {"dialogAction": {"type": "Close"}, "intent": {"confirmationState": "None", "name": "Greeting", "slots": {}, "state": "Fulfilled"}, "originatingRequestId": "0d4e9e2c-0b1f-4a5e-8a0f-3c1b2d3e4f50", "sessionAttributes": {}}
}`

// Response builds a success body from parts, each raw JSON; an empty part
// is left out of the body, as Lex leaves out what it has nothing for
// (SessionAttributes, which Lex always sends, defaults to {}).
type Response struct {
	Messages          string
	Intent            string
	DialogAction      string
	SessionAttributes string
	Interpretations   string
}

// Body is the response's JSON.
func (r Response) Body() string {
	var ss []string
	if r.DialogAction != "" {
		ss = append(ss, `"dialogAction":`+r.DialogAction)
	}
	if r.Intent != "" {
		ss = append(ss, `"intent":`+r.Intent)
	}
	attrs := r.SessionAttributes
	if attrs == "" {
		attrs = "{}"
	}
	ss = append(ss, `"sessionAttributes":`+attrs, `"originatingRequestId":"0d4e9e2c-0b1f-4a5e-8a0f-3c1b2d3e4f50"`)
	top := []string{`"sessionId":"s"`, `"sessionState":{` + strings.Join(ss, ",") + `}`}
	if r.Messages != "" {
		top = append(top, `"messages":`+r.Messages)
	}
	if r.Interpretations != "" {
		top = append(top, `"interpretations":`+r.Interpretations)
	}
	return "{" + strings.Join(top, ",") + "}"
}

// Answer is the response as a 200 answer.
func (r Response) Answer() Answer { return Answer{Body: r.Body()} }

// Messages is a messages array of the given message objects.
func Messages(msgs ...string) string { return "[" + strings.Join(msgs, ",") + "]" }

// PlainText, SSML and CustomPayload are message objects of their content
// type.
func PlainText(s string) string     { return message("PlainText", s) }
func SSML(s string) string          { return message("SSML", s) }
func CustomPayload(s string) string { return message("CustomPayload", s) }

func message(typ, content string) string {
	b, _ := json.Marshal(map[string]string{"content": content, "contentType": typ})
	return string(b)
}

// Card is an ImageResponseCard message; buttons alternate text and value.
func Card(title, subtitle, imageURL string, buttons ...string) string {
	card := map[string]any{"title": title}
	if subtitle != "" {
		card["subtitle"] = subtitle
	}
	if imageURL != "" {
		card["imageUrl"] = imageURL
	}
	var bs []map[string]string
	for i := 0; i+1 < len(buttons); i += 2 {
		bs = append(bs, map[string]string{"text": buttons[i], "value": buttons[i+1]})
	}
	if bs != nil {
		card["buttons"] = bs
	}
	b, _ := json.Marshal(map[string]any{"contentType": "ImageResponseCard", "imageResponseCard": card})
	return string(b)
}

// Intent is a sessionState intent object with the given state and slots
// (raw JSON, "{}" when empty; an unfilled slot is null).
func Intent(name, state, slots string) string {
	if slots == "" {
		slots = "{}"
	}
	n, _ := json.Marshal(name)
	st, _ := json.Marshal(state)
	return `{"confirmationState":"None","name":` + string(n) + `,"slots":` + slots + `,"state":` + string(st) + `}`
}

// Fallback is FallbackIntent's answer, as Lex gives it when nothing
// matched.
func Fallback(text string) Answer {
	return Response{
		Messages:        Messages(PlainText(text)),
		Intent:          Intent("FallbackIntent", "ReadyForFulfillment", ""),
		DialogAction:    `{"type":"Close"}`,
		Interpretations: `[{"intent":{"name":"FallbackIntent","slots":{},"state":"ReadyForFulfillment","confirmationState":"None"},"interpretationSource":"Lex"}]`,
	}.Answer()
}
