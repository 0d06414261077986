package httpapi

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/service"
)

func init() {
	badInputSpecs["POST /api/v1/widget/conversations/{id}/read"] = routeSpec{
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(*world) any { return map[string]any{"seq": 1} },
		wrongType: `{"seq":"one"}`, field: "seq",
		forbidden: staffCreds,
		extra: func(e *env, w *world) []badCase {
			own := contactToken(e, w.key, w.contact)
			as := func(body any) req {
				return req{params: ownID(w), cred: tokenOnly, header: tokenHeader(own), body: body}
			}
			// Another contact of the same app, reaching for w.contact's
			// conversation with their own valid token.
			stranger := e.widgetSession(map[string]any{"appId": service.DefaultAppID, "visitorId": "visitor-strangerstranger"})
			return append(forgedTokenCases(map[string]any{"seq": 1})(e, w), foreignTokenCase(e, w, map[string]any{"seq": 1}),
				badCase{name: "another contact's conversation", req: req{params: ownID(w), cred: tokenOnly, header: tokenHeader(stranger.ContactToken), body: map[string]any{"seq": 1}}, status: 404, code: "not_found"},
				badCase{name: "seq beyond the conversation", req: as(map[string]any{"seq": 1 << 40}), status: 400, field: "seq"},
				badCase{name: "seq zero", req: as(map[string]any{"seq": 0}), status: 400, field: "seq"},
				badCase{name: "negative seq", req: as(map[string]any{"seq": -5}), status: 400, field: "seq"},
				badCase{name: "fractional seq", req: as(`{"seq":1.5}`), status: 400, field: "seq"},
				badCase{name: "seq beyond int64", req: as(`{"seq":99999999999999999999999}`), status: 400, field: "seq"},
				badCase{name: "no seq", req: as(map[string]any{}), status: 400, field: "seq"},
			)
		},
	}
}

// walkReadState reports a read for the walk of every route.
func (e *env) walkReadState(w *world) {
	e.t.Helper()
	tok := contactToken(e, w.key, w.contact)
	e.must(200, req{route: "POST /api/v1/widget/conversations/{id}/read", params: id(w.conv.ID), cred: tokenOnly, header: tokenHeader(tok), body: map[string]any{"seq": 1}})
}

// The read position only moves forward, and a failed report changes
// nothing.
func TestWidgetMarkReadIsMonotonic(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	tok := contactToken(e, w.key, w.contact)
	for i := range 3 {
		e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: id(w.conv.ID), cred: cookie(w.agent), body: map[string]any{"text": "reply", "clientKey": "r" + string(rune('a'+i))}})
	}
	var conv conversationJSON
	e.must(200, req{route: "GET /api/v1/conversations/{id}", params: id(w.conv.ID), cred: key(w.key)}).json(t, &conv)
	read := func(seq int64, status int) int64 {
		t.Helper()
		var out struct {
			ReadSeq int64 `json:"readSeq"`
		}
		r := e.must(status, req{route: "POST /api/v1/widget/conversations/{id}/read", params: id(w.conv.ID), cred: tokenOnly, header: tokenHeader(tok), body: map[string]any{"seq": seq}})
		if status == 200 {
			r.json(t, &out)
		}
		return out.ReadSeq
	}
	last := conv.LastSeq
	steps := []struct{ seq, want int64 }{{last - 1, last - 1}, {1, last - 1}, {last, last}, {last - 2, last}}
	for _, s := range steps {
		got := read(s.seq, 200)
		t.Logf("read %d -> %d", s.seq, got)
		if got != s.want {
			t.Fatalf("read %d: stored %d, want %d", s.seq, got, s.want)
		}
	}
	read(last+1, 400)
	if got := read(1, 200); got != last {
		t.Fatalf("after a refused report the position is %d, want %d", got, last)
	}
}
