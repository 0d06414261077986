package httpapi

import (
	"net/http"
	"sort"
	"strings"
	"testing"
)

// caller is one kind of credential a request can carry. A route's authzSpec
// says which of them may use it; the test tries every one of them.
type caller int

const (
	contactCaller caller = 1 << iota // a contact's token (ContactTokenHeader), nothing else
	agentCaller                      // the session of an agent with the agent role
	keyCaller                        // an API key: admin rights, but no person behind it
	ownerCaller                      // the session of the app's owner
)

// The usual minimum roles, as sets of callers.
const (
	minContact = contactCaller | agentCaller | keyCaller | ownerCaller
	minAgent   = agentCaller | keyCaller | ownerCaller
	minAdmin   = keyCaller | ownerCaller
)

var callerNames = map[caller]string{contactCaller: "contact token", agentCaller: "agent session", keyCaller: "API key", ownerCaller: "owner session"}

// authzSpec is a route's access rule, written down here independently of
// the code that enforces it.
type authzSpec struct {
	// public explains why a route needs no credentials; empty for the rest.
	public string
	// allow is who may call the route; the others get 403 (401 for a
	// contact token on a staff route, where the token is no credential).
	allow caller
	// ids, when set, replaces the bad-input spec's app A ids for the
	// cross-app check (routes whose fixtures that spec seeds itself).
	ids func(*env, *world) map[string]string
	// readBack is a GET that must answer the same before and after app B's
	// attempt, for data the store snapshot does not hold.
	readBack string
	// sessionBody, when set, is the body a signed-in person sends instead
	// of the bad-input spec's (which is an integration's).
	sessionBody func(*world) any
}

