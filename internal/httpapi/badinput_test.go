package httpapi

import (
	"bytes"
	"strings"
	"testing"
)

// routeSpec says how to call one route well, so that the bad-input test can
// spoil exactly one thing at a time.
type routeSpec struct {
	cred      func(*world) cred              // a caller allowed to use the route; default: app A's API key
	params    func(*world) map[string]string // app A's ids for the {wildcards}
	foreign   func(*world) map[string]string // app B's ids, which app A must not reach
	query     string
	body      func(*world) any // a valid JSON body; nil for routes without one
	wrongType string           // a body with a value of the wrong JSON type...
	field     string           // ...in this field (details.field of the 400)
	forbidden func(*world) []cred
	// extra cases peculiar to the route.
	extra func(*env, *world) []badCase
}

type badCase struct {
	name   string
	req    req
	status int
	code   string
	field  string
}

func agentSession(w *world) []cred { return []cred{cookie(w.agent)} }
func ownID(w *world) map[string]string {
	return id(w.conv.ID)
}

// badInputSpecs has an entry for every route of the table; the test fails
// for a route without one, so a new route cannot skip these checks.
var badInputSpecs = map[string]routeSpec{
	"GET /healthz":             {},
	"GET /readyz":              {},
	"GET /metrics":             {},
	"GET /api/v1/openapi.json": {},
	"POST /api/v1/auth/login": {
		body:      func(*world) any { return map[string]string{"email": ownerEmail, "password": ownerPassword} },
		wrongType: `{"email":5,"password":"x"}`, field: "email",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "wrong password", req: req{body: map[string]string{"email": ownerEmail, "password": "not-the-password"}}, status: 401, code: "unauthenticated"},
				{name: "unknown email", req: req{body: map[string]string{"email": "ghost@example.com", "password": ownerPassword}}, status: 401, code: "unauthenticated"},
				{name: "cross-site", req: req{body: map[string]string{"email": ownerEmail, "password": ownerPassword}, header: map[string]string{"Origin": "https://evil.example"}}, status: 403, code: "forbidden"},
			}
		},
	},
	"POST /api/v1/auth/logout": {cred: func(w *world) cred { return cookie(w.owner) }},
	"GET /api/v1/auth/me":      {},
	"POST /api/v1/auth/password": {
		cred: func(w *world) cred { return cookie(w.agent) },
		body: func(*world) any {
			return map[string]string{"currentPassword": "agent-password", "newPassword": "another-password"}
		},
		wrongType: `{"currentPassword":true,"newPassword":"another-password"}`, field: "currentPassword",
		forbidden: func(w *world) []cred { return []cred{key(w.key)} },
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "wrong current password", req: req{cred: cookie(w.agent), body: map[string]string{"currentPassword": "nope-nope", "newPassword": "another-password"}}, status: 400, field: "currentPassword"},
				{name: "short new password", req: req{cred: cookie(w.agent), body: map[string]string{"currentPassword": "agent-password", "newPassword": "short"}}, status: 400, field: "password"},
			}
		},
	},
	"POST /api/v1/agents": {
		body: func(*world) any {
			return map[string]string{"email": "new@example.com", "name": "New", "password": "new-password"}
		},
		wrongType: `{"email":"new@example.com","name":["New"],"password":"new-password"}`, field: "name",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "taken email", req: req{body: map[string]string{"email": "agent@example.com", "name": "Dup", "password": "dup-password"}}, status: 409, code: "conflict"},
				{name: "bad email", req: req{body: map[string]string{"email": "not an email", "name": "X", "password": "x-password"}}, status: 400, field: "email"},
				{name: "bad role", req: req{body: map[string]string{"email": "r@example.com", "name": "X", "password": "x-password", "role": "god"}}, status: 400, field: "role"},
				{name: "owner by admin key", req: req{body: map[string]string{"email": "o2@example.com", "name": "X", "password": "x-password", "role": "owner"}}, status: 403, code: "forbidden"},
			}
		},
	},
	"GET /api/v1/agents": {},
	"GET /api/v1/agents/{id}": {
		params:  func(w *world) map[string]string { return id(w.agent.agent.ID) },
		foreign: func(w *world) map[string]string { return id(w.other.agent) },
	},
	"PUT /api/v1/agents/{id}/presence": {
		params:    func(w *world) map[string]string { return id(w.owner.agent.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.agent) },
		body:      func(*world) any { return map[string]string{"status": "away"} },
		wrongType: `{"status":1}`, field: "status",
		forbidden: agentSession, // an agent sets only their own
		extra: func(e *env, w *world) []badCase {
			return []badCase{{name: "unknown presence", req: req{body: map[string]string{"status": "asleep"}}, status: 400, field: "status"}}
		},
	},
	"POST /api/v1/teams": {
		body:      func(w *world) any { return map[string]any{"name": "T2", "agentIds": []string{w.agent.agent.ID}} },
		wrongType: `{"name":"T2","agentIds":"x"}`, field: "agentIds",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "another app's agent as member", req: req{body: map[string]any{"name": "T3", "agentIds": []string{w.other.agent}}}, status: 400, code: "invalid"},
				{name: "no name", req: req{body: map[string]any{"agentIds": []string{}}}, status: 400, field: "name"},
			}
		},
	},
	"GET /api/v1/teams": {},
	"GET /api/v1/teams/{id}": {
		params:  func(w *world) map[string]string { return id(w.team.ID) },
		foreign: func(w *world) map[string]string { return id(w.other.team) },
	},
	"GET /api/v1/teams/{id}/rules": {
		params:    func(w *world) map[string]string { return id(w.team.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.team) },
		forbidden: agentSession,
	},
	"PUT /api/v1/teams/{id}/rules": {
		params:    func(w *world) map[string]string { return id(w.team.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.team) },
		body:      func(*world) any { return map[string]any{"mode": "automatic_assignment"} },
		wrongType: `{"botRouting":"yes"}`, field: "botRouting",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "routing on without a bot", req: req{body: map[string]any{"botRouting": true}}, status: 400, field: "handleAllBotId"},
				{name: "another app's bot", req: req{body: map[string]any{"botRouting": true, "handleAllBotId": w.other.bot}}, status: 400, field: "handleAllBotId"},
				{name: "another app's agent", req: req{body: map[string]any{"defaultAgentId": w.other.agent}}, status: 400, field: "defaultAgentId"},
				{name: "unknown zone", req: req{body: map[string]any{"businessHours": map[string]any{"timeZone": "Mars/Base"}}}, status: 400, field: "businessHours.timeZone"},
				{name: "bad clock", req: req{body: map[string]any{"businessHours": map[string]any{"weekly": map[string]any{"monday": []map[string]string{{"start": "25:00", "end": "26:00"}}}}}}, status: 400, code: "invalid"},
			}
		},
	},
	"POST /api/v1/bots": {
		body: func(*world) any {
			return map[string]any{"name": "New bot", "type": "webhook", "webhook": map[string]any{"url": "https://new.example.com/hook"}}
		},
		wrongType: `{"name":"X","type":"webhook","autoHandoff":"yes","webhook":{"url":"https://x.example"}}`, field: "autoHandoff",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			hook := map[string]any{"url": "https://x.example.com"}
			return []badCase{
				{name: "no name", req: req{body: map[string]any{"type": "webhook", "webhook": hook}}, status: 400, field: "name"},
				{name: "unknown type", req: req{body: map[string]any{"name": "X", "type": "pigeon", "webhook": hook}}, status: 400, field: "type"},
				{name: "lex without settings", req: req{body: map[string]any{"name": "X", "type": "lex"}}, status: 400, field: "lex"},
				{name: "lex with webhook settings", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(nil), "webhook": hook}}, status: 400, field: "webhook"},
				{name: "webhook with lex settings", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": hook, "lex": badLex(nil)}}, status: 400, field: "lex"},
				{name: "lex unknown field", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"sessionToken": "t"})}}, status: 400, field: "lex"},
				{name: "lex wrong type", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"maxConsecutiveFallbacks": "two"})}}, status: 400, field: "lex.maxConsecutiveFallbacks"},
				{name: "lex region not a region", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"region": "mars"})}}, status: 400, field: "lex.region"},
				{name: "lex bot id hostile", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"botId": "../../bots"})}}, status: 400, field: "lex.botId"},
				{name: "lex metadata endpoint", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"endpoint": "http://169.254.169.254/latest/meta-data"})}}, status: 400, field: "lex.endpoint"},
				{name: "lex endpoint with credentials", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"endpoint": "http://user:pw@127.0.0.1:1"})}}, status: 400, field: "lex.endpoint"},
				{name: "lex placeholder secret", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"secretAccessKey": "********"})}}, status: 400, field: "lex.secretAccessKey"},
				{name: "lex endpoint nobody answers", req: req{body: map[string]any{"name": "X", "type": "lex", "lex": badLex(map[string]any{"endpoint": closedURL(e.t)})}}, status: 422, code: "lex_endpoint_unreachable", field: "lex.endpoint"},
				{name: "no webhook", req: req{body: map[string]any{"name": "X", "type": "webhook"}}, status: 400, field: "webhook.url"},
				{name: "webhook url wrong type", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": 5}}}, status: 400, field: "webhook.url"},
				{name: "webhook unknown field", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": "https://x.example.com", "headerNmae": "X"}}}, status: 400, field: "webhook"},
				{name: "reserved header", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": "https://x.example.com", "headerName": "Host", "headerValue": "v"}}}, status: 400, field: "webhook.headerName"},
				{name: "header injection", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": "https://x.example.com", "headerName": "X-Key", "headerValue": "a\r\nEvil: 1"}}}, status: 400, field: "webhook.headerValue"},
				{name: "redacted placeholder as secret", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": "https://x.example.com", "headerName": "X-Key", "headerValue": "********"}}}, status: 400, field: "webhook.headerValue"},
				{name: "timeout too long", req: req{body: map[string]any{"name": "X", "type": "webhook", "webhook": map[string]any{"url": "https://x.example.com", "timeoutSeconds": 600}}}, status: 400, field: "webhook.timeoutSeconds"},
				{name: "bad avatar", req: req{body: map[string]any{"name": "X", "type": "webhook", "avatarUrl": "javascript:alert(1)", "webhook": hook}}, status: 400, field: "avatarUrl"},
			}
		},
	},
	"GET /api/v1/bots": {},
	"GET /api/v1/bots/{id}": {
		params:  func(w *world) map[string]string { return id(w.bot.ID) },
		foreign: func(w *world) map[string]string { return id(w.other.bot) },
	},
	"PATCH /api/v1/bots/{id}": {
		params:    func(w *world) map[string]string { return id(w.bot.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.bot) },
		body:      func(*world) any { return map[string]any{"name": "Renamed"} },
		wrongType: `{"enabled":"no"}`, field: "enabled",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "empty name", req: req{body: map[string]any{"name": ""}}, status: 400, field: "name"},
				{name: "placeholder under a new header", req: req{body: map[string]any{"webhook": map[string]any{"url": "https://bot.example.com/hook", "headerName": "Authorization", "headerValue": "********"}}}, status: 400, field: "webhook.headerValue"},
				{name: "bad webhook url", req: req{body: map[string]any{"webhook": map[string]any{"url": "not a url"}}}, status: 400, field: "webhook.url"},
				{name: "lex settings on a webhook bot", req: req{body: map[string]any{"lex": badLex(nil)}}, status: 400, field: "lex"},
			}
		},
	},
	"POST /api/v1/bots/{id}/validate": {
		params:    func(w *world) map[string]string { return id(w.bot.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.bot) },
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			// The seeded bot is a webhook bot, which has nothing to check.
			return []badCase{{name: "a webhook bot", req: req{}, status: 400, code: "invalid"}}
		},
	},
	"POST /api/v1/lex/discover": {
		body: func(*world) any {
			return map[string]any{"region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE000000000", "secretAccessKey": "discover-secret"}
		},
		wrongType: `{"region":5,"accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"s"}`, field: "region",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			in := func(edit map[string]any) map[string]any {
				m := map[string]any{"region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE000000000", "secretAccessKey": "discover-secret", "endpoint": closedURL(e.t)}
				for k, v := range edit {
					if v == nil {
						delete(m, k)
					} else {
						m[k] = v
					}
				}
				return m
			}
			return []badCase{
				{name: "no region", req: req{body: in(map[string]any{"region": nil})}, status: 400, field: "region"},
				{name: "region not a region", req: req{body: in(map[string]any{"region": "us-east-1; rm"})}, status: 400, field: "region"},
				{name: "no secret", req: req{body: in(map[string]any{"secretAccessKey": nil})}, status: 400, field: "secretAccessKey"},
				{name: "bad key id", req: req{body: in(map[string]any{"accessKeyId": "akia lower"})}, status: 400, field: "accessKeyId"},
				{name: "metadata endpoint", req: req{body: in(map[string]any{"endpoint": "http://[::ffff:169.254.169.254]"})}, status: 400, field: "endpoint"},
				{name: "endpoint not http", req: req{body: in(map[string]any{"endpoint": "file:///etc/passwd"})}, status: 400, field: "endpoint"},
				{name: "endpoint nobody answers", req: req{body: in(nil)}, status: 422, code: "lex_endpoint_unreachable", field: "endpoint"},
			}
		},
	},
	"DELETE /api/v1/bots/{id}": {
		params:    func(w *world) map[string]string { return id(w.bot.ID) },
		foreign:   func(w *world) map[string]string { return id(w.other.bot) },
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			// A bot that holds an open conversation stays.
			var b botJSON
			e.must(201, req{route: "POST /api/v1/bots", cred: key(w.key), body: map[string]any{"name": "Busy", "type": "webhook", "webhook": map[string]any{"url": "https://busy.example.com"}}}).json(e.t, &b)
			e.must(201, req{route: "POST /api/v1/conversations", cred: key(w.key), body: map[string]any{"contact": map[string]any{"name": "Busy's contact"}, "skipRouting": true, "assignee": map[string]string{"type": "bot", "id": b.ID}}})
			return []badCase{{name: "assigned to an open conversation", req: req{params: id(b.ID)}, status: 409, code: "conflict"}}
		},
	},
	"GET /api/v1/rules": {forbidden: agentSession},
	"PUT /api/v1/rules": {
		body:      func(*world) any { return map[string]any{"mode": "automatic_assignment", "queueWhenNobody": true} },
		wrongType: `{"mode":"automatic_assignment","autoResolveMinutes":"ten"}`, field: "autoResolveMinutes",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "no mode", req: req{body: map[string]any{"queueWhenNobody": true}}, status: 400, field: "mode"},
				{name: "routing without a bot", req: req{body: map[string]any{"mode": "notify_everybody", "botRouting": true}}, status: 400, field: "handleAllBotId"},
				{name: "another app's bot", req: req{body: map[string]any{"mode": "notify_everybody", "botRouting": true, "handleAllBotId": w.other.bot}}, status: 400, field: "handleAllBotId"},
				{name: "another app's agent", req: req{body: map[string]any{"mode": "notify_everybody", "defaultAgentId": w.other.agent}}, status: 400, field: "defaultAgentId"},
				{name: "auto-resolve too long", req: req{body: map[string]any{"mode": "notify_everybody", "autoResolveMinutes": 1 << 40}}, status: 400, field: "autoResolveMinutes"},
				{name: "bad welcome language", req: req{body: map[string]any{"mode": "notify_everybody", "welcome": map[string]string{"klingon!": "Qapla'"}}}, status: 400, field: "welcome"},
				{name: "unknown zone", req: req{body: map[string]any{"mode": "notify_everybody", "businessHours": map[string]any{"timeZone": "Atlantis/Capital"}}}, status: 400, field: "businessHours.timeZone"},
				{name: "unknown weekday", req: req{body: map[string]any{"mode": "notify_everybody", "businessHours": map[string]any{"weekly": map[string]any{"caturday": []map[string]string{{"start": "09:00", "end": "17:00"}}}}}}, status: 400, field: "businessHours.weekly"},
				{name: "ambiguous range", req: req{body: map[string]any{"mode": "notify_everybody", "businessHours": map[string]any{"weekly": map[string]any{"monday": []map[string]string{{"start": "09:00", "end": "09:00"}}}}}}, status: 400, field: "businessHours.weekly.monday"},
			}
		},
	},
	"POST /api/v1/conversations": {
		body:      func(*world) any { return map[string]any{"contact": map[string]any{"name": "Zed"}} },
		wrongType: `{"contact":{"name":5}}`, field: "contact.name",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "another app's contact", req: req{body: map[string]any{"contactId": w.other.contact}}, status: 400, field: "contactId"},
				{name: "another app's team", req: req{body: map[string]any{"teamId": w.other.team}}, status: 400, code: "invalid"},
				{name: "another app's agent", req: req{body: map[string]any{"assignee": map[string]string{"type": "agent", "id": w.other.agent}, "skipRouting": true}}, status: 400, code: "invalid"},
				{name: "bad assignee type", req: req{body: map[string]any{"assignee": map[string]string{"type": "human", "id": "x"}}}, status: 400, field: "assignee.type"},
				{name: "chatContext not an object", req: req{body: map[string]any{"contact": map[string]any{"chatContext": []int{1}}}}, status: 400, field: "chatContext"},
				{name: "bad language", req: req{body: map[string]any{"contact": map[string]any{"language": "english please"}}}, status: 400, field: "language"},
				{name: "metadata not an object", req: req{body: `{"metadata":[1,2]}`}, status: 400, field: "metadata"},
			}
		},
	},
	"GET /api/v1/conversations": {
		extra: func(e *env, w *world) []badCase {
			var out []badCase
			for q, field := range map[string]string{"status=nope": "status", "assignee=everyone": "assignee", "limit=-2": "limit", "limit=999": "limit", "cursor=!!!": "cursor", "teamId=a%2Fb": "teamId"} {
				out = append(out, badCase{name: "query " + q, req: req{query: q}, status: 400, field: field})
			}
			return out
		},
	},
	"GET /api/v1/conversations/{id}": {params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) }},
	"POST /api/v1/conversations/{id}/status": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(*world) any { return map[string]any{"status": "resolved"} },
		wrongType: `{"status":true}`, field: "status",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "invalid transition", req: req{params: id(w.resolved), body: map[string]any{"status": "waiting"}}, status: 409, code: "conflict"},
				{name: "missing status", req: req{params: ownID(w), body: map[string]any{}}, status: 400, field: "status"},
			}
		},
	},
	"POST /api/v1/conversations/{id}/assignee": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body: func(w *world) any {
			return map[string]any{"assignee": map[string]string{"type": "agent", "id": w.agent.agent.ID}}
		},
		wrongType: `{"assignee":5}`, field: "assignee",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "another app's agent", req: req{params: ownID(w), body: map[string]any{"assignee": map[string]string{"type": "agent", "id": w.other.agent}}}, status: 400, code: "invalid"},
				{name: "missing assignee", req: req{params: ownID(w), body: map[string]any{}}, status: 400, field: "assignee"},
			}
		},
	},
	"POST /api/v1/conversations/{id}/takeover": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(w *world) any { return map[string]any{"agentId": w.agent.agent.ID} },
		wrongType: `{"agentId":5}`, field: "agentId",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "an API key names nobody", req: req{params: ownID(w), body: map[string]any{}}, status: 400, field: "agentId"},
				{name: "another app's agent", req: req{params: ownID(w), body: map[string]any{"agentId": w.other.agent}}, status: 400, field: "agentId"},
				{name: "an agent for someone else", req: req{params: ownID(w), cred: cookie(w.agent), body: map[string]any{"agentId": w.owner.agent.ID}}, status: 403, code: "forbidden"},
			}
		},
	},
	"POST /api/v1/conversations/{id}/assign": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(w *world) any { return map[string]any{"agentId": w.agent.agent.ID} },
		wrongType: `{"teamId":5}`, field: "teamId",
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "no target", req: req{params: ownID(w), body: map[string]any{}}, status: 400, field: "agentId"},
				{name: "two targets", req: req{params: ownID(w), body: map[string]any{"agentId": w.agent.agent.ID, "teamId": w.team.ID}}, status: 400, field: "agentId"},
				{name: "another app's agent", req: req{params: ownID(w), body: map[string]any{"agentId": w.other.agent}}, status: 400, field: "agentId"},
				{name: "another app's team", req: req{params: ownID(w), body: map[string]any{"teamId": w.other.team}}, status: 400, field: "teamId"},
				{name: "another app's bot", req: req{params: ownID(w), body: map[string]any{"botId": w.other.bot}}, status: 400, field: "botId"},
				{name: "a resolved conversation to a bot", req: req{params: id(w.resolved), body: map[string]any{"botId": w.bot.ID}}, status: 409, code: "conflict"},
			}
		},
	},
	"POST /api/v1/conversations/{id}/csat": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body:      func(*world) any { return map[string]any{"rating": 9, "comment": "quick"} },
		wrongType: `{"rating":"nine"}`, field: "rating",
		forbidden: func(w *world) []cred { return []cred{cookie(w.agent), cookie(w.owner)} },
		extra:     csatCases,
	},
	"POST /api/v1/conversations/{id}/talk-to-human": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		extra: func(e *env, w *world) []badCase {
			foreign := contactToken(e, w.other.key, w.other.contact)
			return []badCase{
				{name: "a resolved conversation", req: req{params: id(w.resolved)}, status: 409, code: "conflict"},
				{name: "another app's contact token", req: req{cred: tokenOnly, header: map[string]string{ContactTokenHeader: foreign}}, status: 404, code: "not_found"},
				{name: "forged contact token", req: req{cred: tokenOnly, header: map[string]string{ContactTokenHeader: foreign + "x"}}, status: 401, code: "unauthenticated"},
			}
		},
	},
	"GET /api/v1/conversations/{id}/messages": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "negative afterSeq", req: req{params: ownID(w), query: "afterSeq=-1"}, status: 400, field: "afterSeq"},
				{name: "afterSeq not a number", req: req{params: ownID(w), query: "afterSeq=abc"}, status: 400, field: "afterSeq"},
				{name: "huge limit", req: req{params: ownID(w), query: "limit=99999999999999999"}, status: 400, field: "limit"},
				{name: "beforeSeq 0", req: req{params: ownID(w), query: "beforeSeq=0"}, status: 400, field: "beforeSeq"},
				{name: "beforeSeq not a number", req: req{params: ownID(w), query: "beforeSeq=x"}, status: 400, field: "beforeSeq"},
				{name: "beforeSeq with afterSeq", req: req{params: ownID(w), query: "beforeSeq=5&afterSeq=1"}, status: 400, field: "beforeSeq"},
			}
		},
	},
	"POST /api/v1/conversations/{id}/messages": {
		params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		body: func(*world) any {
			return map[string]any{"text": "hello", "sender": map[string]string{"type": "contact"}}
		},
		wrongType: `{"text":5,"sender":{"type":"contact"}}`, field: "text",
		extra: func(e *env, w *world) []badCase {
			contact := map[string]string{"type": "contact"}
			return []badCase{
				{name: "no sender with a key", req: req{params: ownID(w), body: map[string]any{"text": "x"}}, status: 400, field: "sender"},
				{name: "another app's agent as sender", req: req{params: ownID(w), body: map[string]any{"text": "x", "sender": map[string]string{"type": "agent", "id": w.other.agent}}}, status: 400, field: "sender.id"},
				{name: "another app's upload", req: req{params: ownID(w), body: map[string]any{"attachments": []map[string]string{{"uploadId": w.other.upload.ID}}, "sender": contact}}, status: 404, field: "attachments.uploadId"},
				{name: "empty message", req: req{params: ownID(w), body: map[string]any{"sender": contact}}, status: 400, field: "text"},
				{name: "location out of range", req: req{params: ownID(w), body: map[string]any{"contentType": 2, "location": map[string]float64{"lat": 91, "lon": 0}, "sender": contact}}, status: 400, field: "location"},
				{name: "system notice", req: req{params: ownID(w), body: map[string]any{"text": "x", "contentType": 10, "sender": contact}}, status: 400, field: "contentType"},
				{name: "metadata array", req: req{params: ownID(w), body: `{"text":"x","metadata":[1],"sender":{"type":"contact"}}`}, status: 400, field: "metadata"},
				{name: "agent impersonating contact", req: req{params: ownID(w), cred: cookie(w.agent), body: map[string]any{"text": "x", "sender": contact}}, status: 403, code: "forbidden"},
			}
		},
	},
	"GET /api/v1/contacts/{id}": {
		params:  func(w *world) map[string]string { return id(w.contact) },
		foreign: func(w *world) map[string]string { return id(w.other.contact) },
	},
	"POST /api/v1/contacts/{id}/token": {
		params:    func(w *world) map[string]string { return id(w.contact) },
		foreign:   func(w *world) map[string]string { return id(w.other.contact) },
		forbidden: agentSession, // a token acts for the contact: admins and integrations only
	},
	"PATCH /api/v1/contacts/{id}": {
		params:    func(w *world) map[string]string { return id(w.contact) },
		foreign:   func(w *world) map[string]string { return id(w.other.contact) },
		body:      func(*world) any { return map[string]any{"name": "Anna"} },
		wrongType: `{"name":5}`, field: "name",
		extra: func(e *env, w *world) []badCase {
			p := id(w.contact)
			return []badCase{
				{name: "bad email", req: req{params: p, body: map[string]any{"email": "nope"}}, status: 400, field: "email"},
				{name: "chatContext array", req: req{params: p, body: map[string]any{"chatContext": []int{1}}}, status: 400, field: "chatContext"},
			}
		},
	},
	"POST /api/v1/uploads":          {extra: uploadCases},
	"GET /files/{appId}/{uploadId}": {extra: fileCases},
	"POST /api/v1/apikeys": {
		body:      func(*world) any { return map[string]string{"name": "another"} },
		wrongType: `{"name":5}`, field: "name",
		forbidden: agentSession,
	},
	"GET /api/v1/apikeys": {forbidden: agentSession},
	"DELETE /api/v1/apikeys/{id}": {
		params:    func(w *world) map[string]string { return id(w.apiKeyID) },
		foreign:   func(w *world) map[string]string { return id(w.other.apiKeyID) },
		forbidden: agentSession,
	},
	"POST /api/v1/webhooks": {
		body: func(*world) any {
			return map[string]any{"url": "https://hooks.example.com/new", "events": []string{"message.created"}}
		},
		wrongType: `{"url":"https://hooks.example.com/new","events":"message.created"}`, field: "events",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "bad secret", req: req{body: map[string]any{"url": "https://x.example.com", "events": []string{"*"}, "secret": "whsec_!!"}}, status: 400, field: "secret"},
				{name: "relative url", req: req{body: map[string]any{"url": "/hook", "events": []string{"*"}}}, status: 400, field: "url"},
				{name: "unknown event", req: req{body: map[string]any{"url": "https://x.example.com", "events": []string{"message.deleted"}}}, status: 400, field: "events"},
			}
		},
	},
	"GET /api/v1/webhooks": {forbidden: agentSession},
	"GET /api/v1/webhooks/{id}": {
		params:    func(w *world) map[string]string { return id(w.webhook) },
		foreign:   func(w *world) map[string]string { return id(w.other.webhook) },
		forbidden: agentSession,
	},
	"PATCH /api/v1/webhooks/{id}": {
		params:    func(w *world) map[string]string { return id(w.webhook) },
		foreign:   func(w *world) map[string]string { return id(w.other.webhook) },
		body:      func(*world) any { return map[string]any{"enabled": false} },
		wrongType: `{"enabled":"no"}`, field: "enabled",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "bad url", req: req{body: map[string]any{"url": "ftp://x"}}, status: 400, field: "url"},
				{name: "no events", req: req{body: map[string]any{"events": []string{}}}, status: 400, field: "events"},
				{name: "bad basic auth", req: req{body: map[string]any{"basicAuth": ":pw"}}, status: 400, field: "basicAuth"},
			}
		},
	},
	"DELETE /api/v1/webhooks/{id}": {
		params:    func(w *world) map[string]string { return id(w.webhook) },
		foreign:   func(w *world) map[string]string { return id(w.other.webhook) },
		forbidden: agentSession,
	},
	"GET /api/v1/webhooks/{id}/deliveries": {
		params:    func(w *world) map[string]string { return id(w.webhook) },
		foreign:   func(w *world) map[string]string { return id(w.other.webhook) },
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "limit not a number", req: req{query: "limit=ten"}, status: 400, field: "limit"},
				{name: "limit too big", req: req{query: "limit=201"}, status: 400, field: "limit"},
			}
		},
	},
	"POST /api/v1/webhooks/{id}/redeliver": {
		params:    func(w *world) map[string]string { return id(w.webhook) },
		foreign:   func(w *world) map[string]string { return id(w.other.webhook) },
		body:      func(w *world) any { return map[string]any{"eventId": w.event} },
		wrongType: `{"eventId":5}`, field: "eventId",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "unknown event", req: req{body: map[string]any{"eventId": "0000000000000000000000000z"}}, status: 404, code: "not_found"},
				{name: "malformed event id", req: req{body: map[string]any{"eventId": "bad$id"}}, status: 400, field: "eventId"},
				// The seeded event has not been sent yet: it is still queued.
				{name: "event still queued", req: req{body: map[string]any{"eventId": w.event}}, status: 409, code: "conflict"},
			}
		},
	},
	"GET /api/v1/analytics/summary": {
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			var out []badCase
			for q, field := range map[string]string{"from=yesterday": "from", "to=2026-13-01T00:00:00Z": "to",
				"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z": "from", "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z": "from"} {
				out = append(out, badCase{name: "query " + q, req: req{query: q}, status: 400, field: field})
			}
			return out
		},
	},
	"POST /api/v1/apps": {
		cred: func(w *world) cred { return cookie(w.owner) },
		body: func(*world) any {
			return map[string]any{"name": "Third", "owner": map[string]string{"email": "third@example.com", "name": "T", "password": "third-password"}}
		},
		wrongType: `{"name":"Third","owner":"me"}`, field: "owner",
		forbidden: func(w *world) []cred { return []cred{cookie(w.agent), key(w.key)} },
		extra: func(e *env, w *world) []badCase {
			return []badCase{
				{name: "owner role field", req: req{cred: cookie(w.owner), body: map[string]any{"name": "X", "owner": map[string]string{"email": "x@example.com", "name": "X", "password": "x-password", "role": "agent"}}}, status: 400, field: "role"},
				{name: "owner without a name", req: req{cred: cookie(w.owner), body: map[string]any{"name": "X", "owner": map[string]string{"email": "x@example.com", "password": "x-password"}}}, status: 400, field: "owner.name"},
				{name: "owner without an email", req: req{cred: cookie(w.owner), body: map[string]any{"name": "X", "owner": map[string]string{"name": "X", "password": "x-password"}}}, status: 400, field: "owner.email"},
				{name: "taken owner email", req: req{cred: cookie(w.owner), body: map[string]any{"name": "X", "owner": map[string]string{"email": ownerEmail, "name": "X", "password": "x-password"}}}, status: 409, code: "conflict"},
			}
		},
	},
	"GET /api/v1/canned-replies": {},
	"POST /api/v1/canned-replies": {
		body:      func(*world) any { return map[string]string{"shortcut": "/thanks", "text": "Thank you!"} },
		wrongType: `{"shortcut":["/thanks"],"text":"Thank you!"}`, field: "shortcut",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			return append(cannedReplyBadCases(w, req{}),
				badCase{name: "taken shortcut", req: req{body: map[string]string{"shortcut": "/HELLO", "text": "x"}}, status: 409, code: "conflict"})
		},
	},
	"PUT /api/v1/canned-replies/{id}": {
		params:    func(w *world) map[string]string { return id(w.canned) },
		foreign:   func(w *world) map[string]string { return id(w.other.canned) },
		body:      func(*world) any { return map[string]string{"shortcut": "/hi", "text": "Hi!"} },
		wrongType: `{"shortcut":"/hi","text":7}`, field: "text",
		forbidden: agentSession,
		extra: func(e *env, w *world) []badCase {
			taken := e.seedCannedReply(key(w.key), "/taken")
			return append(cannedReplyBadCases(w, req{params: id(w.canned)}),
				badCase{name: "another reply's shortcut", req: req{params: id(taken), body: map[string]string{"shortcut": "/hello", "text": "x"}}, status: 409, code: "conflict"})
		},
	},
	"DELETE /api/v1/canned-replies/{id}": {
		params:    func(w *world) map[string]string { return id(w.canned) },
		foreign:   func(w *world) map[string]string { return id(w.other.canned) },
		forbidden: agentSession,
	},
}

