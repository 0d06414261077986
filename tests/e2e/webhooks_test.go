package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// A node is killed with SIGKILL while most of 1,000 webhook events are
// still queued. Restarted on the same data, it delivers every one. The
// receiver counts events by webhook-id, as the docs tell receivers to:
// it must count exactly 1,000, and any repeat must carry the id, body and
// a valid signature of an event it has seen.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	const convs, perConv = 4, 250
	const total = convs * perConv
	var (
		mu      sync.Mutex
		secret  string
		bodies  = map[string]string{} // webhook-id -> body
		repeats int
		bad     []string
		slow    = true
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(webhook.HeaderID)
		mu.Lock()
		if err := webhook.Verify(secret, id, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", id, err))
		}
		if prev, ok := bodies[id]; ok {
			repeats++
			if prev != string(body) {
				bad = append(bad, id+": a repeat with another body")
			}
		}
		bodies[id] = string(body)
		wait := slow
		mu.Unlock()
		if wait {
			// Slow enough that the node dies with most events queued,
			// however long the 1,000 sends take on a loaded machine: at
			// most 4 conversations × 5 deliveries a second.
			time.Sleep(200 * time.Millisecond)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	unique := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies)
	}

	env := map[string]string{
		"SWITCHBOARD_DATA_DIR":              t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY":     bootstrapKey,
		"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
		// The lease outlasts the timeout; a short timeout keeps the wait
		// for the killed node's leases short.
		"SWITCHBOARD_WEBHOOK_TIMEOUT": "2s",
	}
	n := startNode(t, env)
	api := n.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	api.do("POST", "/api/v1/webhooks", map[string]any{"url": hook.URL, "events": []string{"message.created"}}, 201, &ep)
	mu.Lock()
	secret = ep.Secret
	mu.Unlock()

	var wg sync.WaitGroup
	for c := range convs {
		var conv struct {
			ID string `json:"id"`
		}
		api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": fmt.Sprint("crash-", c)}}, 201, &conv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perConv {
				api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages",
					map[string]any{"text": fmt.Sprint("m", i), "sender": map[string]string{"type": "contact"}, "clientKey": fmt.Sprint("k", i)}, 201, nil)
			}
		}()
	}
	wg.Wait()
	before := unique()
	n.kill()
	if before >= total/2 {
		t.Fatalf("%d of %d events were delivered before the kill; the test wants most of them pending", before, total)
	}
	t.Logf("killed with %d of %d events delivered", before, total)

	mu.Lock()
	slow = false
	mu.Unlock()
	n.start()
	deadline := time.Now().Add(60 * time.Second)
	for unique() < total && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a wrong extra delivery
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != total {
		t.Fatalf("the receiver counted %d distinct events, want %d", len(bodies), total)
	}
	if len(bad) > 0 {
		t.Fatalf("%d bad requests, first: %s", len(bad), bad[0])
	}
	t.Logf("%d repeats, each with the id and body of an event already seen", repeats)

	// The log shows every delivery delivered.
	var log struct {
		Deliveries []struct{ State string } `json:"deliveries"`
	}
	api.do("GET", "/api/v1/webhooks/"+ep.ID+"/deliveries?limit=200", nil, 200, &log)
	for _, d := range log.Deliveries {
		if d.State != "delivered" {
			t.Fatalf("a delivery is %s", d.State)
		}
	}
}
