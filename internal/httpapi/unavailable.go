package httpapi

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
)

// storeCheckTimeout bounds the readiness check made for a failed request,
// so that a database that hangs rather than refuses still gets a prompt
// answer.
const storeCheckTimeout = time.Second

// writeError answers a failed request. An unexpected failure that comes
// from losing the database, or that happens while the store does not
// answer, is an outage, not a bug: it becomes 503 unavailable, which tells
// clients to retry, instead of 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if httpx.Public(err).Code == chat.CodeInternal && s.storeDown(r.Context(), err) {
		err = &chat.Error{Code: chat.CodeUnavailable, Message: "the store is unreachable; try again in a moment", Cause: err}
	}
	httpx.WriteError(w, r, s.log, err)
}

func (s *server) storeDown(ctx context.Context, err error) bool {
	if connectionLost(err) {
		return true
	}
	if s.ready == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeCheckTimeout)
	defer cancel()
	return s.ready(ctx) != nil
}

// connectionLost recognises a failure to reach the database: network
// errors, a connection cut mid-answer, and the SQLSTATEs of a server that
// is unreachable, shutting down or still recovering (class 08, and 57P01 to
// 57P03). The readiness check cannot tell these apart when the database is
// back by the time it runs.
func connectionLost(err error) bool {
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