func uploadCases(e *env, w *world) []badCase {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 120)...)
	html := []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>")
	overFile := append(pngBytes(), bytes.Repeat([]byte{0}, testUploadMax)...)
	overBody := append(pngBytes(), bytes.Repeat([]byte{0}, testUploadMax+multipartOverhead+1024)...)
	form := func(name, mime string, content []byte) req {
		ct, body := multipartBody(e.t, "file", name, mime, content)
		return req{body: body, contentType: ct}
	}
	noFile := func() req {
		ct, body := multipartBody(e.t, "other", "x.png", "image/png", pngBytes())
		return req{body: body, contentType: ct}
	}
	truncated := form("pic.png", "image/png", pngBytes())
	truncated.body = truncated.body.([]byte)[:len(truncated.body.([]byte))-20]
	return []badCase{
		{name: "HTML as HTML", req: form("page.html", "text/html", html), status: 415, code: "unsupported_type"},
		{name: "HTML named .png", req: form("page.png", "image/png", html), status: 415, code: "unsupported_type"},
		{name: "ELF named .png", req: form("cat.png", "image/png", elf), status: 415, code: "unsupported_type"},
		{name: "PNG declared as PDF", req: form("doc.pdf", "application/pdf", pngBytes()), status: 415, code: "unsupported_type"},
		{name: "file over the limit", req: form("big.png", "image/png", overFile), status: 413, code: "too_large"},
		{name: "body over the limit", req: form("big.png", "image/png", overBody), status: 413, code: "too_large"},
		{name: "empty file", req: form("empty.png", "image/png", nil), status: 400, field: "file"},
		{name: "no file part", req: noFile(), status: 400, field: "file"},
		{name: "truncated body", req: truncated, status: 400, code: "invalid"},
		{name: "JSON instead of a form", req: req{body: `{"file":"x"}`}, status: 415, code: "unsupported_type"},
	}
}

