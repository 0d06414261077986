package httpapi

import (
	"net/http"
	"testing"
	"time"
)

// contactToken issues a contact token with the app's API key.
func contactToken(e *env, apiKey, contactID string) string {
	e.t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	e.must(201, req{route: "POST /api/v1/contacts/{id}/token", params: id(contactID), cred: key(apiKey)}).json(e.t, &tok)
	return tok.Token
}

// tokenOnly is a caller with no API key and no session: only the contact
// token in its header speaks for it. (The zero cred means "the route's
// default caller" to the bad-input table, hence the set flag.)
var tokenOnly = cred{noCSRF: true}

func csatCases(e *env, w *world) []badCase {
	own := contactToken(e, w.key, w.contact)
	foreign := contactToken(e, w.other.key, w.other.contact)
	// Rated once already: a different second rating is refused.
	var rated conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: key(w.key), body: map[string]any{"contact": map[string]any{"userId": "user-1"}}}).json(e.t, &rated)
	e.must(200, req{route: "POST /api/v1/conversations/{id}/csat", params: id(rated.ID), cred: key(w.key), body: map[string]any{"rating": 4}})
	hdr := func(tok string) map[string]string { return map[string]string{ContactTokenHeader: tok} }
	return []badCase{
		{name: "rating 0", req: req{body: map[string]any{"rating": 0}}, status: 400, field: "rating"},
		{name: "rating 11", req: req{body: map[string]any{"rating": 11}}, status: 400, field: "rating"},
		{name: "no rating", req: req{body: map[string]any{"comment": "meh"}}, status: 400, field: "rating"},
		{name: "fractional rating", req: req{body: `{"rating":7.5}`}, status: 400, field: "rating"},
		{name: "comment too long", req: req{body: map[string]any{"rating": 5, "comment": string(make([]byte, 2001))}}, status: 400, field: "comment"},
		{name: "second, different rating", req: req{params: id(rated.ID), body: map[string]any{"rating": 9}}, status: 409, code: "conflict"},
		{name: "forged contact token", req: req{cred: tokenOnly, header: hdr(own + "x"), body: map[string]any{"rating": 5}}, status: 401, code: "unauthenticated"},
		{name: "another app's contact token", req: req{cred: tokenOnly, header: hdr(foreign), body: map[string]any{"rating": 5}}, status: 404, code: "not_found"},
		{name: "another contact's conversation", req: req{params: id(w.other.conv.ID), cred: tokenOnly, header: hdr(own), body: map[string]any{"rating": 5}}, status: 404, code: "not_found"},
	}
}

// The contact rates its own conversation with its token; a retry of the
// same rating is accepted and changes nothing; the admin's summary counts
// it once.
func TestCSATByContactAndSummary(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	tok := contactToken(e, w.key, w.contact)
	rate := req{route: "POST /api/v1/conversations/{id}/csat", params: id(w.conv.ID), cred: tokenOnly,
		header: map[string]string{ContactTokenHeader: tok}, body: map[string]any{"rating": 8, "comment": "thanks"}}
	var got struct {
		ConversationID string `json:"conversationId"`
		Rating         int    `json:"rating"`
	}
	e.must(200, rate).json(t, &got)
	if got.ConversationID != w.conv.ID || got.Rating != 8 {
		t.Fatalf("rating = %+v", got)
	}
	e.must(200, rate)
	if r := e.call(req{route: "POST /api/v1/conversations/{id}/csat", params: id(w.conv.ID), cred: tokenOnly,
		header: map[string]string{ContactTokenHeader: tok}, body: map[string]any{"rating": 2}}); r.status != http.StatusConflict {
		t.Fatalf("a second rating: %d %s", r.status, r.body)
	}
	var sum struct {
		Conversations int64   `json:"conversations"`
		CSATCount     int64   `json:"csatCount"`
		CSATAverage   float64 `json:"csatAverage"`
	}
	// The service's clock is frozen in these tests, and the default window
	// ends at its "now": name a window around the real time instead.
	window := "from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.must(200, req{route: "GET /api/v1/analytics/summary", cred: cookie(w.owner), query: window}).json(t, &sum)
	if sum.CSATCount != 1 || sum.CSATAverage != 8 || sum.Conversations < 2 {
		t.Fatalf("summary = %+v", sum)
	}
	// A window that ends before anything happened counts nothing.
	e.must(200, req{route: "GET /api/v1/analytics/summary", cred: key(w.key), query: "from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z"}).json(t, &sum)
	if sum.CSATCount != 0 || sum.Conversations != 0 {
		t.Fatalf("empty window = %+v", sum)
	}
}

// A conversation resolved through the API is measured once in the
// summary's resolution times, however often it is reopened and resolved
// (the seed resolved one already).
func TestResolutionTimeInSummary(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	status := func(s string) {
		e.must(200, req{route: "POST /api/v1/conversations/{id}/status", params: id(w.conv.ID), cred: key(w.key), body: map[string]any{"status": s}})
	}
	status("resolved")
	status("open")
	status("resolved")
	status("open")
	status("resolved")
	var sum struct {
		Resolution struct {
			Count         int64 `json:"count"`
			MedianMillis  int64 `json:"medianMillis"`
			AverageMillis int64 `json:"averageMillis"`
		} `json:"resolution"`
	}
	window := "from=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.must(200, req{route: "GET /api/v1/analytics/summary", cred: cookie(w.owner), query: window}).json(t, &sum)
	if r := sum.Resolution; r.Count != 2 || r.MedianMillis > r.AverageMillis || r.MedianMillis < 0 {
		t.Fatalf("resolution = %+v", r)
	}
	// Another app's summary does not see it.
	e.must(200, req{route: "GET /api/v1/analytics/summary", cred: key(w.other.key), query: window}).json(t, &sum)
	if sum.Resolution.Count != 0 {
		t.Fatalf("another app's resolution = %+v", sum.Resolution)
	}
}
