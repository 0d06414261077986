package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
)

// storeCheckTimeout bounds the readiness check made for a failed request,
// so that a database that hangs rather than refuses still gets a prompt
// answer.
const storeCheckTimeout = time.Second

// writeError answers a failed request. httpx.Public already recognises a
// lost database connection; some failures of an outage do not show it
// (a pooled connection found closed), so an unexpected failure while the
// store does not answer is taken for the outage too: 503 unavailable,
// which tells clients to retry, instead of 500.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if s.ready != nil && httpx.Public(err).Code == chat.CodeInternal {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeCheckTimeout)
		down := s.ready(ctx)
		cancel()
		if down != nil {
			err = &chat.Error{Code: httpx.StoreUnavailable.Code, Message: httpx.StoreUnavailable.Message, Cause: err}
		}
	}
	httpx.WriteError(w, r, s.log, err)
}