// authzSpecs has an entry for every route of the table; the test fails for
// a route without one and for an entry naming no route.
var authzSpecs = map[string]authzSpec{
	"GET /healthz":                  {public: "load balancer probe, says nothing about data"},
	"GET /readyz":                   {public: "load balancer probe, says nothing about data"},
	"GET /metrics":                  {public: "Prometheus scrape; counters only, no tenant data (the operator firewalls it)"},
	"GET /api/v1/openapi.json":      {public: "the published API description"},
	"POST /api/v1/auth/login":       {public: "sign-in: the password is the credential (rate limited)"},
	"GET /files/{appId}/{uploadId}": {public: "signed link: the HMAC signature and expiry are the authorisation"},
	"GET /api/v1/join/{token}":      {public: "invitation link: the unguessable token is the credential"},
	"POST /api/v1/join/{token}":     {public: "invitation acceptance: the unguessable token is the credential"},
	"POST /api/v1/widget/session":   {public: "a visitor starts a widget session; identity verification, when on, is checked inside"},

	"POST /api/v1/auth/logout":   {allow: agentCaller | keyCaller | ownerCaller},
	"GET /api/v1/auth/me":        {allow: minAgent},
	"POST /api/v1/auth/password": {allow: agentCaller | ownerCaller}, // a person's own password: no API key

	"POST /api/v1/agents":              {allow: minAdmin},
	"GET /api/v1/agents":               {allow: minAgent},
	"GET /api/v1/agents/{id}":          {allow: minAgent},
	"PUT /api/v1/agents/{id}/presence": {allow: minAdmin}, // the seeded id is the owner's: an agent sets only their own

	"POST /api/v1/teams":           {allow: minAdmin},
	"GET /api/v1/teams":            {allow: minAgent},
	"GET /api/v1/teams/{id}":       {allow: minAgent},
	"GET /api/v1/teams/{id}/rules": {allow: minAdmin},
	"PUT /api/v1/teams/{id}/rules": {allow: minAdmin},

	"POST /api/v1/bots":               {allow: minAdmin},
	"GET /api/v1/bots":                {allow: minAgent},
	"GET /api/v1/bots/{id}":           {allow: minAgent},
	"PATCH /api/v1/bots/{id}":         {allow: minAdmin},
	"DELETE /api/v1/bots/{id}":        {allow: minAdmin},
	"POST /api/v1/bots/{id}/validate": {allow: minAdmin},
	"POST /api/v1/lex/discover":       {allow: minAdmin},

	"GET /api/v1/rules": {allow: minAdmin},
	"PUT /api/v1/rules": {allow: minAdmin},

	"POST /api/v1/conversations":                    {allow: minAgent},
	"GET /api/v1/conversations":                     {allow: minAgent},
	"GET /api/v1/conversations/{id}":                {allow: minAgent},
	"POST /api/v1/conversations/{id}/status":        {allow: minAgent},
	"POST /api/v1/conversations/{id}/assignee":      {allow: minAgent},
	"POST /api/v1/conversations/{id}/takeover":      {allow: minAgent},
	"POST /api/v1/conversations/{id}/assign":        {allow: minAgent},
	"POST /api/v1/conversations/{id}/csat":          {allow: contactCaller | keyCaller}, // the contact's own rating (or an integration relaying it)
	"POST /api/v1/conversations/{id}/talk-to-human": {allow: minContact},
	"GET /api/v1/conversations/{id}/messages":       {allow: minAgent},
	"POST /api/v1/conversations/{id}/messages":      {allow: minAgent, sessionBody: agentText},
	"GET /api/v1/conversations/{id}/bot-context":    {allow: minAgent},
	"POST /api/v1/conversations/{id}/notes":         {allow: agentCaller | ownerCaller, readBack: "GET /api/v1/conversations/{id}/notes"}, // a note has a person as author
	"GET /api/v1/conversations/{id}/notes":          {allow: minAgent},
	"GET /api/v1/inbox":                             {allow: minAgent},

	"GET /api/v1/contacts/{id}":        {allow: minAgent},
	"PATCH /api/v1/contacts/{id}":      {allow: minAgent},
	"POST /api/v1/contacts/{id}/token": {allow: minAdmin},

	"POST /api/v1/uploads": {allow: minAgent},

	"POST /api/v1/apikeys":        {allow: minAdmin},
	"GET /api/v1/apikeys":         {allow: minAdmin},
	"DELETE /api/v1/apikeys/{id}": {allow: minAdmin},

	"POST /api/v1/apps": {allow: ownerCaller},

	"POST /api/v1/webhooks":                {allow: minAdmin},
	"GET /api/v1/webhooks":                 {allow: minAdmin},
	"GET /api/v1/webhooks/{id}":            {allow: minAdmin},
	"PATCH /api/v1/webhooks/{id}":          {allow: minAdmin},
	"DELETE /api/v1/webhooks/{id}":         {allow: minAdmin},
	"GET /api/v1/webhooks/{id}/deliveries": {allow: minAdmin},
	"POST /api/v1/webhooks/{id}/redeliver": {allow: minAdmin},

	"GET /api/v1/analytics/summary": {allow: minAdmin},

	"GET /api/v1/canned-replies":         {allow: minAgent},
	"POST /api/v1/canned-replies":        {allow: minAdmin},
	"PUT /api/v1/canned-replies/{id}":    {allow: minAdmin},
	"DELETE /api/v1/canned-replies/{id}": {allow: minAdmin},

	"POST /api/v1/invites": {allow: minAdmin},
	"GET /api/v1/invites":  {allow: minAdmin},
	"DELETE /api/v1/invites/{id}": {allow: minAdmin, readBack: "GET /api/v1/invites", ids: func(e *env, w *world) map[string]string {
		own, _ := e.seedInvite(key(w.key), "")
		return id(own)
	}},

	"GET /api/v1/widget/settings":                     {allow: minAdmin},
	"PUT /api/v1/widget/settings":                     {allow: minAdmin},
	"GET /api/v1/widget/me":                           {allow: contactCaller},
	"PATCH /api/v1/widget/me":                         {allow: contactCaller},
	"GET /api/v1/widget/conversations":                {allow: contactCaller},
	"POST /api/v1/widget/conversations":               {allow: contactCaller},
	"GET /api/v1/widget/conversations/{id}/messages":  {allow: minContact},
	"POST /api/v1/widget/conversations/{id}/messages": {allow: minContact, sessionBody: agentText},
	"POST /api/v1/widget/conversations/{id}/click":    {allow: contactCaller},
	"POST /api/v1/widget/conversations/{id}/read":     {allow: contactCaller},
	"POST /api/v1/widget/uploads":                     {allow: minContact},
}