func fileCases(e *env, w *world) []badCase {
	own := e.fileRequest(w.upload.URL)
	mk := func(change func(*req)) req {
		r := own
		r.params = map[string]string{"appId": own.params["appId"], "uploadId": own.params["uploadId"]}
		change(&r)
		return r
	}
	return []badCase{
		{name: "no signature", req: mk(func(r *req) { r.query = "" }), status: 404, code: "not_found"},
		{name: "tampered signature", req: mk(func(r *req) { r.query = strings.Replace(r.query, "sig=", "sig=x", 1) }), status: 404, code: "not_found"},
		{name: "extended expiry", req: mk(func(r *req) { r.query = strings.Replace(r.query, "expires=", "expires=9", 1) }), status: 404, code: "not_found"},
		{name: "another app's upload with this signature", req: mk(func(r *req) { r.params["uploadId"] = w.other.upload.ID }), status: 404, code: "not_found"},
		{name: "another app's id as app", req: mk(func(r *req) { r.params["appId"] = e.fileRequest(w.other.upload.URL).params["appId"] }), status: 404, code: "not_found"},
		{name: "bad id characters", req: mk(func(r *req) { r.params["uploadId"] = "..%2F..%2Fetc" }), status: 404, code: "not_found"},
	}
}

// TestBadInputChangesNothing sends, to every route, each kind of bad request
// that applies to it and checks both the answer (status, error shape, the
// field named) and that the store and the file storage are unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	oversized := `{"text":"` + strings.Repeat("a", 1<<20) + `"}`

	for _, rt := range routes() {
		spec, ok := badInputSpecs[rt.pattern()]
		if !ok {
			t.Errorf("route %s has no entry in badInputSpecs", rt.pattern())
			continue
		}
		good := goodRequest(rt, w, anonymous())
		if rt.access != public {
			good.cred = key(w.key)
			if spec.cred != nil {
				good.cred = spec.cred(w)
			}
		}
		with := func(change func(*req)) req {
			r := good
			change(&r)
			return r
		}
		cases := []badCase{{name: "unknown method", req: with(func(r *req) { r.route = "BREW " + rt.path }), status: 405, code: "method_not_allowed"}}
		if rt.access != public {
			cases = append(cases,
				badCase{name: "no credentials", req: with(func(r *req) { r.cred = anonymous() }), status: 401, code: "unauthenticated"},
				badCase{name: "wrong API key", req: with(func(r *req) { r.cred = key("sbk_wrongwrongwrongwrongwrongwrong") }), status: 401, code: "unauthenticated"},
				badCase{name: "wrong bearer", req: with(func(r *req) { r.cred = bearer(bootstrapKey + "x") }), status: 401, code: "unauthenticated"},
				badCase{name: "forged session", req: with(func(r *req) { r.cred = cookie(&session{token: strings.Repeat("A", 43), csrf: w.owner.csrf}) }), status: 401, code: "unauthenticated"},
			)
			if unsafeMethod(rt.method) {
				cases = append(cases,
					badCase{name: "cookie without CSRF token", req: with(func(r *req) { r.cred = cookie(w.owner).withoutCSRF() }), status: 403, code: "forbidden"},
					badCase{name: "cookie with another session's CSRF token", req: with(func(r *req) {
						r.cred = cookie(w.owner)
						r.header = map[string]string{"X-CSRF-Token": w.agent.csrf}
					}), status: 403, code: "forbidden"},
					badCase{name: "cookie from another origin", req: with(func(r *req) { r.cred = cookie(w.owner).from("https://evil.example") }), status: 403, code: "forbidden"},
				)
			}
		}
		if spec.forbidden != nil {
			for _, c := range spec.forbidden(w) {
				cases = append(cases, badCase{name: "wrong role", req: with(func(r *req) { r.cred = c }), status: 403, code: "forbidden"})
			}
		}
		if spec.params != nil {
			unknown, odd := map[string]string{}, map[string]string{}
			for k := range good.params {
				unknown[k] = "0000000000000000000000000z"
				odd[k] = "bad$id"
			}
			cases = append(cases,
				badCase{name: "unknown id", req: with(func(r *req) { r.params = unknown }), status: 404, code: "not_found"},
				badCase{name: "malformed id", req: with(func(r *req) { r.params = odd }), status: 404, code: "not_found"},
				badCase{name: "another app's id", req: with(func(r *req) { r.params = spec.foreign(w) }), status: 404, code: "not_found"},
			)
		}
		if spec.body != nil {
			cases = append(cases,
				badCase{name: "malformed JSON", req: with(func(r *req) { r.body = `{"name":` }), status: 400, code: "invalid"},
				badCase{name: "not JSON at all", req: with(func(r *req) { r.body = `hello` }), status: 400, code: "invalid"},
				badCase{name: "empty body", req: with(func(r *req) { r.body = ` ` }), status: 400, code: "invalid"},
				badCase{name: "two JSON values", req: with(func(r *req) { r.body = `{} {}` }), status: 400, code: "invalid"},
				badCase{name: "oversized body", req: with(func(r *req) { r.body = oversized }), status: 413, code: "too_large"},
				badCase{name: "unknown field", req: with(func(r *req) { r.body = `{"bogus":1}` }), status: 400, field: "bogus"},
				badCase{name: "array instead of object", req: with(func(r *req) { r.body = `[]` }), status: 400, code: "invalid"},
				badCase{name: "wrong type", req: with(func(r *req) { r.body = spec.wrongType }), status: 400, field: spec.field},
				badCase{name: "wrong content type", req: with(func(r *req) { r.contentType = "text/plain" }), status: 415, code: "unsupported_type"},
			)
			if spec.wrongType == "" {
				t.Errorf("%s takes a body but its spec has no wrongType case", rt.pattern())
			}
		}
		if spec.extra != nil {
			for _, c := range spec.extra(e, w) {
				r := c.req
				r.route = rt.pattern()
				if r.cred == (cred{}) {
					r.cred = good.cred
				}
				if r.params == nil {
					r.params = good.params
				}
				c.req = r
				cases = append(cases, c)
			}
		}

		for _, c := range cases {
			t.Run(rt.pattern()+"/"+c.name, func(t *testing.T) {
				e.t = t
				before := e.snapshot()
				r := e.call(c.req)
				if r.status != c.status {
					t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
				}
				code, details := r.errorCode(t)
				if code == "" || details == nil {
					t.Fatalf("not the error shape: %s", r.body)
				}
				if c.code != "" && code != c.code {
					t.Errorf("code %q, want %q: %s", code, c.code, r.body)
				}
				if c.field != "" && details["field"] != c.field {
					t.Errorf("details.field %v, want %q: %s", details["field"], c.field, r.body)
				}
				if after := e.snapshot(); after != before {
					t.Errorf("the request changed the stored data:\nbefore: %s\nafter:  %s", before, after)
				}
			})
		}
	}
	e.t = t
	// The requests above were refused without disturbing anyone's session.
	e.must(200, req{route: "GET /api/v1/auth/me", cred: cookie(w.owner)})
}

