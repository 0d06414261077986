package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

var sendSeeds = []string{
	`{"text":"hello","clientKey":"k1","sender":{"type":"contact"}}`,
	`{"contentType":2,"location":{"lat":52.5,"lon":13.4},"sender":{"type":"agent","id":"a1"}}`,
	`{"attachments":[{"uploadId":"u1"}],"metadata":{"templateId":"10","payload":[{"title":"x"}],"n":1,"gone":null}}`,
	`{"text":"x","metadata":{"":"empty key"}}`,
	`{"text":"\ud800","location":{"lat":1e400}}`,
	`{"contentType":"1"}`,
	`{"text":"a"} trailing`,
	`[]`,
	`{"metadata":"str"}`,
}

// FuzzDecodeSendInput drives the strict decoder and the message rules with
// arbitrary bodies: they must refuse with a *chat.Error, never panic, and
// anything they accept must be a well-formed message.
func FuzzDecodeSendInput(f *testing.F) {
	for _, s := range sendSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in service.SendInput
		if err := httpx.Unmarshal(data, &in); err != nil {
			if chat.ErrorCode(err) == chat.CodeInternal {
				t.Fatalf("decoding gave an unexpected error: %v", err)
			}
			return
		}
		if err := in.Metadata.Validate("metadata"); err != nil && chat.ErrorCode(err) != chat.CodeInvalid {
			t.Fatalf("metadata validation: %v", err)
		}
		m := chat.NewMessage{
			Sender: chat.Sender{Type: chat.SenderContact, ID: "contact-1"}, Text: in.Text, ContentType: in.ContentType,
			Metadata: in.Metadata, Location: in.Location, ClientKey: in.ClientKey,
		}
		for _, a := range in.Attachments {
			m.Attachments = append(m.Attachments, chat.Attachment{UploadID: a.UploadID})
		}
		if err := m.Normalize(); err != nil {
			if chat.ErrorCode(err) != chat.CodeInvalid {
				t.Fatalf("normalize: %v", err)
			}
			return
		}
		if !m.ContentType.Valid() {
			t.Fatalf("accepted content type %d", m.ContentType)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("an accepted message does not encode: %v", err)
		}
	})
}

// FuzzMetadata checks chat.Metadata's JSON round trip: whatever it accepts
// encodes to a JSON object of strings that decodes back to the same map,
// and encoding is stable from then on.
func FuzzMetadata(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `{"a":"b"}`, `{"n":1.50,"o":{"x":[1, 2]},"t":true,"z":null}`, `{"a":"\u0000"}`, `{"a":1,"a":"dup"}`, `[1]`, `"s"`, `{"k":"\ud83d"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m chat.Metadata
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal %#v: %v", m, err)
		}
		var plain map[string]string
		if err := json.Unmarshal(out, &plain); err != nil || plain == nil {
			t.Fatalf("%s is not a JSON object of strings: %v", out, err)
		}
		var back chat.Metadata
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if len(m) != len(back) || !maps.Equal(map[string]string(m), map[string]string(back)) {
			// Invalid UTF-8 is replaced on the way out; that is the only
			// change allowed, and Validate refuses such maps anyway.
			if m.Validate("metadata") == nil {
				t.Fatalf("round trip changed a valid map: %q → %q", m, back)
			}
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(out, again) {
			t.Fatalf("encoding is not stable: %s then %s", out, again)
		}
	})
}

// FuzzCreateConversation sends arbitrary bodies to the real handler over a
// real store: every answer must be JSON, either a conversation (2xx) or the
// error shape with a 4xx, and never a 5xx.
func FuzzCreateConversation(f *testing.F) {
	fuzzJSONRoute(f, "POST /api/v1/conversations", map[string]string{auth.APIKeyHeader: bootstrapKey},
		`{}`, `{"contact":{"userId":"u1","name":"Ann","chatContext":{"a":1}}}`, `{"contactId":"nope"}`,
		`{"assignee":{"type":"bot","id":"b1"},"skipRouting":true}`, `{"metadata":{"k":{"deep":true}}}`,
		`{"teamId":"t/1"}`, `{"contact":{"language":"pt-BR","email":"A@B.co"}}`, `{`, `null`, "\x00",
	)
}

// FuzzWidgetSession is FuzzCreateConversation for the widget's public
// entry point, which anyone on the internet can reach.
func FuzzWidgetSession(f *testing.F) {
	fuzzJSONRoute(f, "POST /api/v1/widget/session", nil,
		`{"appId":"default","visitorId":"visitor-aaaaaaaaaaaaaaaa"}`,
		`{"appId":"default","visitorId":"visitor-aaaaaaaaaaaaaaaa","userId":"u1","userHash":"00ff","name":"Ann","email":"a@b.co","chatContext":{"plan":"pro"}}`,
		`{"appId":"default","accessToken":"t"}`, `{"appId":"nope","visitorId":"v"}`, `{"appId":5}`,
		`{"appId":"default","visitorId":"../../etc"}`, `{"appId":"default","visitorId":"visitor-aaaaaaaaaaaaaaaa","chatContext":[1]}`,
		`{`, `null`, "\x00",
	)
}

// FuzzCreateWebhook is FuzzCreateConversation for outgoing webhook
// endpoints, whose body carries URLs, secrets and event names.
func FuzzCreateWebhook(f *testing.F) {
	fuzzJSONRoute(f, "POST /api/v1/webhooks", map[string]string{auth.APIKeyHeader: bootstrapKey},
		`{"url":"https://hooks.example.com/in","events":["message.created"]}`,
		`{"url":"https://hooks.example.com/in","events":["*"],"enabled":false,"basicAuth":"u:p","headers":{"X-Key":"v"}}`,
		`{"url":"http://169.254.169.254/latest","events":["*"]}`, `{"url":"https://u:p@x.example","events":[]}`,
		`{"url":"https://x.example","events":["nope"]}`, `{"url":"https://x.example","events":"message.created"}`,
		`{"url":"https://x.example","events":["*"],"headers":{"Host":"evil"}}`, `{`, `null`, "\x00",
	)
}

// fuzzJSONRoute sends arbitrary bodies to route on the real handler over a
// real store, with header (credentials) set: every answer must be JSON,
// either a 2xx or the error shape with a 4xx, never a 5xx, and as
// openapi.json describes it.
func fuzzJSONRoute(f *testing.F, route string, header map[string]string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	method, path, _ := strings.Cut(route, " ")
	// One server for all inputs: a store per input would make fuzzing crawl.
	e := newEnv(f)
	h := e.handler
	var calls atomic.Uint32
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		// A new address per input keeps per-address limits out of the way.
		n := calls.Add(1)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&0xff, n>>8&0xff, n&0xff)
		r.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%q: answer is not JSON: %q", body, rec.Body)
		}
		// Whatever the answer, it is one openapi.json documents.
		e.spec.checkResponse(t, route, resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()})
		if rec.Code < 300 {
			return
		}
		e, _ := v["error"].(map[string]any)
		if _, ok := e["code"].(string); !ok || e["message"] == nil || e["details"] == nil || len(v) != 1 {
			t.Fatalf("%q: %d without the error shape: %s", body, rec.Code, rec.Body)
		}
	})
}
