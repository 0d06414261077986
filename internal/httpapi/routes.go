package httpapi

import (
	"net/http"
)

// access says what a route needs from the caller before its handler runs.
type access int

const (
	// public routes need no credentials: probes, the OpenAPI document,
	// sign-in, and signed file links (whose signature is the authorisation).
	public access = iota
	// authenticated routes need an API key or a session cookie (with the
	// CSRF token on changes). Role checks are the service's: it knows
	// rules such as "agents set their own presence, admins anyone's".
	authenticated
	// contactOrStaff routes take what authenticated routes take, or a
	// conversation's contact by its token (ContactTokenHeader).
	contactOrStaff
)

// route is one entry of the route table.
type route struct {
	method string
	path   string // a net/http pattern path; also the OpenAPI path key
	access access
	handle func(*server, http.ResponseWriter, *http.Request) error
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routes is the one list of the server's endpoints. New registers exactly
// these (plus Options.Mount), and the OpenAPI test checks that each has an
// operation in openapi.json and the other way round.
func routes() []route {
	return []route{
		{"GET", "/healthz", public, (*server).healthz},
		{"GET", "/readyz", public, (*server).readyz},
		{"GET", "/metrics", public, (*server).serveMetrics},
		{"GET", "/api/v1/openapi.json", public, (*server).openapi},

		{"POST", "/api/v1/auth/login", public, (*server).login},
		{"POST", "/api/v1/auth/logout", authenticated, (*server).logout},
		{"GET", "/api/v1/auth/me", authenticated, (*server).me},
		{"POST", "/api/v1/auth/password", authenticated, (*server).changePassword},

		{"POST", "/api/v1/agents", authenticated, (*server).createAgent},
		{"GET", "/api/v1/agents", authenticated, (*server).listAgents},
		{"GET", "/api/v1/agents/{id}", authenticated, (*server).getAgent},
		{"PUT", "/api/v1/agents/{id}/presence", authenticated, (*server).setPresence},

		{"POST", "/api/v1/teams", authenticated, (*server).createTeam},
		{"GET", "/api/v1/teams", authenticated, (*server).listTeams},
		{"GET", "/api/v1/teams/{id}", authenticated, (*server).getTeam},

		{"GET", "/api/v1/teams/{id}/rules", authenticated, (*server).getTeamRules},
		{"PUT", "/api/v1/teams/{id}/rules", authenticated, (*server).putTeamRules},

		{"POST", "/api/v1/bots", authenticated, (*server).createBot},
		{"GET", "/api/v1/bots", authenticated, (*server).listBots},
		{"GET", "/api/v1/bots/{id}", authenticated, (*server).getBot},
		{"PATCH", "/api/v1/bots/{id}", authenticated, (*server).updateBot},
		{"DELETE", "/api/v1/bots/{id}", authenticated, (*server).deleteBot},
		{"POST", "/api/v1/bots/{id}/validate", authenticated, (*server).validateBot},
		{"POST", "/api/v1/lex/discover", authenticated, (*server).discoverLex},

		{"GET", "/api/v1/rules", authenticated, (*server).getRules},
		{"PUT", "/api/v1/rules", authenticated, (*server).putRules},

		{"POST", "/api/v1/conversations", authenticated, (*server).createConversation},
		{"GET", "/api/v1/conversations", authenticated, (*server).listConversations},
		{"GET", "/api/v1/conversations/{id}", authenticated, (*server).getConversation},
		{"POST", "/api/v1/conversations/{id}/status", authenticated, (*server).changeStatus},
		{"POST", "/api/v1/conversations/{id}/assignee", authenticated, (*server).changeAssignee},
		{"POST", "/api/v1/conversations/{id}/takeover", authenticated, (*server).takeOver},
		{"POST", "/api/v1/conversations/{id}/assign", authenticated, (*server).assign},
		{"POST", "/api/v1/conversations/{id}/csat", contactOrStaff, (*server).submitCSAT},
		{"POST", "/api/v1/conversations/{id}/talk-to-human", contactOrStaff, (*server).talkToHuman},
		{"GET", "/api/v1/conversations/{id}/messages", authenticated, (*server).listMessages},
		{"POST", "/api/v1/conversations/{id}/messages", authenticated, (*server).sendMessage},

		{"GET", "/api/v1/contacts/{id}", authenticated, (*server).getContact},
		{"PATCH", "/api/v1/contacts/{id}", authenticated, (*server).updateContact},
		{"POST", "/api/v1/contacts/{id}/token", authenticated, (*server).contactToken},

		{"POST", "/api/v1/uploads", authenticated, (*server).createUpload},
		{"GET", "/files/{appId}/{uploadId}", public, (*server).serveFile},

		{"POST", "/api/v1/apikeys", authenticated, (*server).createAPIKey},
		{"GET", "/api/v1/apikeys", authenticated, (*server).listAPIKeys},
		{"DELETE", "/api/v1/apikeys/{id}", authenticated, (*server).deleteAPIKey},

		{"POST", "/api/v1/apps", authenticated, (*server).createApp},

		{"POST", "/api/v1/webhooks", authenticated, (*server).createWebhook},
		{"GET", "/api/v1/webhooks", authenticated, (*server).listWebhooks},
		{"GET", "/api/v1/webhooks/{id}", authenticated, (*server).getWebhook},
		{"PATCH", "/api/v1/webhooks/{id}", authenticated, (*server).updateWebhook},
		{"DELETE", "/api/v1/webhooks/{id}", authenticated, (*server).deleteWebhook},
		{"GET", "/api/v1/webhooks/{id}/deliveries", authenticated, (*server).webhookDeliveries},
		{"POST", "/api/v1/webhooks/{id}/redeliver", authenticated, (*server).redeliverWebhook},

		{"GET", "/api/v1/analytics/summary", authenticated, (*server).analyticsSummary},

		{"POST", "/api/v1/invites", authenticated, (*server).createInvite},
		{"GET", "/api/v1/invites", authenticated, (*server).listInvites},
		{"DELETE", "/api/v1/invites/{id}", authenticated, (*server).deleteInvite},
		{"GET", "/api/v1/join/{token}", public, (*server).getJoin},
		{"POST", "/api/v1/join/{token}", public, (*server).acceptJoin},
		{"GET", "/api/v1/conversations/{id}/bot-context", authenticated, (*server).botContext},
		{"GET", "/api/v1/inbox", authenticated, (*server).inbox},
		{"POST", "/api/v1/conversations/{id}/notes", authenticated, (*server).addNote},
		{"GET", "/api/v1/conversations/{id}/notes", authenticated, (*server).listNotes},
		{"GET", "/api/v1/canned-replies", authenticated, (*server).listCannedReplies},
		{"POST", "/api/v1/canned-replies", authenticated, (*server).createCannedReply},
		{"PUT", "/api/v1/canned-replies/{id}", authenticated, (*server).updateCannedReply},
		{"DELETE", "/api/v1/canned-replies/{id}", authenticated, (*server).deleteCannedReply},

		{"POST", "/api/v1/widget/session", public, (*server).widgetSession},
		{"GET", "/api/v1/widget/settings", authenticated, (*server).getWidgetSettings},
		{"PUT", "/api/v1/widget/settings", authenticated, (*server).putWidgetSettings},
		{"GET", "/api/v1/widget/me", contactOrStaff, (*server).widgetMe},
		{"PATCH", "/api/v1/widget/me", contactOrStaff, (*server).updateWidgetMe},
		{"GET", "/api/v1/widget/conversations", contactOrStaff, (*server).widgetConversations},
		{"POST", "/api/v1/widget/conversations", contactOrStaff, (*server).startWidgetConversation},
		{"GET", "/api/v1/widget/conversations/{id}/messages", contactOrStaff, (*server).listMessages},
		{"POST", "/api/v1/widget/conversations/{id}/messages", contactOrStaff, (*server).sendMessage},
		{"POST", "/api/v1/widget/conversations/{id}/click", contactOrStaff, (*server).widgetClick},
		{"POST", "/api/v1/widget/uploads", contactOrStaff, (*server).createUpload},
		{"POST", "/api/v1/widget/conversations/{id}/read", contactOrStaff, (*server).markRead},
	}
}

// wrap turns a table entry into the handler registered on the mux.
func (s *server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access != public {
			authed, err := s.authenticateAs(rt.access, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = authed
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}
