package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/bus/natsbus/natstest"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// Two switchboard processes on one PostgreSQL database (and NATS) both run
// delivery workers for one endpoint. Messages are sent through both nodes;
// the receiver, counting by webhook-id, must get every event exactly once
// (any second arrival of an id fails the test, not only a short count),
// each conversation's events in order, each request validly signed.
func TestWebhooksTwoNodes(t *testing.T) {
	natsURL := natstest.URL(t)
	dbURL := pgtest.URL(t)
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	secretKey := hex.EncodeToString(key[:])
	env := func() map[string]string {
		return map[string]string{
			"SWITCHBOARD_DATA_DIR":              t.TempDir(),
			"SWITCHBOARD_DATABASE_URL":          dbURL,
			"SWITCHBOARD_NATS_URL":              natsURL,
			"SWITCHBOARD_SECRET_KEY":            secretKey,
			"SWITCHBOARD_BOOTSTRAP_API_KEY":     bootstrapKey,
			"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
			"SWITCHBOARD_LOG_LEVEL":             "warn",
		}
	}

	const convs, perConv = 10, 50
	const total = convs * perConv
	var (
		mu         sync.Mutex
		secret     string
		seen       = map[string]int{} // webhook-id -> arrivals
		duplicates []string
		bad        []string
		lastSeq    = map[string]int64{} // conversation -> last seq received
		outOfOrder []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(webhook.HeaderID)
		var ev struct {
			Data struct {
				ConversationID string `json:"conversationId"`
				Seq            int64  `json:"seq"`
			} `json:"data"`
		}
		decodeErr := json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, id, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", id, err))
		}
		if decodeErr != nil || ev.Data.ConversationID == "" {
			bad = append(bad, fmt.Sprintf("%s: body %s", id, body))
		}
		seen[id]++
		if seen[id] > 1 {
			duplicates = append(duplicates, id)
		}
		c := ev.Data.ConversationID
		if ev.Data.Seq <= lastSeq[c] {
			outOfOrder = append(outOfOrder, fmt.Sprintf("conversation %s: seq %d after %d", c, ev.Data.Seq, lastSeq[c]))
		} else {
			lastSeq[c] = ev.Data.Seq
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	// One after the other: B starts on what A created.
	a := startNode(t, env())
	b := startNode(t, env())
	apiA := a.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	apiB := b.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	apiA.do("POST", "/api/v1/webhooks", map[string]any{"url": hook.URL, "events": []string{"message.created"}}, http.StatusCreated, &ep)
	mu.Lock()
	secret = ep.Secret
	mu.Unlock()

	// Each conversation is written to through both nodes in turn, all
	// conversations at once, so both nodes' workers are woken for every
	// conversation and race for its deliveries.
	var wg sync.WaitGroup
	for c := range convs {
		var conv conversation
		apiA.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": fmt.Sprint("two-node-hooks-", c)}}, http.StatusCreated, &conv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perConv {
				api := apiA
				if i%2 == 1 {
					api = apiB
				}
				api.do("POST", "/api/v1/conversations/"+conv.ID+"/messages",
					map[string]any{"text": fmt.Sprint("m", i), "sender": map[string]string{"type": "contact"}, "clientKey": fmt.Sprint("k", i)},
					http.StatusCreated, nil)
			}
		}()
	}
	wg.Wait()

	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	deadline := time.Now().Add(90 * time.Second)
	for count() < total && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// Room for a wrong second delivery to arrive: more than a poll of
	// either node.
	time.Sleep(2 * time.Second)

	mu.Lock()
	defer mu.Unlock()
	arrivals := 0
	for _, n := range seen {
		arrivals += n
	}
	t.Logf("events generated %d (through 2 nodes, %d conversations); distinct delivered %d; requests %d; duplicates %d; out of order %d; bad %d",
		total, convs, len(seen), arrivals, len(duplicates), len(outOfOrder), len(bad))
	if len(duplicates) > 0 {
		t.Fatalf("%d events delivered more than once, first %s", len(duplicates), duplicates[0])
	}
	if len(seen) != total {
		t.Fatalf("the receiver got %d distinct events, want %d", len(seen), total)
	}
	if len(outOfOrder) > 0 {
		t.Fatalf("%d events out of conversation order, first: %s", len(outOfOrder), outOfOrder[0])
	}
	if len(bad) > 0 {
		t.Fatalf("%d bad requests, first: %s", len(bad), bad[0])
	}
	if len(lastSeq) != convs {
		t.Fatalf("events of %d conversations, want %d", len(lastSeq), convs)
	}

	// Both workers took part: the outbox names the node whose lease
	// delivered each event. Otherwise this would be a one-node test.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT lease_owner, COUNT(*) FROM webhook_deliveries WHERE state = 'delivered' GROUP BY lease_owner")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byNode := map[string]int{}
	for rows.Next() {
		var owner string
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			t.Fatal(err)
		}
		byNode[owner] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("deliveries by node: %v", byNode)
	if len(byNode) != 2 {
		t.Fatalf("deliveries by node %v, want both nodes delivering", byNode)
	}
}
