package httpx

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// StoreUnavailable is the public error for a request that failed because
// something the node depends on could not be reached. Mostly that is the
// database, but a network error reaching this mapper unwrapped could come
// from another service (an upload store, say), so the message does not
// name one: the log keeps the cause.
var StoreUnavailable = &chat.Error{Code: chat.CodeUnavailable, Message: "temporarily unavailable; try again in a moment"}

// ConnectionLost recognises a failure to reach the database or another
// service: network errors, a connection cut mid-answer, and the SQLSTATEs of
// a server that is unreachable, shutting down or still recovering (class 08,
// and 57P01 to 57P03).
func ConnectionLost(err error) bool {
	var ne net.Error
	var st interface{ SQLState() string }
	switch {
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, driver.ErrBadConn):
		return true
	case errors.As(err, &st):
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	return false
}

// pingTimeout bounds the store check made for a failed request, so that a
// database that hangs rather than refuses still gets a prompt answer.
const pingTimeout = time.Second

// DuringOutage returns err marked as StoreUnavailable when it is an
// unexpected failure and ping finds the store unreachable right now. Some
// failures of an outage do not show it (a pooled connection found
// closed); a request that fails while the store is down is taken for the
// outage rather than a bug, and the client is told to retry. A nil ping
// changes nothing.
func DuringOutage(ctx context.Context, err error, ping func(context.Context) error) error {
	if ping == nil || Public(err).Code != chat.CodeInternal {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingTimeout)
	defer cancel()
	if ping(ctx) == nil {
		return err
	}
	return &chat.Error{Code: StoreUnavailable.Code, Message: StoreUnavailable.Message, Cause: err}
}