// cannedReplyBadCases are the bodies a canned reply's create and update
// both refuse; base names the reply an update is about. A shortcut is
// compared in lower case, so "/HELLO" is the seeded "/hello".
func cannedReplyBadCases(w *world, base req) []badCase {
	bad := func(name string, body map[string]string, status int, field, code string) badCase {
		r := base
		r.body = body
		return badCase{name: name, req: r, status: status, field: field, code: code}
	}
	return []badCase{
		bad("empty shortcut", map[string]string{"shortcut": "", "text": "x"}, 400, "shortcut", ""),
		bad("slash only", map[string]string{"shortcut": "/", "text": "x"}, 400, "shortcut", ""),
		bad("shortcut with a space", map[string]string{"shortcut": "/he llo", "text": "x"}, 400, "shortcut", ""),
		bad("hostile shortcut", map[string]string{"shortcut": "/<script>", "text": "x"}, 400, "shortcut", ""),
		bad("long shortcut", map[string]string{"shortcut": "/" + strings.Repeat("a", 32), "text": "x"}, 400, "shortcut", ""),
		bad("empty text", map[string]string{"shortcut": "/x", "text": "  "}, 400, "text", ""),
		bad("long text", map[string]string{"shortcut": "/x", "text": strings.Repeat("a", 32<<10+1)}, 400, "text", ""),
		bad("an id in the body", map[string]string{"shortcut": "/x", "text": "x", "id": w.other.canned}, 400, "id", ""),
	}
}
