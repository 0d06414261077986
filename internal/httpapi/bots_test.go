package httpapi

import (
	"strings"
	"testing"
)

// TestBotsAndRules walks the admin's path: a webhook bot with a secret
// header that never comes back, the handle-all mark moving between bots,
// rules naming the bot, and a team override with its own hours.
func TestBotsAndRules(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	owner := cookie(w.owner)

	if w.bot.Webhook == nil || w.bot.Webhook.HeaderValue != "********" || w.bot.Webhook.TimeoutSeconds != 10 || !w.bot.Enabled || w.bot.HandleAllNewConversations {
		t.Fatalf("seeded bot = %+v", w.bot)
	}
	var a, b botJSON
	e.must(201, req{route: "POST /api/v1/bots", cred: owner, body: map[string]any{"name": "A", "type": "webhook", "handleAllNewConversations": true, "autoHandoff": true,
		"webhook": map[string]any{"url": "https://a.example.com", "headerName": "Authorization", "headerValue": "Bearer a-secret-token", "timeoutSeconds": 5}}}).json(t, &a)
	if !a.HandleAllNewConversations || !a.AutoHandoff || a.Webhook.TimeoutSeconds != 5 {
		t.Fatalf("A = %+v", a)
	}
	e.must(201, req{route: "POST /api/v1/bots", cred: owner, body: map[string]any{"name": "B", "type": "webhook", "enabled": false, "webhook": map[string]any{"url": "https://b.example.com"}}}).json(t, &b)
	if b.Enabled || b.Webhook.HeaderValue != "" {
		t.Fatalf("B = %+v", b)
	}
	// B takes the mark from A.
	e.must(200, req{route: "PATCH /api/v1/bots/{id}", params: id(b.ID), cred: owner, body: map[string]any{"handleAllNewConversations": true}}).json(t, &b)
	e.must(200, req{route: "GET /api/v1/bots/{id}", params: id(a.ID), cred: owner}).json(t, &a)
	if !b.HandleAllNewConversations || a.HandleAllNewConversations {
		t.Fatalf("after the move: A %v, B %v", a.HandleAllNewConversations, b.HandleAllNewConversations)
	}
	var rules map[string]any
	e.must(200, req{route: "GET /api/v1/rules", cred: owner}).json(t, &rules)
	if rules["botRouting"] != true || rules["handleAllBotId"] != b.ID {
		t.Fatalf("rules = %v", rules)
	}
	// Saving A's form as read keeps its secret; the list never shows it.
	e.must(200, req{route: "PATCH /api/v1/bots/{id}", params: id(a.ID), cred: owner, body: map[string]any{"webhook": map[string]any{"url": "https://a.example.com/v2", "headerName": "Authorization", "headerValue": "********"}}})
	bot, err := e.svc.BotSettings(t.Context(), w.owner.agent.AppID, a.ID)
	if err != nil || !strings.Contains(string(bot.Settings), "Bearer a-secret-token") || !strings.Contains(string(bot.Settings), "/v2") {
		t.Fatalf("engine view after redacted save: %s, %v", bot.Settings, err)
	}
	list := e.must(200, req{route: "GET /api/v1/bots", cred: owner})
	if strings.Contains(string(list.body), "a-secret-token") || strings.Contains(string(list.body), botSecret) {
		t.Fatalf("a secret came back: %s", list.body)
	}

	// Team override with its own hours; the app's hours stay unset.
	var team map[string]any
	e.must(200, req{route: "PUT /api/v1/teams/{id}/rules", params: id(w.team.ID), cred: owner, body: map[string]any{
		"botRouting": false, "autoResolveMinutes": 30,
		"businessHours": map[string]any{"timeZone": "Asia/Tokyo", "weekly": map[string]any{"monday": []map[string]string{{"start": "09:00", "end": "17:30"}}}},
	}}).json(t, &team)
	hours, _ := team["businessHours"].(map[string]any)
	if team["botRouting"] != false || team["autoResolveMinutes"] != float64(30) || hours["timeZone"] != "Asia/Tokyo" {
		t.Fatalf("team rules = %v", team)
	}
	eff, bh, err := e.svc.EffectiveRules(t.Context(), w.owner.agent.AppID, w.team.ID)
	if err != nil || eff.BotRouting || bh.Location.String() != "Asia/Tokyo" {
		t.Fatalf("effective = %+v %v, %v", eff, bh.Location, err)
	}

	// Deleting the handle-all bot turns bot routing off.
	e.must(204, req{route: "DELETE /api/v1/bots/{id}", params: id(b.ID), cred: owner})
	rules = nil // json.Unmarshal into a map merges; start afresh
	e.must(200, req{route: "GET /api/v1/rules", cred: owner}).json(t, &rules)
	if rules["botRouting"] != false || rules["handleAllBotId"] != nil {
		t.Fatalf("rules after delete = %v", rules)
	}
	e.must(404, req{route: "GET /api/v1/bots/{id}", params: id(b.ID), cred: owner})
	checkNoSecretsLogged(t, e, w)
	if strings.Contains(e.logs.String(), "a-secret-token") {
		t.Fatal("a bot secret reached the logs")
	}
}
