package webhookbot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestParseSettings(t *testing.T) {
	cases := []struct {
		raw   string
		field string // "" means valid
	}{
		{`{"url":"https://bot.example.com/hook"}`, ""},
		{`{"url":"http://bot.example.com:8080/k?tenant=1","headerName":"X-Api-Key","headerValue":"abc def","timeoutSeconds":30}`, ""},
		{`{"url":"https://bot.example.com","headerName":"Authorization","headerValue":"Bearer x","timeoutSeconds":1}`, ""},
		{``, "webhook.url"},
		{`null`, "webhook.url"},
		{`{}`, "webhook.url"},
		{`[]`, "webhook"},
		{`{"url":"https://a.example"}{}`, "webhook"},
		{`{"url":"https://a.example","headerNmae":"X"}`, "webhook"},
		{`{"url":"https://a.example","timeoutSeconds":"10"}`, "webhook.timeoutSeconds"},
		{`{"url":"/relative"}`, "webhook.url"},
		{`{"url":"ftp://a.example/x"}`, "webhook.url"},
		{`{"url":"https://"}`, "webhook.url"},
		{`{"url":"https://user:pw@a.example/x"}`, "webhook.url"},
		{`{"url":"https://a.example/x#frag"}`, "webhook.url"},
		{`{"url":"https://a.example/a b"}`, "webhook.url"},
		{`{"url":"https:a.example"}`, "webhook.url"},
		{`{"url":"https://a.example/` + strings.Repeat("a", 2100) + `"}`, "webhook.url"},
		{`{"url":"https://a.example","headerValue":"v"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"X-Key"}`, "webhook.headerValue"},
		{`{"url":"https://a.example","headerName":"X Key","headerValue":"v"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"X-Key:","headerValue":"v"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"host","headerValue":"v"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"Content-Length","headerValue":"1"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"content-type","headerValue":"text/plain"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"Transfer-Encoding","headerValue":"chunked"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"Connection","headerValue":"close"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"Proxy-Authorization","headerValue":"x"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"User-Agent","headerValue":"x"}`, "webhook.headerName"},
		{`{"url":"https://a.example","headerName":"X-Key","headerValue":"a\r\nX-Evil: 1"}`, "webhook.headerValue"},
		{`{"url":"https://a.example","headerName":"X-Key","headerValue":"a\nb"}`, "webhook.headerValue"},
		{`{"url":"https://a.example","headerName":"X-Key","headerValue":"a\u0000b"}`, "webhook.headerValue"},
		{`{"url":"https://a.example","headerName":"X-Key","headerValue":" padded"}`, "webhook.headerValue"},
		{`{"url":"https://a.example","timeoutSeconds":31}`, "webhook.timeoutSeconds"},
		{`{"url":"https://a.example","timeoutSeconds":-1}`, "webhook.timeoutSeconds"},
	}
	for _, tc := range cases {
		s, err := ParseSettings(json.RawMessage(tc.raw))
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.raw, err)
			} else if s.TimeoutSeconds < MinTimeoutSeconds {
				t.Errorf("%s: timeout %d not defaulted", tc.raw, s.TimeoutSeconds)
			}
			continue
		}
		ce, ok := err.(*chat.Error)
		if !ok || ce.Code != chat.CodeInvalid || ce.Details["field"] != tc.field {
			t.Errorf("%s: err = %v, want a field error on %s", tc.raw, err, tc.field)
			continue
		}
		// A value that is refused is never echoed back.
		for _, v := range []string{"X-Evil", "padded", "pw@"} {
			if strings.Contains(ce.Message, v) {
				t.Errorf("%s: message %q echoes the value", tc.raw, ce.Message)
			}
		}
	}
}

func TestSettingsDefaultsAndRedaction(t *testing.T) {
	s, err := ParseSettings(json.RawMessage(`{"url":"https://a.example","headerName":"X-Key","headerValue":"` + secret + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.TimeoutSeconds != DefaultTimeoutSeconds || s.Timeout().Seconds() != DefaultTimeoutSeconds {
		t.Errorf("timeout = %d", s.TimeoutSeconds)
	}
	r := s.Redacted()
	out, _ := json.Marshal(r)
	if strings.Contains(string(out), secret) || r.HeaderValue != RedactedValue || s.HeaderValue != secret {
		t.Errorf("redacted = %s (original %q)", out, s.HeaderValue)
	}
	if (Settings{URL: "https://a.example"}).Redacted().HeaderValue != "" {
		t.Error("an unset value must stay unset, not look set")
	}

	// Saving the form unchanged keeps the stored secret...
	if got := r.KeepSecret(s); got.HeaderValue != secret {
		t.Errorf("KeepSecret = %q", got.HeaderValue)
	}
	// ...but not under another header name, and a new value replaces it.
	moved := r
	moved.HeaderName = "X-Other"
	if got := moved.KeepSecret(s); got.HeaderValue != RedactedValue {
		t.Errorf("secret moved to another header: %q", got.HeaderValue)
	}
	fresh := s
	fresh.HeaderValue = "new"
	if got := fresh.KeepSecret(s); got.HeaderValue != "new" {
		t.Errorf("new value lost: %q", got.HeaderValue)
	}
}
