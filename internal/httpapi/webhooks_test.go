package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/webhook"
)

type webhookJSONView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason"`
	Secret         string   `json:"secret"`
	HasBasicAuth   bool     `json:"hasBasicAuth"`
}

type webhookLogJSON struct {
	Deliveries []struct {
		ID      string `json:"id"`
		EventID string `json:"eventId"`
		State   string `json:"state"`
	} `json:"deliveries"`
	Attempts []struct {
		StatusCode int `json:"statusCode"`
	} `json:"attempts"`
}

// seedWebhook adds an endpoint for every event and a message that gives
// it one event to show, and returns the endpoint's and event's ids.
func (e *env) seedWebhook(c cred, convID string) (string, string) {
	e.t.Helper()
	var v webhookJSONView
	e.must(201, req{route: "POST /api/v1/webhooks", cred: c, body: map[string]any{"url": "https://hooks.example.com/in", "events": []string{"*"}}}).json(e.t, &v)
	e.must(201, req{route: "POST /api/v1/conversations/{id}/messages", params: id(convID), cred: c, body: map[string]any{"text": "for the webhook", "sender": map[string]string{"type": "contact"}}})
	var log webhookLogJSON
	e.must(200, req{route: "GET /api/v1/webhooks/{id}/deliveries", params: id(v.ID), cred: c}).json(e.t, &log)
	if len(log.Deliveries) == 0 {
		e.t.Fatal("the seeded webhook got no delivery")
	}
	return v.ID, log.Deliveries[0].EventID
}

func TestWebhookSecrets(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var v webhookJSONView
	e.must(201, req{route: "POST /api/v1/webhooks", cred: key(w.key), body: map[string]any{"url": "https://a.example.com/x",
		"events": []string{"message.created", "csat.submitted"}, "secret": secret, "basicAuth": "user:pass-word-77"}}).json(t, &v)
	if v.Secret != secret || !v.HasBasicAuth || !v.Enabled || len(v.Events) != 2 {
		t.Fatalf("created %+v", v)
	}
	var gen webhookJSONView
	e.must(201, req{route: "POST /api/v1/webhooks", cred: key(w.key), body: map[string]any{"url": "https://b.example.com/x", "events": []string{"*"}}}).json(t, &gen)
	if !strings.HasPrefix(gen.Secret, "whsec_") || len(gen.Secret) < 40 || gen.HasBasicAuth {
		t.Fatalf("generated secret %q", gen.Secret)
	}
	// Never again after creation: not in a read, a list or a change
	// that leaves the secret alone.
	for _, r := range []resp{
		e.must(200, req{route: "GET /api/v1/webhooks/{id}", params: id(v.ID), cred: key(w.key)}),
		e.must(200, req{route: "GET /api/v1/webhooks", cred: key(w.key)}),
		e.must(200, req{route: "PATCH /api/v1/webhooks/{id}", params: id(v.ID), cred: key(w.key), body: map[string]any{"enabled": false}}),
	} {
		if strings.Contains(string(r.body), "whsec_") || strings.Contains(string(r.body), "pass-word-77") {
			t.Fatalf("a secret came back: %s", r.body)
		}
	}
	var rotated webhookJSONView
	e.must(200, req{route: "PATCH /api/v1/webhooks/{id}", params: id(v.ID), cred: key(w.key), body: map[string]any{"secret": gen.Secret, "basicAuth": ""}}).json(t, &rotated)
	if rotated.Secret != gen.Secret || rotated.HasBasicAuth || rotated.Enabled {
		t.Fatalf("after rotation %+v", rotated)
	}
	for body, field := range map[string]string{
		`{"url":"https://x.example.com","events":["*"],"secret":"nope"}`:           "secret",
		`{"url":"https://x.example.com","events":["*"],"secret":"whsec_c2hvcnQ="}`: "secret",
		`{"url":"https://x.example.com","events":["*"],"basicAuth":"no-colon"}`:    "basicAuth",
		`{"url":"https://u:p@x.example.com","events":["*"]}`:                       "url",
		`{"url":"https://x.example.com","events":[]}`:                              "events",
		`{"url":"https://x.example.com","events":["message.deleted"]}`:             "events",
		`{"events":["*"]}`: "url",
		`{"url":"https://x.example.com","events":["*"],"basicAuth":"a:b\r\nX-Evil: 1"}`: "basicAuth",
	} {
		r := e.call(req{route: "POST /api/v1/webhooks", cred: key(w.key), body: body})
		if r.status != 400 {
			t.Fatalf("%s: status %d: %s", body, r.status, r.body)
		}
		if _, d := r.errorCode(t); d["field"] != field {
			t.Fatalf("%s: field %v, want %s", body, d["field"], field)
		}
	}
	checkNoSecretsLogged(t, e, w)
	if logs := e.logs.String(); strings.Contains(logs, gen.Secret) || strings.Contains(logs, secret) {
		t.Fatal("a webhook secret reached the logs")
	}
}

// sendWebhooks plays the delivery worker: every due delivery is answered
// with status.
func (e *env) sendWebhooks(status int) {
	e.t.Helper()
	ctx := context.Background()
	for range 20 {
		ds, err := e.store.ClaimWebhookDeliveries(ctx, "test-node", time.Minute, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ds) == 0 {
			return
		}
		for _, d := range ds {
			if _, err := e.store.FinishWebhookDelivery(ctx, d.ID, d.LeaseToken, webhook.Outcome{Attempt: webhook.Attempt{StatusCode: status}}); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	e.t.Fatal("the webhook queue never drained")
}

func TestWebhookLogAndRedelivery(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	e.sendWebhooks(200)
	var log webhookLogJSON
	e.must(200, req{route: "GET /api/v1/webhooks/{id}/deliveries", params: id(w.webhook), cred: key(w.key)}).json(t, &log)
	if len(log.Deliveries) == 0 || log.Deliveries[len(log.Deliveries)-1].State != "delivered" || len(log.Attempts) != len(log.Deliveries) || log.Attempts[0].StatusCode != 200 {
		t.Fatalf("log %+v", log)
	}
	e.must(202, req{route: "POST /api/v1/webhooks/{id}/redeliver", params: id(w.webhook), cred: key(w.key), body: map[string]any{"eventId": w.event}})
	e.must(409, req{route: "POST /api/v1/webhooks/{id}/redeliver", params: id(w.webhook), cred: key(w.key), body: map[string]any{"eventId": w.event}})
	var after webhookLogJSON
	e.must(200, req{route: "GET /api/v1/webhooks/{id}/deliveries", params: id(w.webhook), cred: key(w.key)}).json(t, &after)
	if len(after.Deliveries) != len(log.Deliveries)+1 || after.Deliveries[0].EventID != w.event || after.Deliveries[0].State != "pending" {
		t.Fatalf("after redelivery %+v", after.Deliveries)
	}
	// Another app's event cannot be sent to this endpoint.
	var other webhookLogJSON
	e.must(200, req{route: "GET /api/v1/webhooks/{id}/deliveries", params: id(w.other.webhook), cred: key(w.other.key)}).json(t, &other)
	e.must(404, req{route: "POST /api/v1/webhooks/{id}/redeliver", params: id(w.webhook), cred: key(w.key), body: map[string]any{"eventId": other.Deliveries[0].EventID}})
}
