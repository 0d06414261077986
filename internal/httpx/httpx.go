// Package httpx is the small shared toolkit of Switchboard's HTTP layers:
// strict JSON decoding with a size limit, JSON responses, and the one place
// where a *chat.Error becomes an HTTP status and body.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"

	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// MaxBodyBytes bounds every JSON request body.
const MaxBodyBytes = 1 << 20

// Status maps an error code to its HTTP status. It is the only such mapping.
func Status(code chat.Code) int {
	switch code {
	case chat.CodeInvalid:
		return http.StatusBadRequest
	case chat.CodeUnauthenticated:
		return http.StatusUnauthorized
	case chat.CodeForbidden:
		return http.StatusForbidden
	case chat.CodeNotFound:
		return http.StatusNotFound
	case chat.CodeConflict:
		return http.StatusConflict
	case chat.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case chat.CodeUnsupported:
		return http.StatusUnsupportedMediaType
	case chat.CodeRateLimited:
		return http.StatusTooManyRequests
	case chat.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		if chat.IsLexSetupCode(code) {
			// The request was well formed; what it names is refused by Lex.
			return http.StatusUnprocessableEntity
		}
		return http.StatusInternalServerError
	}
}

// Public returns the client-safe form of err. Anything that is not a
// *chat.Error is unexpected: clients get a generic message, logs get the
// rest. A lost database connection is the exception: that is an outage,
// not a bug, and clients are told to retry.
func Public(err error) *chat.Error {
	var e *chat.Error
	if errors.As(err, &e) && e.Code != chat.CodeInternal {
		return e
	}
	if ConnectionLost(err) {
		return StoreUnavailable
	}
	return &chat.Error{Code: chat.CodeInternal, Message: "internal error"}
}

// ErrorBody is the JSON shape of every /api/v1 error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    chat.Code      `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// WriteError answers with err as {"error":{code,message,details}}, logging
// unexpected errors with their cause.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	pub := Public(err)
	status := Status(pub.Code)
	if status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	details := pub.Details
	if details == nil {
		details = map[string]any{}
	}
	// A refusal that knows when to try again says so the standard way too.
	if secs, ok := details["retryAfterSeconds"].(int64); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: pub.Code, Message: pub.Message, Details: details}})
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error","details":{}}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// DecodeJSON reads r's body into v strictly: a JSON content type, at most
// MaxBodyBytes, no unknown fields, exactly one JSON value. Failures are
// *chat.Error values that say what is wrong and where.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeBody(w, r, v, true)
}

// DecodeJSONLenient is DecodeJSON for compatibility APIs whose clients send
// fields Switchboard does not know (Kommunicate's /rest/ws): unknown fields
// are ignored; every other rule (size, content type, value types, exactly
// one value) still holds.
func DecodeJSONLenient(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeBody(w, r, v, false)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any, strict bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return chat.Errorf(chat.CodeUnsupported, "the body must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	data, err := io.ReadAll(body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return chat.Errorf(chat.CodeTooLarge, "the body must be at most %d bytes", MaxBodyBytes)
		}
		return chat.Errorf(chat.CodeInvalid, "the body could not be read")
	}
	return unmarshal(data, v, strict)
}

// Unmarshal is DecodeJSON's strict decoding of an in-memory body; it is
// separate so that fuzzing can reach it without HTTP.
func Unmarshal(data []byte, v any) error { return unmarshal(data, v, true) }

// UnmarshalLenient is DecodeJSONLenient's decoding of an in-memory body.
func UnmarshalLenient(data []byte, v any) error { return unmarshal(data, v, false) }

func unmarshal(data []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return chat.Errorf(chat.CodeInvalid, "the body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return chat.Errorf(chat.CodeInvalid, "the body must hold exactly one JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return chat.Errorf(chat.CodeInvalid, "the body must hold exactly one JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		ce   *chat.Error
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		what = err.Error()
	)
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &syn):
		return chat.Errorf(chat.CodeInvalid, "malformed JSON at byte %d", syn.Offset).WithDetail("offset", syn.Offset)
	case errors.As(err, &typ):
		field := chat.JSONFieldPath(typ.Field)
		if field == "" {
			field = "body"
		}
		return chat.FieldError(field, "%s must be of JSON type %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chat.Errorf(chat.CodeInvalid, "malformed JSON: the body ends too early")
	case strings.HasPrefix(what, "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(what, "json: unknown field "), `"`)
		return chat.FieldError(field, "unknown field %q", field)
	}
	return chat.Errorf(chat.CodeInvalid, "malformed JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	default:
		return "number"
	}
}
