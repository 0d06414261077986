package httpapi

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/httpx"
)

// writeError answers a failed request; a failure during a store outage is
// 503 unavailable, not 500 (httpx.DuringOutage).
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, s.log, httpx.DuringOutage(r.Context(), err, s.ready))
}
