package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func open(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.URL(t)) })
}

// TestTwoNodes runs two stores (two pools, two group committers) on one
// database, as two processes would, appending to the same conversations.
func TestTwoNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	nodes := []*sqlstore.Store{open(t, url), open(t, url)} // the second also re-runs migrations
	app := chat.App{Name: "Acme"}
	if err := nodes[0].CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	contact := chat.Contact{AppID: app.ID, Name: "Carol"}
	if err := nodes[1].CreateContact(ctx, &contact); err != nil {
		t.Fatal(err)
	}
	var convs []string
	for range 3 {
		c := chat.Conversation{AppID: app.ID, ContactID: contact.ID}
		if err := nodes[0].CreateConversation(ctx, &c); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c.ID)
	}

	const senders, each = 32, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[string]int{} // client key -> times created
	ids := map[string]string{}  // client key -> message id
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Both nodes send every key once: a retried send landing
				// on the other node must still be one message.
				key := fmt.Sprintf("k%d-%d", g/2, i)
				node := nodes[g%2]
				m, ok, err := node.AppendMessage(ctx, app.ID, convs[(g/2+i)%len(convs)], chat.NewMessage{
					Sender: chat.Sender{Type: chat.SenderContact, ID: contact.ID}, Text: key, ClientKey: key,
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if ok {
					created[key]++
				}
				if prev, seen := ids[key]; seen && prev != m.ID {
					t.Errorf("key %s: two messages %s and %s", key, prev, m.ID)
				}
				ids[key] = m.ID
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := 0
	for key, n := range created {
		if n != 1 {
			t.Errorf("key %s created %d times", key, n)
		}
		total += n
	}
	if total != senders/2*each {
		t.Fatalf("%d messages created, want %d", total, senders/2*each)
	}
	sum := 0
	for _, c := range convs {
		msgs, err := nodes[1].ListMessages(ctx, app.ID, c, 0, store.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %s: seq %d at position %d", c, m.Seq, i)
			}
		}
		sum += len(msgs)
	}
	if sum != total {
		t.Fatalf("%d messages stored, want %d", sum, total)
	}
}
