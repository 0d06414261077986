package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// seedInvite creates an invitation through the API and returns its id and
// token.
func (e *env) seedInvite(c cred, email string) (string, string) {
	e.t.Helper()
	var inv struct {
		ID    string `json:"id"`
		Token string `json:"token"`
		URL   string `json:"url"`
	}
	e.must(201, req{route: "POST /api/v1/invites", cred: c, body: map[string]string{"email": email}}).json(e.t, &inv)
	if inv.Token == "" || !strings.HasSuffix(inv.URL, "/#/invite/"+inv.Token) {
		e.t.Fatalf("created invitation without its link: %+v", inv)
	}
	return inv.ID, inv.Token
}

func tok(v string) map[string]string { return map[string]string{"token": v} }

// Bad input for the dashboard's routes, merged into badInputSpecs. The
// invitation routes seed their own invitations in extra: the shared world
// has none.
func init() {
	specs := map[string]routeSpec{
		"POST /api/v1/invites": {
			body:      func(*world) any { return map[string]string{"email": "invitee@example.com", "role": "agent"} },
			wrongType: `{"role":5}`, field: "role",
			forbidden: agentSession,
			extra: func(e *env, w *world) []badCase {
				return []badCase{
					{name: "owner role", req: req{body: map[string]string{"role": "owner"}}, status: 400, field: "role"},
					{name: "unknown role", req: req{body: map[string]string{"role": "god"}}, status: 400, field: "role"},
					{name: "bad email", req: req{body: map[string]string{"email": "not an email"}}, status: 400, field: "email"},
					{name: "email with an account", req: req{body: map[string]string{"email": "agent@example.com"}}, status: 409, field: "email"},
				}
			},
		},
		"GET /api/v1/invites": {forbidden: agentSession},
		"DELETE /api/v1/invites/{id}": {
			extra: func(e *env, w *world) []badCase {
				own, _ := e.seedInvite(key(w.key), "")
				foreign, _ := e.seedInvite(key(w.other.key), "")
				return []badCase{
					{name: "unknown id", req: req{params: id("0000000000000000000000000z")}, status: 404, code: "not_found"},
					{name: "malformed id", req: req{params: id("bad$id")}, status: 404, code: "not_found"},
					{name: "another app's id", req: req{params: id(foreign)}, status: 404, code: "not_found"},
					{name: "wrong role", req: req{params: id(own), cred: cookie(w.agent)}, status: 403, code: "forbidden"},
				}
			},
		},
		"GET /api/v1/join/{token}": {
			extra: func(e *env, w *world) []badCase {
				_, token := e.seedInvite(key(w.key), "")
				return []badCase{
					{name: "unknown token", req: req{params: tok(strings.Repeat("A", 43))}, status: 404, code: "not_found"},
					{name: "short token", req: req{params: tok("abc")}, status: 404, code: "not_found"},
					{name: "token with one character changed", req: req{params: tok(token[:42] + flip(token[42]))}, status: 404, code: "not_found"},
				}
			},
		},
		"POST /api/v1/join/{token}": {
			body: func(*world) any {
				return map[string]string{"name": "Invitee", "email": "joiner@example.com", "password": "joiner-password"}
			},
			wrongType: `{"name":5,"password":"joiner-password"}`, field: "name",
			extra: func(e *env, w *world) []badCase {
				_, open := e.seedInvite(key(w.key), "")
				_, fixed := e.seedInvite(key(w.key), "fixed@example.com")
				good := map[string]string{"name": "Invitee", "email": "joiner@example.com", "password": "joiner-password"}
				with := func(k, v string) map[string]string {
					m := map[string]string{}
					for a, b := range good {
						m[a] = b
					}
					m[k] = v
					return m
				}
				return []badCase{
					{name: "unknown token", req: req{params: tok(strings.Repeat("A", 43)), body: good}, status: 404, code: "not_found"},
					{name: "cross-site", req: req{params: tok(open), body: good, header: map[string]string{"Origin": "https://evil.example"}}, status: 403, code: "forbidden"},
					{name: "short password", req: req{params: tok(open), body: with("password", "short")}, status: 400, field: "password"},
					{name: "no name", req: req{params: tok(open), body: with("name", "")}, status: 400, field: "name"},
					{name: "bad email", req: req{params: tok(open), body: with("email", "nope")}, status: 400, field: "email"},
					{name: "email with an account", req: req{params: tok(open), body: with("email", "agent@example.com")}, status: 409, field: "email"},
					{name: "another email than invited", req: req{params: tok(fixed), body: with("email", "someone@example.com")}, status: 400, field: "email"},
				}
			},
		},
		"GET /api/v1/inbox": {
			query: "status=open,waiting&assignee=none&q=dana",
			extra: func(e *env, w *world) []badCase {
				return []badCase{
					{name: "unknown status in the list", req: req{query: "status=open,asleep"}, status: 400, field: "status"},
					{name: "bad assignee", req: req{query: "assignee=someone"}, status: 400, field: "assignee"},
					{name: "limit too big", req: req{query: "limit=100000"}, status: 400, field: "limit"},
					{name: "search too long", req: req{query: "q=" + strings.Repeat("x", 201)}, status: 400, field: "q"},
					{name: "bad cursor", req: req{query: "cursor=%25%25"}, status: 400, field: "cursor"},
					{name: "bad team id", req: req{query: "teamId=bad$id"}, status: 400, field: "teamId"},
				}
			},
		},
		"POST /api/v1/conversations/{id}/notes": {
			cred:   func(w *world) cred { return cookie(w.agent) },
			params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
			body:      func(*world) any { return map[string]string{"text": "VIP customer"} },
			wrongType: `{"text":5}`, field: "text",
			forbidden: func(w *world) []cred { return []cred{key(w.key)} },
			extra: func(e *env, w *world) []badCase {
				return []badCase{
					{name: "empty note", req: req{body: map[string]string{"text": "   "}}, status: 400, field: "text"},
					{name: "note too long", req: req{body: map[string]string{"text": strings.Repeat("é", 10001)}}, status: 400, field: "text"},
				}
			},
		},
		"GET /api/v1/conversations/{id}/notes": {
			params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		},
		"GET /api/v1/conversations/{id}/bot-context": {
			params: ownID, foreign: func(w *world) map[string]string { return id(w.other.conv.ID) },
		},
	}
	for k, v := range specs {
		badInputSpecs[k] = v
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// An admin invites; the invitee reads the invitation, accepts it and is
// signed in with the invited role; the link then no longer works, and the
// new agent cannot reach admin routes.
func TestInviteFlow(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	inviteID, token := e.seedInvite(cookie(w.owner), "")

	var list struct {
		Invites []struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		} `json:"invites"`
	}
	e.must(200, req{route: "GET /api/v1/invites", cred: cookie(w.owner)}).json(t, &list)
	if len(list.Invites) != 1 || list.Invites[0].ID != inviteID || list.Invites[0].Token != "" {
		t.Fatalf("open invitations = %+v (the token must not be listed)", list.Invites)
	}
	var info struct {
		Role  string `json:"role"`
		Email string `json:"email"`
	}
	e.must(200, req{route: "GET /api/v1/join/{token}", params: tok(token)}).json(t, &info)
	if info.Role != "agent" || info.Email != "" {
		t.Fatalf("invitation as the invitee sees it = %+v", info)
	}

	r := e.must(201, req{route: "POST /api/v1/join/{token}", params: tok(token),
		body: map[string]string{"name": "New Person", "email": "New.Person@Example.com", "password": "new-person-password"}})
	var joined struct {
		Agent struct {
			ID    string `json:"id"`
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"agent"`
		CSRFToken string `json:"csrfToken"`
	}
	r.json(t, &joined)
	if joined.Agent.Role != "agent" || joined.Agent.Email != "new.person@example.com" || joined.CSRFToken == "" {
		t.Fatalf("accepted = %+v", joined)
	}
	var sess *session
	for _, c := range r.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(c, "switchboard_session="); ok {
			sess = &session{token: strings.SplitN(v, ";", 2)[0], csrf: joined.CSRFToken}
		}
	}
	if sess == nil {
		t.Fatal("accepting did not sign the invitee in")
	}
	e.must(200, req{route: "GET /api/v1/auth/me", cred: cookie(sess)})
	e.must(403, req{route: "GET /api/v1/invites", cred: cookie(sess)})
	e.must(403, req{route: "GET /api/v1/analytics/summary", cred: cookie(sess)})

	// Once used, the link is dead, for reading and for accepting.
	e.must(404, req{route: "GET /api/v1/join/{token}", params: tok(token)})
	e.must(404, req{route: "POST /api/v1/join/{token}", params: tok(token),
		body: map[string]string{"name": "Second", "email": "second@example.com", "password": "second-password"}})
	e.must(200, req{route: "GET /api/v1/invites", cred: cookie(w.owner)}).json(t, &list)
	if len(list.Invites) != 0 {
		t.Fatalf("a used invitation is still listed: %+v", list.Invites)
	}

	// A revoked link is dead too.
	revoked, token2 := e.seedInvite(key(w.key), "fixed@example.com")
	e.must(http.StatusNoContent, req{route: "DELETE /api/v1/invites/{id}", cred: key(w.key), params: id(revoked)})
	e.must(404, req{route: "GET /api/v1/join/{token}", params: tok(token2)})
}

// The bot context of a conversation the demo-less test world never handed
// off is empty but well formed; after an agent takes a bot's conversation
// over, it names the bot and the reason in words.
func TestBotContext(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	var bc struct {
		BotID             string            `json:"botId"`
		SessionAttributes map[string]string `json:"sessionAttributes"`
		LastHandoff       *struct {
			Reason     string `json:"reason"`
			ReasonText string `json:"reasonText"`
			BotID      string `json:"botId"`
		} `json:"lastHandoff"`
	}
	e.must(200, req{route: "GET /api/v1/conversations/{id}/bot-context", cred: cookie(w.agent), params: ownID(w)}).json(t, &bc)
	if bc.LastHandoff != nil || bc.SessionAttributes == nil {
		t.Fatalf("bot context before any handoff = %+v", bc)
	}

	var conv conversationJSON
	e.must(201, req{route: "POST /api/v1/conversations", cred: key(w.key), body: map[string]any{
		"contact": map[string]any{"name": "Handed"}, "assignee": map[string]string{"type": "bot", "id": w.bot.ID}, "skipRouting": true}}).json(t, &conv)
	e.must(200, req{route: "POST /api/v1/conversations/{id}/takeover", cred: cookie(w.agent), params: id(conv.ID), body: map[string]any{}})
	e.must(200, req{route: "GET /api/v1/conversations/{id}/bot-context", cred: cookie(w.agent), params: id(conv.ID)}).json(t, &bc)
	if bc.LastHandoff == nil || bc.LastHandoff.Reason != "take_over" || bc.LastHandoff.ReasonText != "an agent took over" || bc.LastHandoff.BotID != w.bot.ID || bc.BotID != w.bot.ID {
		t.Fatalf("bot context after a take-over = %+v (handoff %+v)", bc, bc.LastHandoff)
	}
}

// walkDashboard is TestWalkEveryRoute's part for the dashboard's routes.
func (e *env) walkDashboard(w *world) {
	e.t.Helper()
	owner := cookie(w.owner)
	e.must(200, req{route: "GET /api/v1/conversations/{id}/bot-context", params: id(w.conv.ID), cred: cookie(w.agent)})
	var page struct {
		Items []struct {
			Conversation conversationJSON `json:"conversation"`
			Contact      struct {
				ID string `json:"id"`
			} `json:"contact"`
		} `json:"items"`
	}
	e.must(201, req{route: "POST /api/v1/conversations/{id}/notes", params: id(w.conv.ID), cred: cookie(w.agent), body: map[string]string{"text": "Promised a callback"}})
	var notes struct {
		Notes []struct {
			Text string `json:"text"`
		} `json:"notes"`
	}
	e.must(200, req{route: "GET /api/v1/conversations/{id}/notes", params: id(w.conv.ID), cred: owner}).json(e.t, &notes)
	if len(notes.Notes) != 1 || notes.Notes[0].Text != "Promised a callback" {
		e.t.Errorf("notes = %+v", notes)
	}
	e.must(200, req{route: "GET /api/v1/inbox", cred: cookie(w.agent), query: "status=open,resolved,waiting&limit=5"}).json(e.t, &page)
	if len(page.Items) == 0 || page.Items[0].Contact.ID != page.Items[0].Conversation.ContactID {
		e.t.Errorf("inbox page = %+v", page)
	}
	spare, _ := e.seedInvite(owner, "")
	e.must(200, req{route: "GET /api/v1/invites", cred: key(w.key)})
	e.must(204, req{route: "DELETE /api/v1/invites/{id}", params: id(spare), cred: owner})
	_, token := e.seedInvite(key(w.key), "walker@example.com")
	e.must(200, req{route: "GET /api/v1/join/{token}", params: tok(token)})
	e.must(201, req{route: "POST /api/v1/join/{token}", params: tok(token), body: map[string]string{"name": "Walker", "password": "walker-password"}})
}
