package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "server error " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestConnectionLost(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("append message: begin: %w", refused), true},
		{fmt.Errorf("find client keys: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf("connect: %w", sqlStateErr("57P03")), true}, // not yet accepting connections
		{sqlStateErr("08006"), true},                            // connection failure
		{sqlStateErr("23505"), false},                           // a unique violation is a bug here, not an outage
		{sqlStateErr("57014"), false},                           // query cancelled
		{errors.New("something else"), false},
	} {
		if got := ConnectionLost(tc.err); got != tc.want {
			t.Errorf("ConnectionLost(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// Clients are told to retry a request that lost the database, and learn
// nothing about anything else that went wrong.
func TestPublicOfAnOutage(t *testing.T) {
	lost := fmt.Errorf("append message: %w", io.ErrUnexpectedEOF)
	if got := Public(lost); got.Code != "unavailable" || Status(got.Code) != 503 {
		t.Errorf("Public(%v) = %+v, status %d", lost, got, Status(got.Code))
	}
	if got := Public(errors.New("a bug")); got.Code != "internal" || got.Message != "internal error" {
		t.Errorf("Public(a bug) = %+v", got)
	}
}

// A failure that does not show the outage is taken for it while the store
// does not answer, and only then.
func TestDuringOutage(t *testing.T) {
	ctx := context.Background()
	closed := errors.New("begin: conn closed")
	down := func(context.Context) error { return errors.New("connection refused") }
	up := func(context.Context) error { return nil }
	if got := Public(DuringOutage(ctx, closed, down)); got.Code != chat.CodeUnavailable {
		t.Errorf("store down: %+v", got)
	}
	if got := Public(DuringOutage(ctx, closed, up)); got.Code != chat.CodeInternal {
		t.Errorf("store up: %+v", got)
	}
	if got := Public(DuringOutage(ctx, closed, nil)); got.Code != chat.CodeInternal {
		t.Errorf("no check: %+v", got)
	}
	notFound := chat.Errorf(chat.CodeNotFound, "no such conversation")
	if got := DuringOutage(ctx, notFound, down); got != notFound {
		t.Errorf("a client error became %v", got)
	}
}