func agentText(*world) any { return map[string]any{"text": "hello from staff"} }

func TestAuthzSpecsCoverEveryRoute(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range routes() {
		p := rt.pattern()
		seen[p] = true
		spec, ok := authzSpecs[p]
		if !ok {
			t.Errorf("route %s has no entry in authzSpecs", p)
			continue
		}
		switch {
		case rt.access == public && (spec.public == "" || spec.allow != 0):
			t.Errorf("%s is public in the route table: its authzSpec must say why, and allow no one in particular", p)
		case rt.access != public && (spec.public != "" || spec.allow == 0):
			t.Errorf("%s needs credentials in the route table: its authzSpec must say who may call it", p)
		case rt.access == authenticated && spec.allow&contactCaller != 0:
			t.Errorf("%s takes no contact token in the route table, but its authzSpec allows one", p)
		}
	}
	for p := range authzSpecs {
		if !seen[p] {
			t.Errorf("authzSpecs has an entry for %s, which is not a route", p)
		}
	}
}

// goodRequest is the bad-input spec's well-formed call of rt, with cred.
func goodRequest(rt route, w *world, c cred) req {
	spec := badInputSpecs[rt.pattern()]
	r := req{route: rt.pattern(), query: spec.query, cred: c}
	if spec.params != nil {
		r.params = spec.params(w)
	}
	if spec.body != nil {
		r.body = spec.body(w)
	}
	return r
}

