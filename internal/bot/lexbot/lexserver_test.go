package lexbot

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// lexCall is what the scripted Lex server received in one RecognizeText.
type lexCall struct {
	Bot, Alias, Locale, Session string
	Text                        string
	RequestAttributes           map[string]string
	SessionAttributes           map[string]string
	// HasSessionState says the request carried a sessionState object.
	HasSessionState bool
	Scope           sigv4Scope
	SignedHeaders   string
}

// sigv4Scope is the credential scope of an Authorization header:
// AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
type sigv4Scope struct {
	Algorithm, KeyID, Date, Region, Service, Terminator string
}

func parseAuthorization(h string) (sigv4Scope, string) {
	alg, rest, _ := strings.Cut(h, " ")
	var sc sigv4Scope
	var signed string
	sc.Algorithm = alg
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) == 5 {
				sc.KeyID, sc.Date, sc.Region, sc.Service, sc.Terminator = f[0], f[1], f[2], f[3], f[4]
			}
		case "SignedHeaders":
			signed = v
		}
	}
	return sc, signed
}

// lexAnswer is one scripted response: a status, AWS's error type header
// (for errors), extra headers and the raw body, byte for byte.
type lexAnswer struct {
	status  int
	errType string
	header  map[string]string
	body    string
	delay   time.Duration
}

// scriptedLex is a Lex V2 runtime stand-in that answers from a script and
// records every request. The last answer repeats once the script runs out.
type scriptedLex struct {
	mu      sync.Mutex
	calls   []lexCall
	answers []lexAnswer
	bad     []string // requests that were not a well-formed RecognizeText
}

func newScriptedLex(t testing.TB, answers ...lexAnswer) (*scriptedLex, *httptest.Server) {
	t.Helper()
	s := &scriptedLex{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *scriptedLex) script(answers ...lexAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = answers
}

func (s *scriptedLex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call, err := readCall(r)
	s.mu.Lock()
	if err != nil {
		s.bad = append(s.bad, err.Error())
	}
	s.calls = append(s.calls, call)
	a := lexAnswer{status: 200, body: okBody}
	if len(s.answers) > 0 {
		a = s.answers[0]
		if len(s.answers) > 1 {
			s.answers = s.answers[1:]
		}
	}
	s.mu.Unlock()
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "6b2b1f4e-3f4a-4e8e-9d6a-0c1d2e3f4a5b")
	if a.errType != "" {
		w.Header().Set("X-Amzn-Errortype", a.errType+":http://internal.amazon.com/coral/com.amazonaws.deepsense.runtimeservice/")
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.status == 0 {
		a.status = 200
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func readCall(r *http.Request) (lexCall, error) {
	var c lexCall
	c.Scope, c.SignedHeaders = parseAuthorization(r.Header.Get("Authorization"))
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodPost || len(seg) != 9 || seg[0] != "bots" || seg[2] != "botAliases" ||
		seg[4] != "botLocales" || seg[6] != "sessions" || seg[8] != "text" {
		return c, fmt.Errorf("not a RecognizeText request: %s %s", r.Method, r.URL.Path)
	}
	dec := func(s string) string { v, _ := url.PathUnescape(s); return v }
	c.Bot, c.Alias, c.Locale, c.Session = dec(seg[1]), dec(seg[3]), dec(seg[5]), dec(seg[7])
	var body struct {
		Text              string            `json:"text"`
		RequestAttributes map[string]string `json:"requestAttributes"`
		SessionState      *struct {
			SessionAttributes map[string]string `json:"sessionAttributes"`
		} `json:"sessionState"`
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return c, fmt.Errorf("body is not JSON: %v", err)
	}
	c.Text, c.RequestAttributes = body.Text, body.RequestAttributes
	if body.SessionState != nil {
		c.HasSessionState = true
		c.SessionAttributes = body.SessionState.SessionAttributes
	}
	return c, nil
}

// last returns the latest request, failing the test if there was none or
// it was malformed.
func (s *scriptedLex) last(t *testing.T) lexCall {
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

func (s *scriptedLex) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Bodies shaped as Lex V2 sends them: unfilled slots are null, slotless
// intents have "slots": {}, and every response has sessionAttributes.
const okBody = `{
  "interpretations": [{"intent": {"confirmationState": "None", "name": "Greeting", "slots": {}, "state": "Fulfilled"}, "interpretationSource": "Lex", "nluConfidence": {"score": 1}}],
  "messages": [{"content": "Hello!", "contentType": "PlainText"}],
  "sessionId": "s",
  "sessionState": {"dialogAction": {"type": "Close"}, "intent": {"confirmationState": "None", "name": "Greeting", "slots": {}, "state": "Fulfilled"}, "originatingRequestId": "0d4e9e2c-0b1f-4a5e-8a0f-3c1b2d3e4f50", "sessionAttributes": {}}
}`

func lexError(status int, typ, msg string) lexAnswer {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	return lexAnswer{status: status, errType: typ, body: string(body)}
}

// answerBody builds a success body from parts, each raw JSON or empty to
// leave the member out.
func answerBody(messages, intent, dialogAction, attrs, interpretations string) string {
	var ss []string
	if dialogAction != "" {
		ss = append(ss, `"dialogAction":`+dialogAction)
	}
	if intent != "" {
		ss = append(ss, `"intent":`+intent)
	}
	if attrs == "" {
		attrs = "{}"
	}
	ss = append(ss, `"sessionAttributes":`+attrs, `"originatingRequestId":"0d4e9e2c-0b1f-4a5e-8a0f-3c1b2d3e4f50"`)
	top := []string{`"sessionId":"s"`, `"sessionState":{` + strings.Join(ss, ",") + `}`}
	if messages != "" {
		top = append(top, `"messages":`+messages)
	}
	if interpretations != "" {
		top = append(top, `"interpretations":`+interpretations)
	}
	return "{" + strings.Join(top, ",") + "}"
}
