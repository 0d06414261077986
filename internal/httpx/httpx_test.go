package httpx

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

type body struct {
	Name  string        `json:"name"`
	Count int           `json:"count"`
	Meta  chat.Metadata `json:"meta"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body, ctype string
		code              chat.Code
		field             string
	}{
		{"ok", `{"name":"a","count":2,"meta":{"k":{"n":1}}}`, "application/json", "", ""},
		{"ok with charset", `{"name":"a"}`, "application/json; charset=utf-8", "", ""},
		{"empty", ``, "application/json", chat.CodeInvalid, ""},
		{"malformed", `{"name":`, "application/json", chat.CodeInvalid, ""},
		{"syntax", `{"name" "a"}`, "application/json", chat.CodeInvalid, ""},
		{"wrong type", `{"count":"two"}`, "application/json", chat.CodeInvalid, "count"},
		{"unknown field", `{"nmae":"a"}`, "application/json", chat.CodeInvalid, "nmae"},
		{"two values", `{"name":"a"}{"name":"b"}`, "application/json", chat.CodeInvalid, ""},
		{"trailing garbage", `{"name":"a"} x`, "application/json", chat.CodeInvalid, ""},
		{"not an object", `[1,2]`, "application/json", chat.CodeInvalid, "body"},
		{"bad metadata", `{"meta":[1]}`, "application/json", chat.CodeInvalid, "metadata"},
		{"form body", `name=a`, "application/x-www-form-urlencoded", chat.CodeUnsupported, ""},
		{"too large", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "application/json", chat.CodeTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ctype)
			var v body
			err := DecodeJSON(httptest.NewRecorder(), r, &v)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *chat.Error
			if !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			if c.field != "" && e.Details["field"] != c.field {
				t.Fatalf("field = %v, want %s", e.Details["field"], c.field)
			}
		})
	}
}

func TestWriteErrorHidesInternals(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	WriteError(w, r, nil, errors.New("pq: password authentication failed for user secret"))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("internal error leaked: %s", w.Body)
	}
	var b ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil || b.Error.Code != chat.CodeInternal || b.Error.Details == nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}

	w = httptest.NewRecorder()
	WriteError(w, r, nil, chat.FieldError("email", "email is required"))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"field":"email"`) {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func TestEveryCodeHasAStatus(t *testing.T) {
	codes := []chat.Code{chat.CodeInvalid, chat.CodeUnauthenticated, chat.CodeForbidden, chat.CodeNotFound,
		chat.CodeConflict, chat.CodeTooLarge, chat.CodeUnsupported, chat.CodeRateLimited, chat.CodeUnavailable}
	seen := map[int]bool{}
	for _, c := range codes {
		s := Status(c)
		if s == http.StatusInternalServerError || seen[s] {
			t.Errorf("code %s maps to %d", c, s)
		}
		seen[s] = true
	}
}

// Lex settings that Lex refuses are well-formed requests: 422, each code
// its own so a form can tell which field to fix.
func TestLexSetupCodesAreUnprocessable(t *testing.T) {
	seen := map[chat.Code]bool{}
	for _, c := range chat.LexSetupCodes {
		if Status(c) != http.StatusUnprocessableEntity || seen[c] {
			t.Errorf("code %s maps to %d", c, Status(c))
		}
		seen[c] = true
	}
	if len(seen) < 6 || Status(chat.CodeInvalid) == http.StatusUnprocessableEntity {
		t.Fatalf("lex codes %v", chat.LexSetupCodes)
	}
}

// FuzzUnmarshal feeds arbitrary bodies to the strict decoder: it must never
// panic, and must either decode or return a client error.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1,"meta":{"templateId":"3","payload":[{"a":1}]}}`, `{`, `[]`, `{"count":1e400}`, `{"meta":{"k":null}}`, "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v body
		err := Unmarshal(data, &v)
		if err == nil {
			if err := v.Meta.Validate("meta"); err != nil && chat.ErrorCode(err) != chat.CodeInvalid {
				t.Fatalf("validate: %v", err)
			}
			return
		}
		if c := chat.ErrorCode(err); c != chat.CodeInvalid {
			t.Fatalf("code %s for %q: %v", c, data, err)
		}
	})
}
