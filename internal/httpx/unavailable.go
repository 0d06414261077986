package httpx

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// StoreUnavailable is the public error for a request that failed because
// the database could not be reached.
var StoreUnavailable = &chat.Error{Code: chat.CodeUnavailable, Message: "the store is unreachable; try again in a moment"}

// ConnectionLost recognises a failure to reach the database: network
// errors, a connection cut mid-answer, and the SQLSTATEs of a server that
// is unreachable, shutting down or still recovering (class 08, and 57P01 to
// 57P03).
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
