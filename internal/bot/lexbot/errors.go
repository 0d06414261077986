package lexbot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-chat/switchboard/internal/bot"
)

// Error types as Lex names them (X-Amzn-ErrorType, "__type"), and the
// labels the errors metric uses for failures that have no AWS type. The
// metric takes its label from this closed set only, so that an endpoint
// inventing types cannot grow it.
const (
	errThrottling        = "ThrottlingException"
	errAccessDenied      = "AccessDeniedException"
	errUnrecognized      = "UnrecognizedClientException"
	errInvalidSignature  = "InvalidSignatureException"
	errSignatureMismatch = "SignatureDoesNotMatch"
	errExpiredToken      = "ExpiredTokenException"
	errNotFound          = "ResourceNotFoundException"
	errValidation        = "ValidationException"
	errBadRequest        = "BadRequestException"
	errConflict          = "ConflictException"
	errDependency        = "DependencyFailedException"
	errInternal          = "InternalServerException"
	errBadGateway        = "BadGatewayException"

	errTimeout    = "timeout"
	errConnection = "connection"
	errResponse   = "unreadable_response"
	errOther      = "other"
)

// maxAWSMessage bounds the part of Lex's own error message quoted to
// admins.
const maxAWSMessage = 300

// classify turns a RecognizeText failure, from endpoint (empty for AWS's
// own), into a *bot.Error and the error
// label for metrics. Messages name the bot and what to do, never the
// secret; Lex's own message is quoted when it says more (which alias,
// which locale).
func classify(parent context.Context, err error, s Settings, endpoint string) (*bot.Error, string) {
	var status int
	var header http.Header
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
		header = re.Response.Header
	}
	var api smithy.APIError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	quote := func(msg string) string {
		if api == nil {
			return msg
		}
		m := strings.TrimSpace(api.ErrorMessage())
		if m == "" {
			return msg
		}
		if s.SecretAccessKey != "" {
			m = strings.ReplaceAll(m, s.SecretAccessKey, RedactedValue)
		}
		return msg + " (Lex said: " + truncateRunes(oneLine(m), maxAWSMessage) + ")"
	}
	where := fmt.Sprintf("Lex bot %s, alias %s in %s", s.BotID, s.BotAliasID, s.Region)
	fail := func(k bot.Kind, label, msg string) (*bot.Error, string) {
		return &bot.Error{Kind: k, Message: msg, Cause: err}, label
	}

	switch code {
	case errThrottling:
		e, l := fail(bot.Retryable, errThrottling, "Lex is throttling requests to "+where)
		e.RetryAfter = retryAfter(header)
		return e, l
	case errAccessDenied:
		return fail(bot.Unauthorized, code, quote(fmt.Sprintf(
			"the access key may not run %s (AccessDeniedException): give its IAM user the AmazonLexRunBotsOnly policy", where)))
	case errUnrecognized, errInvalidSignature, errSignatureMismatch, errExpiredToken:
		return fail(bot.Unauthorized, knownLabel(code), quote(fmt.Sprintf(
			"Lex did not accept the access key id and secret access key for %s (%s): check both keys; their IAM user needs the AmazonLexRunBotsOnly policy", where, code)))
	case errNotFound:
		return fail(bot.Misconfigured, code, quote(fmt.Sprintf(
			"%s was not found: check the bot id, alias id, region and that the locale is enabled on the alias", where)))
	case errValidation, errBadRequest:
		return fail(bot.Misconfigured, code, quote("Lex refused the request to "+where+" as invalid"))
	case errConflict:
		return fail(bot.Misconfigured, code, quote("Lex reported a conflict for "+where+" (is the alias being built or changed?)"))
	case errDependency:
		// The bot's Lambda failed or cannot be invoked: the bot's code or
		// its permissions need fixing, and a retry would fail the same way.
		return fail(bot.Misconfigured, code, quote("the code hook (Lambda function) of "+where+" failed"))
	}
	switch {
	case status == http.StatusTooManyRequests:
		e, l := fail(bot.Retryable, errThrottling, "Lex is throttling requests to "+where)
		e.RetryAfter = retryAfter(header)
		return e, l
	case status >= 500:
		e, l := fail(bot.Retryable, knownLabel(code), quote(fmt.Sprintf("Lex answered HTTP %d for %s", status, where)))
		e.RetryAfter = retryAfter(header)
		return e, l
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fail(bot.Unauthorized, knownLabel(code), quote(fmt.Sprintf(
			"Lex refused the credentials for %s (HTTP %d): check the access key id and secret, and that the IAM user has the AmazonLexRunBotsOnly policy", where, status)))
	case status >= 400:
		return fail(bot.Misconfigured, knownLabel(code), quote(fmt.Sprintf("Lex answered HTTP %d for %s", status, where)))
	}

	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err) {
		if parent.Err() != nil {
			return fail(bot.Retryable, errTimeout, "the turn's deadline passed before "+where+" answered")
		}
		return fail(bot.Retryable, errTimeout, where+" did not answer in time")
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) && status >= 200 && status < 300 {
		// A 2xx that is not Lex's JSON: the endpoint is something else.
		return fail(bot.Misconfigured, errResponse, "the answer from "+endpointName(s, endpoint)+" for "+where+" is not a Lex response: check the endpoint")
	}
	var se *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &se) || errors.As(err, &ne) {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return fail(bot.Misconfigured, errConnection, "the Lex endpoint host "+endpointName(s, endpoint)+" does not exist: check the region and endpoint")
		}
		return fail(bot.Retryable, errConnection, "could not reach "+endpointName(s, endpoint)+" for "+where)
	}
	if api != nil {
		return fail(bot.Misconfigured, errOther, quote(where+" failed with "+truncateRunes(oneLine(code), 60)))
	}
	return fail(bot.Retryable, errOther, "the call to "+where+" failed")
}

// knownLabel keeps the metric's error label within the known set.
func knownLabel(code string) string {
	switch code {
	case errThrottling, errAccessDenied, errUnrecognized, errInvalidSignature, errSignatureMismatch,
		errExpiredToken, errNotFound, errValidation, errBadRequest, errConflict, errDependency,
		errInternal, errBadGateway:
		return code
	}
	return errOther
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter reads Retry-After in seconds, bounded so that an endpoint
// cannot park a turn past any sensible deadline.
func retryAfter(h http.Header) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, time.Minute)
}

// endpointName says which endpoint a turn went to, for messages; endpoint
// is empty for AWS's own.
func endpointName(s Settings, endpoint string) string {
	if endpoint != "" {
		return endpoint
	}
	return "Lex in " + s.Region
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
