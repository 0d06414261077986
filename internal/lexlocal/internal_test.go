package lexlocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMatchDecodesEachSegment(t *testing.T) {
	cases := []struct {
		method, path string
		want         route
		ok           bool
	}{
		{"POST", "/bots/B/botAliases/A/botLocales/en_US/sessions/a%3Ab/text", route{op: "RecognizeText", bot: "B", alias: "A", locale: "en_US", session: "a:b"}, true},
		// An encoded slash stays inside its segment instead of adding one.
		{"GET", "/bots/B/botAliases/A/botLocales/en_US/sessions/a%2Fb", route{op: "GetSession", bot: "B", alias: "A", locale: "en_US", session: "a/b"}, true},
		{"POST", "/bots/B/botAliases/A/botLocales/en_US/sessions/s", route{op: "PutSession", bot: "B", alias: "A", locale: "en_US", session: "s"}, true},
		{"DELETE", "/bots/B/botAliases/A/botLocales/en_US/sessions/s", route{op: "DeleteSession", bot: "B", alias: "A", locale: "en_US", session: "s"}, true},
		{"GET", "/bots/B", route{op: "DescribeBot", bot: "B"}, true},
		{"GET", "/bots/B/", route{op: "DescribeBot", bot: "B"}, true},
		{"GET", "/bots/B/botaliases/A/", route{op: "DescribeBotAlias", bot: "B", alias: "A"}, true},
		{"POST", "/bots/B/botaliases/", route{op: "ListBotAliases", bot: "B"}, true},
		{"PUT", "/bots/B/botaliases/A", route{}, false},
		{"GET", "/bots/B/botAliases/A/botLocales/en_US/sessions/s/text", route{}, false},
		{"GET", "/bots/B/botAliases/A/botLocales/en_US/sessions/%zz", route{}, false},
		{"GET", "/other", route{}, false},
	}
	for _, tc := range cases {
		got, ok := match(tc.method, tc.path)
		got.namespace = ""
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s %s = %+v %v, want %+v %v", tc.method, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCanonicalEncoding(t *testing.T) {
	// SigV4 double-encodes paths for every service but S3.
	if got := canonicalURI("/bots/B/sessions/a%3Ab"); got != "/bots/B/sessions/a%253Ab" {
		t.Errorf("canonicalURI = %s", got)
	}
	if got := canonicalQuery("b=2&a=x%20y&a=1"); got != "a=1&a=x%20y&b=2" {
		t.Errorf("canonicalQuery = %s", got)
	}
	r, _ := http.NewRequest("GET", "http://h/", nil)
	r.Header.Add("X-Multi", "  a   b ")
	r.Header.Add("X-Multi", "c")
	if got := canonicalHeaderValue(r, "x-multi"); got != "a b,c" {
		t.Errorf("header value = %q", got)
	}
	if r.Header.Values("X-Multi")[0] != "  a   b " {
		t.Error("canonicalisation must not modify the request's headers")
	}
}

func TestSessionStoreExpiryAndCap(t *testing.T) {
	st := newSessionStore(3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(i int) sessionKey { return sessionKey{"B", "A", "en_US", fmt.Sprint(i)} }
	for i := range 5 {
		st.put(session{key: key(i), expires: t0.Add(time.Minute)}, t0)
	}
	if st.lru.Len() != 3 {
		t.Fatalf("cap not enforced: %d sessions", st.lru.Len())
	}
	if _, ok := st.get(key(0), t0); ok {
		t.Error("least recently used session should have been evicted")
	}
	if _, ok := st.get(key(4), t0); !ok {
		t.Error("newest session missing")
	}
	if _, ok := st.get(key(4), t0.Add(time.Minute)); ok {
		t.Error("session should expire at its TTL")
	}
	// Writing later prunes expired sessions at the cold end.
	st.put(session{key: key(9), expires: t0.Add(3 * time.Minute)}, t0.Add(2*time.Minute))
	if st.lru.Len() != 1 || len(st.idx) != 1 {
		t.Errorf("expired sessions not pruned: %d left", st.lru.Len())
	}
	if st.delete(key(9), t0.Add(4*time.Minute)) {
		t.Error("deleting an expired session should report not found")
	}
}

func TestIntentWireShape(t *testing.T) {
	b, _ := json.Marshal(Interpretation{Intent: &Intent{Name: "FallbackIntent"}})
	if string(b) != `{"intent":{"name":"FallbackIntent","slots":{}}}` {
		t.Errorf("fallback interpretation = %s", b)
	}
	b, _ = json.Marshal(Intent{Name: "Order", Slots: map[string]*Slot{"OrderNumber": nil}, State: "InProgress"})
	if !strings.Contains(string(b), `"slots":{"OrderNumber":null}`) {
		t.Errorf("unfilled slot = %s", b)
	}
}

func FuzzDecodeRecognizeText(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hello"}`,
		`{"text":"","sessionState":{}}`,
		`{"text":"hi","sessionState":{"intent":{"name":"X","slots":{"A":null,"B":{"value":{"originalValue":"1","interpretedValue":"1","resolvedValues":["1"]}}}},"sessionAttributes":{"k":"v"},"dialogAction":{"type":"ElicitSlot","slotToElicit":"A"}},"requestAttributes":{"x":"y"}}`,
		`{"text":null}`, `[]`, `{"text":5}`, `{"text":"\udc00"}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRecognizeText(body)
		if err != nil {
			if err.Type != ErrValidation || err.status() != http.StatusBadRequest {
				t.Fatalf("decoder failure must be a 400 ValidationException, got %+v", err)
			}
			return
		}
		n := utf8.RuneCountInString(*req.Text)
		if n < 1 || n > maxTextRunes || !utf8.ValidString(*req.Text) {
			t.Fatalf("accepted text of %d characters", n)
		}
		// Whatever was accepted must survive re-encoding for the response.
		if req.SessionState != nil {
			if _, err := json.Marshal(req.SessionState); err != nil {
				t.Fatalf("accepted state cannot be re-encoded: %v", err)
			}
		}
	})
}
