package httpapi

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

// badLex is a well-formed "lex" object for requests that must be refused
// before anything is sent: its endpoint is a closed port, so a request the
// server wrongly let through fails loudly instead of reaching AWS.
func badLex(edit map[string]any) map[string]any {
	m := map[string]any{
		"region": "eu-west-1", "botId": lexlocaltest.OrderBotID, "botAliasId": lexlocaltest.TestAliasID,
		"accessKeyId": "AKIAEXAMPLE000000000", "secretAccessKey": "never-sent-secret", "endpoint": "http://127.0.0.1:1",
	}
	for k, v := range edit {
		m[k] = v
	}
	return m
}

// closedURL is a loopback address nothing listens on.
func closedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// lexForm is the "lex" object for a bot on srv.
func lexForm(srv lexlocaltest.Server, edit map[string]any) map[string]any {
	m := map[string]any{
		"region": srv.Region, "botId": lexlocaltest.OrderBotName, "botAliasId": lexlocaltest.ProdAliasName,
		"accessKeyId": srv.AccessKeyID, "secretAccessKey": srv.SecretAccessKey, "endpoint": srv.URL,
	}
	for k, v := range edit {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// TestLexBotsOverHTTP drives the Lex setup through the API against a real
// local runtime: create by name, read redacted, validate, every refusal
// with its own code, discovery, and no secret in any answer or log line.
func TestLexBotsOverHTTP(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	srv := lexlocaltest.Start(t, lexlocaltest.Brain)
	admin := key(w.key)

	var b botJSON
	r := e.must(201, req{route: "POST /api/v1/bots", cred: admin, body: map[string]any{
		"name": "Lexi", "type": "lex", "autoHandoff": true, "handleAllNewConversations": true,
		"lex": lexForm(srv, map[string]any{"defaultLocale": "de_DE", "maxConsecutiveFallbacks": 3}),
	}})
	r.json(t, &b)
	l := b.Lex
	if l == nil || l.BotID != lexlocaltest.OrderBotID || l.BotAliasID != lexlocaltest.ProdAliasID || !slices.Equal(l.Locales, []string{"de_DE", "en_US"}) ||
		l.SecretAccessKey != "********" || l.MaxConsecutiveFallbacks != 3 || l.HandoffAttribute != "handoff" || b.Status != "ok" || b.Webhook != nil || !b.HandleAllNewConversations {
		t.Fatalf("created: %s", r.body)
	}

	var got botJSON
	e.must(200, req{route: "GET /api/v1/bots/{id}", params: id(b.ID), cred: cookie(w.agent)}).json(t, &got)
	if got.Lex == nil || got.Lex.SecretAccessKey != "********" || got.Lex.DefaultLocale != "de_DE" {
		t.Fatalf("read: %+v", got.Lex)
	}

	// The form as read, sent back: the secret is kept and checked again.
	form := lexForm(srv, map[string]any{"secretAccessKey": "********", "botAliasId": lexlocaltest.TestAliasName, "defaultLocale": nil})
	e.must(200, req{route: "PATCH /api/v1/bots/{id}", params: id(b.ID), cred: cookie(w.owner), body: map[string]any{"lex": form}}).json(t, &got)
	if got.Lex.BotAliasID != lexlocaltest.TestAliasID || !slices.Equal(got.Lex.Locales, []string{"en_US", "es_419"}) {
		t.Fatalf("patched: %+v", got.Lex)
	}
	// The dashboard's round trip: the object as read, sent back whole.
	var read map[string]any
	e.must(200, req{route: "GET /api/v1/bots/{id}", params: id(b.ID), cred: admin}).json(t, &read)
	e.must(200, req{route: "PATCH /api/v1/bots/{id}", params: id(b.ID), cred: admin, body: map[string]any{"lex": read["lex"]}}).json(t, &got)
	if got.Lex.BotAliasID != lexlocaltest.TestAliasID || got.Lex.SecretAccessKey != "********" {
		t.Fatalf("round trip: %+v", got.Lex)
	}
	e.must(200, req{route: "POST /api/v1/bots/{id}/validate", params: id(b.ID), cred: cookie(w.owner)}).json(t, &got)
	if got.Status != "ok" || got.ID != b.ID || got.Lex.SecretAccessKey != "********" {
		t.Fatalf("validated: %+v", got)
	}

	var disc struct {
		Bots []struct {
			BotID   string `json:"botId"`
			BotName string `json:"botName"`
			Aliases []struct {
				BotAliasID   string   `json:"botAliasId"`
				BotAliasName string   `json:"botAliasName"`
				Locales      []string `json:"locales"`
			} `json:"aliases"`
		} `json:"bots"`
	}
	e.must(200, req{route: "POST /api/v1/lex/discover", cred: cookie(w.owner), body: map[string]any{
		"region": srv.Region, "accessKeyId": srv.AccessKeyID, "secretAccessKey": srv.SecretAccessKey, "endpoint": srv.URL,
	}}).json(t, &disc)
	if len(disc.Bots) != 2 || disc.Bots[0].BotID != lexlocaltest.OrderBotID || len(disc.Bots[0].Aliases) != 2 ||
		disc.Bots[1].BotName != lexlocaltest.SupportBotName || !slices.Equal(disc.Bots[1].Aliases[0].Locales, []string{"en_GB"}) {
		t.Fatalf("discovery: %+v", disc)
	}

	// Each refusal has its own code; none of them stores anything.
	before := e.snapshot()
	for _, tc := range []struct {
		name  string
		lex   map[string]any
		code  string
		field string
		words string
	}{
		{"wrong keys", lexForm(srv, map[string]any{"accessKeyId": "AKIAWRONG00000000000"}), "lex_credentials_invalid", "lex.accessKeyId", "check both keys"},
		{"wrong secret", lexForm(srv, map[string]any{"secretAccessKey": "wrong-secret-value"}), "lex_credentials_invalid", "lex.accessKeyId", "check both keys"},
		{"missing permission", lexForm(srv, map[string]any{"accessKeyId": srv.RestrictedAccessKeyID, "secretAccessKey": srv.RestrictedSecretAccessKey}),
			"lex_permission_denied", "lex.accessKeyId", "AmazonLexRunBotsOnly"},
		{"unknown bot", lexForm(srv, map[string]any{"botId": "NOSUCHBOT1"}), "lex_bot_not_found", "lex.botId", "no such bot"},
		{"unknown alias", lexForm(srv, map[string]any{"botAliasId": "NOSUCHALI1"}), "lex_alias_not_found", "lex.botAliasId", "NOSUCHALI1"},
		{"bad region", lexForm(srv, map[string]any{"region": "sa-nowhere-3"}), "lex_region_invalid", "lex.region", "sa-nowhere-3"},
		{"unreachable endpoint", lexForm(srv, map[string]any{"endpoint": closedURL(t)}), "lex_endpoint_unreachable", "lex.endpoint", "could not reach"},
		{"locale not enabled", lexForm(srv, map[string]any{"defaultLocale": "ja_JP"}), "lex_locale_not_enabled", "lex.defaultLocale", "ja_JP"},
	} {
		r := e.call(req{route: "POST /api/v1/bots", cred: admin, body: map[string]any{"name": "Refused", "type": "lex", "lex": tc.lex}})
		code, details := r.errorCode(t)
		if r.status != 422 || code != tc.code || details["field"] != tc.field || !strings.Contains(string(r.body), tc.words) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
		for _, secret := range []string{srv.SecretAccessKey, srv.RestrictedSecretAccessKey, "wrong-secret-value"} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("%s: the answer holds a secret", tc.name)
			}
		}
	}
	r = e.call(req{route: "PATCH /api/v1/bots/{id}", params: id(b.ID), cred: admin, body: map[string]any{"lex": lexForm(srv, map[string]any{"botAliasId": "NOSUCHALI1"})}})
	if code, _ := r.errorCode(t); r.status != 422 || code != "lex_alias_not_found" {
		t.Errorf("patch to an unknown alias: %d %s", r.status, r.body)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("refused saves changed the stored data:\nbefore: %s\nafter:  %s", before, after)
	}

	// Another app sees none of it.
	e.must(404, req{route: "POST /api/v1/bots/{id}/validate", params: id(b.ID), cred: key(w.other.key)})
	e.must(404, req{route: "GET /api/v1/bots/{id}", params: id(b.ID), cred: key(w.other.key)})

	logs := e.logs.String()
	for _, secret := range []string{srv.SecretAccessKey, srv.RestrictedSecretAccessKey, "wrong-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Error("a Lex secret appears in the logs")
		}
	}
	checkNoSecretsLogged(t, e, w)
}