// TestAuthzEveryRoute calls every route of the table with no credentials,
// with each kind of caller, and as another app's admin with this app's ids.
func TestAuthzEveryRoute(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	contactTok := contactToken(e, w.key, w.contact)
	foreignTok := contactToken(e, w.other.key, w.other.contact)

	// Each call gets its own session, so that sign-out or a refused call
	// cannot spoil the next one.
	as := func(c caller) (cred, map[string]string) {
		switch c {
		case contactCaller:
			return tokenOnly, tokenHeader(contactTok)
		case agentCaller:
			return cookie(e.login("agent@example.com", "agent-password")), nil
		case keyCaller:
			return key(w.key), nil
		default:
			return cookie(e.login(ownerEmail, ownerPassword)), nil
		}
	}
	callers := []caller{contactCaller, agentCaller, keyCaller, ownerCaller}

	rts := routes()
	sort.SliceStable(rts, func(i, j int) bool { return callOrder(rts[i]) < callOrder(rts[j]) })
	for _, rt := range rts {
		spec, ok := authzSpecs[rt.pattern()]
		if !ok {
			continue // reported by TestAuthzSpecsCoverEveryRoute
		}
		t.Run(rt.pattern(), func(t *testing.T) {
			e.t = t
			if rt.access == public {
				r := e.call(goodRequest(rt, w, anonymous()))
				if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
					t.Errorf("public route answered %d without credentials: %s", r.status, r.body)
				}
				return
			}
			before := e.snapshot()
			r := e.call(goodRequest(rt, w, anonymous()))
			if r.status != http.StatusUnauthorized {
				t.Errorf("no credentials: status %d, want 401: %s", r.status, r.body)
			}
			if after := e.snapshot(); after != before {
				t.Errorf("a call without credentials changed the stored data")
			}

			// Another app's admin, by key and by session, with this app's
			// ids: not found, and nothing changed.
			if ids := crossAppIDs(e, w, rt, spec); ids != nil {
				var back resp
				if spec.readBack != "" {
					back = e.must(200, req{route: spec.readBack, params: ids, cred: cookie(w.owner)})
				}
				before := e.snapshot()
				// Only callers the route would serve in their own app:
				// the others are refused for their role before any lookup.
				for c, cr := range map[caller]cred{keyCaller: key(w.other.key), ownerCaller: cookie(w.other.owner)} {
					if spec.allow&c == 0 {
						continue
					}
					r := goodRequest(rt, w, cr)
					r.params = ids
					if c != keyCaller && spec.sessionBody != nil {
						r.body = spec.sessionBody(w)
					}
					if got := e.call(r); got.status != http.StatusNotFound {
						t.Errorf("app B's admin (%s) on app A's ids: status %d, want 404: %s", callerNames[c], got.status, got.body)
					}
				}
				if spec.allow&contactCaller != 0 {
					r := goodRequest(rt, w, tokenOnly)
					r.params, r.header = ids, tokenHeader(foreignTok)
					if got := e.call(r); got.status != http.StatusNotFound {
						t.Errorf("app B's contact token on app A's ids: status %d, want 404: %s", got.status, got.body)
					}
				}
				if after := e.snapshot(); after != before {
					t.Errorf("app B's calls changed app A's stored data")
				}
				if spec.readBack != "" {
					if again := e.must(200, req{route: spec.readBack, params: ids, cred: cookie(w.owner)}); string(again.body) != string(back.body) {
						t.Errorf("app B's calls changed what %s answers:\nbefore: %s\nafter:  %s", spec.readBack, back.body, again.body)
					}
				}
			}

			for _, c := range callers {
				cr, hdr := as(c)
				r := goodRequest(rt, w, cr)
				r.header = hdr
				if spec.sessionBody != nil && (c == agentCaller || c == ownerCaller) {
					r.body = spec.sessionBody(w)
				}
				if spec.ids != nil && r.params == nil {
					r.params = spec.ids(e, w)
				}
				got := e.call(r)
				allowed := spec.allow&c != 0
				switch {
				case allowed && (got.status == http.StatusUnauthorized || got.status == http.StatusForbidden):
					t.Errorf("%s may use the route but got %d: %s", callerNames[c], got.status, got.body)
				case allowed && got.status == http.StatusNotFound && rt.method != http.MethodDelete:
					// The ids are the caller's own app's: not found would
					// hide a refusal. (A deletion finds nothing the second
					// time.)
					t.Errorf("%s may use the route but got 404 for its own app's ids: %s", callerNames[c], got.body)
				case !allowed && c == contactCaller && rt.access == authenticated:
					if got.status != http.StatusUnauthorized {
						t.Errorf("%s on a staff route: status %d, want 401: %s", callerNames[c], got.status, got.body)
					}
				case !allowed && got.status != http.StatusForbidden:
					t.Errorf("%s may not use the route: status %d, want 403: %s", callerNames[c], got.status, got.body)
				}
			}
		})
	}
	e.t = t
}

// callOrder puts deletions after the routes that need what they delete,
// and sign-out and password changes last: they end the sessions the other
// calls are made with.
func callOrder(rt route) int {
	switch {
	case rt.path == "/api/v1/auth/logout" || rt.path == "/api/v1/auth/password":
		return 2
	case rt.method == http.MethodDelete:
		return 1
	}
	return 0
}

// crossAppIDs returns app A's ids for a route that takes an {id}, or nil.
func crossAppIDs(e *env, w *world, rt route, spec authzSpec) map[string]string {
	if !strings.Contains(rt.path, "{id}") {
		return nil
	}
	if spec.ids != nil {
		return spec.ids(e, w)
	}
	if p := badInputSpecs[rt.pattern()].params; p != nil {
		return p(w)
	}
	e.t.Errorf("%s takes an {id} but neither spec says which of app A's ids to try", rt.pattern())
	return nil
}
