package kmcompat

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// handler serves the routes. It keeps nothing between requests.
type handler struct {
	svc       *service.Service
	log       *slog.Logger
	publicURL string
	now       func() time.Time
}

// endpoint is one route's work: it returns the payload of the success
// envelope, or an error that becomes the error envelope.
type endpoint func(w http.ResponseWriter, r *http.Request, actor service.Actor) (any, error)

// New returns the handler of the Kommunicate-compatible API. publicURL makes
// file URLs absolute.
func New(svc *service.Service, log *slog.Logger, publicURL string) http.Handler {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &handler{svc: svc, log: log, publicURL: strings.TrimRight(publicURL, "/"), now: time.Now}
	mux := http.NewServeMux()
	route := func(method, path string, e endpoint) {
		mux.Handle(method+" "+path, h.authenticated(e))
		// The same path without a method catches every other method, so a
		// wrong method gets the error envelope rather than the mux's text.
		mux.Handle(path, h.failure(chat.Errorf(chat.CodeInvalid, "%s takes %s requests", path, method).
			WithDetail("allow", method), http.StatusMethodNotAllowed, method))
	}
	route(http.MethodPost, "/rest/ws/group/conversation", h.createConversation)
	route(http.MethodPost, "/rest/ws/message/v2/send", h.sendMessage)
	route(http.MethodGet, "/rest/ws/message/list", h.listMessages)
	route(http.MethodPatch, "/rest/ws/group/status/change", h.changeStatus)
	route(http.MethodPatch, "/rest/ws/group/assignee/change", h.changeAssignee)
	route(http.MethodPost, "/rest/ws/user/v2/detail", h.userDetails)
	route(http.MethodPost, "/rest/ws/user/update", h.updateUser)
	mux.Handle("/", h.failure(chat.Errorf(chat.CodeNotFound, "no such Kommunicate-compatible endpoint"), 0, ""))
	return mux
}

// authenticated turns the API key into an actor before running e, so that
// nothing of the request (not even its body) is read for a stranger.
func (h *handler) authenticated(e endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, presented, err := auth.APIKeyFrom(r)
		if !presented {
			err = chat.Errorf(chat.CodeUnauthenticated, "send the app's API key in the Api-Key header")
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		actor, err := h.svc.AuthenticateAPIKey(r.Context(), key)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		resp, err := e(w, r, actor)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		h.write(w, http.StatusOK, envelope{Status: "success", GeneratedAt: h.now().UnixMilli(), Response: resp})
	})
}

// failure answers every request with err; status overrides the code's usual
// status (for 405), and allow fills the Allow header.
func (h *handler) failure(err *chat.Error, status int, allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow != "" {
			w.Header().Set("Allow", allow)
		}
		if status == 0 {
			status = httpx.Status(err.Code)
		}
		h.write(w, status, h.errorEnvelope(err))
	})
}

// envelope is Kommunicate's wrapper around every answer.
type envelope struct {
	Status        string      `json:"status"`
	GeneratedAt   int64       `json:"generatedAt"`
	Response      any         `json:"response,omitempty"`
	ErrorResponse []errorItem `json:"errorResponse,omitempty"`
}

type errorItem struct {
	ErrorCode      chat.Code      `json:"errorCode"`
	Description    string         `json:"description"`
	DisplayMessage string         `json:"displayMessage"`
	Details        map[string]any `json:"details"`
}

func (h *handler) errorEnvelope(pub *chat.Error) envelope {
	details := pub.Details
	if details == nil {
		details = map[string]any{}
	}
	return envelope{
		Status:        "error",
		GeneratedAt:   h.now().UnixMilli(),
		ErrorResponse: []errorItem{{ErrorCode: pub.Code, Description: pub.Message, DisplayMessage: pub.Message, Details: details}},
	}
}

// writeError maps err with the one shared mapping (httpx.Public and
// httpx.Status) and writes it in Kommunicate's error shape.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	pub := httpx.Public(err)
	status := httpx.Status(pub.Code)
	if status >= 500 {
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.write(w, status, h.errorEnvelope(pub))
}

func (h *handler) write(w http.ResponseWriter, status int, v envelope) {
	httpx.WriteJSON(w, status, v)
}

// decode reads a JSON body leniently (unknown fields ignored; size, content
// type and value types still checked).
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return httpx.DecodeJSONLenient(w, r, v)
}

// flexID is an id that Kommunicate clients may send as a JSON number (their
// ids are numeric) or as a string (Switchboard's are). Either way it is
// handled as text. A value of another JSON type decodes without error and
// is refused by get under the field's name: Go's decoder does not say which
// field a custom unmarshaller's error belongs to in every release, and the
// field is what makes the 400 actionable.
type flexID struct {
	id  string
	bad string // the JSON kind of a value that is no id
}

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = flexID{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID{id: strings.TrimSpace(s)}
	case isInteger(b):
		*f = flexID{id: string(b)}
	default:
		*f = flexID{bad: jsonKindOf(b)}
	}
	return nil
}

// get returns the id, or the error naming field when the value was no id.
func (f flexID) get(field string) (string, error) {
	if f.bad != "" {
		return "", chat.FieldError(field, "%s must be of JSON type string or number, not %s", field, f.bad)
	}
	return f.id, nil
}

func isInteger(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	for i, c := range b {
		if c == '-' && i == 0 && len(b) > 1 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func jsonKindOf(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	}
	return "number " + string(b)
}

// requireGroupID checks the groupId of a request. A bare clientGroupId gets
// its own message, because it is the natural thing for a Kommunicate client
// to try and Switchboard cannot look conversations up by it.
func requireGroupID(groupID, clientGroupID string) (string, error) {
	if groupID != "" {
		return groupID, nil
	}
	if clientGroupID != "" {
		return "", chat.FieldError("groupId", "groupId is required: Switchboard does not look conversations up by clientGroupId; use the groupId returned when the conversation was created")
	}
	return "", chat.FieldError("groupId", "groupId is required")
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
