package lexlocal

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// AWS error types this runtime can answer with. The names are the ones the
// lexruntimev2 and lexmodelsv2 deserializers switch on, so each arrives in the
// SDK as its typed error (InternalServerException, not InternalFailure: the
// latter is not in either model and would surface as a GenericAPIError).
const (
	ErrValidation         = "ValidationException"
	ErrResourceNotFound   = "ResourceNotFoundException"
	ErrAccessDenied       = "AccessDeniedException"
	ErrThrottling         = "ThrottlingException"
	ErrInternalServer     = "InternalServerException"
	ErrConflict           = "ConflictException"
	ErrDependencyFailed   = "DependencyFailedException"
	ErrBadGateway         = "BadGatewayException"
	errUnknownOperation   = "UnknownOperationException"
	errMissingAuthToken   = "MissingAuthenticationTokenException"
	errIncompleteSig      = "IncompleteSignatureException"
	errInvalidSignature   = "InvalidSignatureException"
	errUnrecognizedClient = "UnrecognizedClientException"
)

var errorStatus = map[string]int{
	ErrValidation:         http.StatusBadRequest,
	ErrResourceNotFound:   http.StatusNotFound,
	ErrAccessDenied:       http.StatusForbidden,
	ErrThrottling:         http.StatusTooManyRequests,
	ErrInternalServer:     http.StatusInternalServerError,
	ErrConflict:           http.StatusConflict,
	ErrDependencyFailed:   http.StatusFailedDependency,
	ErrBadGateway:         http.StatusBadGateway,
	errUnknownOperation:   http.StatusNotFound,
	errMissingAuthToken:   http.StatusForbidden,
	errIncompleteSig:      http.StatusBadRequest,
	errInvalidSignature:   http.StatusForbidden,
	errUnrecognizedClient: http.StatusForbidden,
}

// Error is an AWS-shaped failure. A Brain returns one to make the client see
// a specific typed error; any other error becomes InternalServerException
// with a generic message, so internals never reach the wire.
type Error struct {
	Type    string // one of the Err* constants
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func (e *Error) status() int {
	if s, ok := errorStatus[e.Type]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// validationError uses the phrasing AWS's Coral validation layer uses, so a
// log line from the local runtime reads like one from AWS.
func validationError(member, value, constraint string) *Error {
	return errorf(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// Coral namespaces that real AWS appends to X-Amzn-ErrorType. The SDK keeps
// only what precedes the first ':', so the suffix is cosmetic but faithful;
// authentication failures come from the shared front end, hence their own
// namespace.
const (
	nsRuntime = "http://internal.amazon.com/coral/com.amazonaws.deepsense.runtimeservice/"
	nsModels  = "http://internal.amazon.com/coral/com.amazonaws.lexmodelbuildingservicev2/"
	nsAuth    = "http://internal.amazon.com/coral/com.amazon.coral.service/"
)

// writeError is the only place an error becomes HTTP: the header carries the
// type (which the SDK reads first), the body repeats it as __type next to
// message for clients that only read the body.
func writeError(w http.ResponseWriter, e *Error, namespace string) {
	h := w.Header()
	h.Set("X-Amzn-ErrorType", e.Type+":"+namespace)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	_, _ = w.Write(body)
}
