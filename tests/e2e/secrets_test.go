package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

// TestNoSecretInLogsOrLists runs the binary at debug level through a flow
// that handles every kind of secret the product knows, then searches all
// it printed (stdout and stderr) for each secret's value, and checks that
// the lists an admin reads show them masked or not at all.
func TestNoSecretInLogsOrLists(t *testing.T) {
	const (
		secretKey     = "c2VjcmV0LWtleS1mb3ItdGhlLWUyZS1zZWNyZXRzLXRlc3QhIQ=="
		adminPassword = "admin-password-e2e-9f3k"
		agentPassword = "agent-password-e2e-7q2m"
		botHeader     = "bot-header-secret-e2e-5t8w"
		hookSecret    = "whsec_RTJFc2VjcmV0c1Rlc3RXZWJob29rU2VjcmV0MDE="
		hookPassword  = "hook-basic-password-e2e-4v6z"
	)
	lex := lexlocaltest.Start(t, lexlocaltest.Brain)
	n := startNode(t, map[string]string{
		"SWITCHBOARD_DATA_DIR":              t.TempDir(),
		"SWITCHBOARD_SECRET_KEY":            secretKey,
		"SWITCHBOARD_BOOTSTRAP_API_KEY":     bootstrapKey,
		"SWITCHBOARD_ADMIN_EMAIL":           "owner@example.com",
		"SWITCHBOARD_ADMIN_PASSWORD":        adminPassword,
		"SWITCHBOARD_LOG_LEVEL":             "debug",
		"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
	})
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	secrets := map[string]string{
		"secret key": secretKey, "admin password": adminPassword, "bootstrap API key": bootstrapKey,
		"agent password": agentPassword, "bot header value": botHeader, "webhook secret": hookSecret,
		"webhook basic-auth password": hookPassword, "Lex secret access key": lex.SecretAccessKey,
	}

	// Sign-ins, one of them failed.
	sessionToken := signIn(t, n, "owner@example.com", adminPassword, http.StatusOK)
	secrets["session token"] = sessionToken
	signIn(t, n, "owner@example.com", adminPassword+"-wrong", http.StatusUnauthorized)
	api.do("POST", "/api/v1/agents", map[string]string{"email": "agent@example.com", "name": "Agent", "password": agentPassword, "role": "agent"}, 201, nil)
	signIn(t, n, "agent@example.com", agentPassword, http.StatusOK)

	var key struct {
		Key string `json:"key"`
	}
	api.do("POST", "/api/v1/apikeys", map[string]string{"name": "crm"}, 201, &key)
	secrets["created API key"] = key.Key

	api.do("POST", "/api/v1/bots", map[string]any{"name": "Hook", "type": "webhook",
		"webhook": map[string]any{"url": "http://127.0.0.1:1/hook", "headerName": "X-Api-Key", "headerValue": botHeader}}, 201, nil)
	api.do("POST", "/api/v1/bots", map[string]any{"name": "Lexi", "type": "lex", "lex": map[string]any{
		"region": lex.Region, "botId": lexlocaltest.OrderBotName, "botAliasId": lexlocaltest.ProdAliasName,
		"accessKeyId": lex.AccessKeyID, "secretAccessKey": lex.SecretAccessKey, "endpoint": lex.URL}}, 201, nil)
	api.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/in", "events": []string{"*"},
		"secret": hookSecret, "basicAuth": "crm:" + hookPassword}, 201, nil)

	var settings struct {
		IdentitySecret string `json:"identitySecret"`
	}
	api.do("PUT", "/api/v1/widget/settings", map[string]any{"identityVerification": true}, 200, nil)
	api.do("GET", "/api/v1/widget/settings", nil, 200, &settings)
	if settings.IdentitySecret == "" {
		t.Fatal("no widget identity secret to look for")
	}
	secrets["widget identity secret"] = settings.IdentitySecret

	var conv struct {
		ID        string `json:"id"`
		ContactID string `json:"contactId"`
	}
	api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": "u-1", "name": "Ann"}}, 201, &conv)
	var tok struct {
		Token string `json:"token"`
	}
	api.do("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, 201, &tok)
	secrets["contact token"] = tok.Token
	contact := n.client(map[string]string{"X-Contact-Token": tok.Token})
	contact.do("POST", "/api/v1/widget/conversations/"+conv.ID+"/messages", map[string]any{"text": "hello"}, 201, nil)

	// What an admin reads back: the lists and single reads never carry a
	// secret's value.
	for _, path := range []string{"/api/v1/bots", "/api/v1/webhooks", "/api/v1/apikeys", "/api/v1/agents", "/api/v1/auth/me"} {
		var raw json.RawMessage
		api.do("GET", path, nil, 200, &raw)
		for what, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("GET %s returns the %s", path, what)
			}
		}
	}

	// Let background work (bot turns, webhook attempts) log what it will.
	time.Sleep(2 * time.Second)
	n.stop()
	out := n.out.String()
	if !strings.Contains(out, "signed in") {
		t.Fatalf("the node's debug output is missing its sign-in lines; is the log captured?\n%s", out)
	}
	for what, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the %s appears in the node's output", what)
		}
	}
}

// signIn posts credentials and returns the session cookie's value ("" when
// refused with want).
func signIn(t *testing.T, n *node, email, password string, want int) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := http.Post(n.url("/api/v1/auth/login"), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("sign-in as %s: status %d, want %d", email, resp.StatusCode, want)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "switchboard_session" {
			return c.Value
		}
	}
	return ""
}
