package chat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Code classifies an Error. Each code maps to exactly one HTTP status in the
// HTTP layer, so a new code needs a mapping there as well.
type Code string

const (
	CodeInvalid         Code = "invalid"          // the request is malformed or fails validation
	CodeUnauthenticated Code = "unauthenticated"  // no or wrong credentials
	CodeForbidden       Code = "forbidden"        // authenticated, but the role does not allow it
	CodeNotFound        Code = "not_found"        // unknown id, or an id of another app
	CodeConflict        Code = "conflict"         // a uniqueness rule or the current state forbids it
	CodeTooLarge        Code = "too_large"        // a body or upload over its limit
	CodeUnsupported     Code = "unsupported_type" // a media type that is refused
	CodeRateLimited     Code = "rate_limited"
	CodeUnavailable     Code = "unavailable" // a dependency is down; retrying may help
	CodeInternal        Code = "internal"

	// Codes for a Lex bot's settings that are well formed but that Lex
	// (or the network on the way to it) refuses, one per remedy, so a form
	// can point at the field to fix.
	CodeLexCredentialsInvalid  Code = "lex_credentials_invalid"  // unknown key id or wrong secret
	CodeLexPermissionDenied    Code = "lex_permission_denied"    // keys work but lack an IAM policy
	CodeLexBotNotFound         Code = "lex_bot_not_found"        // no such bot id or name in the account and region
	CodeLexAliasNotFound       Code = "lex_alias_not_found"      // the bot has no such alias
	CodeLexLocaleNotEnabled    Code = "lex_locale_not_enabled"   // defaultLocale is not enabled on the alias
	CodeLexRegionInvalid       Code = "lex_region_invalid"       // not a region Lex serves, or keys scoped elsewhere
	CodeLexEndpointUnreachable Code = "lex_endpoint_unreachable" // no answer from the endpoint in time
)

// LexSetupCodes lists the CodeLex* codes.
var LexSetupCodes = []Code{CodeLexCredentialsInvalid, CodeLexPermissionDenied, CodeLexBotNotFound, CodeLexAliasNotFound,
	CodeLexLocaleNotEnabled, CodeLexRegionInvalid, CodeLexEndpointUnreachable}

// IsLexSetupCode reports whether c is one of LexSetupCodes.
func IsLexSetupCode(c Code) bool { return slices.Contains(LexSetupCodes, c) }

// Error is the one error type that crosses package boundaries. Message is safe
// to show to a client; Cause is for logs only and is never serialised.
type Error struct {
	Code    Code
	Message string
	Details map[string]any
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error with a formatted client-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns e with one more detail, for example the offending field.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// FieldError is the usual validation failure: it names the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return Errorf(CodeInvalid, format, args...).WithDetail("field", field)
}

// NotFound reports an unknown id. Ids of other apps answer the same, so that
// nobody can probe for their existence.
func NotFound(kind string) *Error {
	return Errorf(CodeNotFound, "%s not found", kind)
}

// ErrorCode returns the Code of err, or CodeInternal for errors that are not
// an *Error (which are, by definition, unexpected).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// JSONFieldPath is a JSON decoder error's field path without array
// indices. Go releases differ on whether they include them
// ("items.0.title" or "items.title"); a path that reads the same on every
// release keeps an error's field stable for the clients that match on it.
func JSONFieldPath(f string) string {
	parts := strings.Split(f, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, ".")
}
