package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func open(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	return openClock(t, url, nil)
}

// openClock opens a store reading time from clock (nil: the real one).
func openClock(t testing.TB, url string, clock store.Clock) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 8, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store { return openClock(t, pgtest.URL(t), clock) })
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

// TestTwoNodesInbox races conversation creates and updates, and message
// appends, on two stores sharing one database: the inbox stream must still
// be numbered 1..N with no gap and no duplicate, and nothing may deadlock.
// It also checks that presence recorded by one node is seen by the other.
func TestTwoNodesInbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := pgtest.URL(t)
	nodes := []*sqlstore.Store{open(t, url), open(t, url)}
	app := chat.App{Name: "Acme"}
	if err := nodes[0].CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	agent := chat.Agent{AppID: app.ID, Email: "ann@example.com", Name: "Ann", Role: chat.RoleAgent, Presence: chat.PresenceOnline}
	if err := nodes[0].CreateAgent(ctx, &agent); err != nil {
		t.Fatal(err)
	}
	contact := chat.Contact{AppID: app.ID, Name: "Carol"}
	if err := nodes[1].CreateContact(ctx, &contact); err != nil {
		t.Fatal(err)
	}
	var convs []string
	for range 4 {
		c := chat.Conversation{AppID: app.ID, ContactID: contact.ID}
		if err := nodes[0].CreateConversation(ctx, &c); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, c.ID)
	}

	const workers, each = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, 3*workers*each)
	for g := range workers {
		node := nodes[g%2]
		wg.Add(3)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := node.UpdateConversation(ctx, app.ID, convs[(g+i)%len(convs)], func(c *chat.Conversation) error {
					c.Metadata["by"] = fmt.Sprintf("%d-%d", g, i)
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each / 5 {
				c := chat.Conversation{AppID: app.ID, ContactID: contact.ID}
				if err := node.CreateConversation(ctx, &c); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range each {
				_, _, err := node.AppendMessage(ctx, app.ID, convs[(g+i+1)%len(convs)], chat.NewMessage{
					Sender: chat.Sender{Type: chat.SenderContact, ID: contact.ID}, Text: "hi",
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := int64(len(convs) + workers*(each/5) + workers*each)
	var after int64
	for pages := 0; after < want; pages++ {
		if pages > int(want) {
			t.Fatal("inbox paging does not end")
		}
		page, err := nodes[pages%2].ListInboxEvents(ctx, app.ID, after, store.MaxPageSize)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("inbox seq %d after %d", e.Seq, after)
			}
			after = e.Seq
		}
	}
	for i, n := range nodes {
		seq, err := n.InboxSeq(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after != want || seq != want {
			t.Fatalf("node %d: %d events listed, InboxSeq %d, want %d", i, after, seq, want)
		}
	}

	if err := nodes[0].SetNodeConnections(ctx, "node-a", []store.AgentRef{{AppID: app.ID, AgentID: agent.ID}}, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ids, err := nodes[1].ConnectedAgents(ctx, app.ID)
	if err != nil || len(ids) != 1 || ids[0] != agent.ID {
		t.Fatalf("node B sees %v (err %v), want [%s]", ids, err, agent.ID)
	}
}

// TestUpgradeFrom0001: a database made by the first release (only 0001
// applied, with data in it) takes 0002, and existing apps start their inbox
// stream at 1.
func TestUpgradeFrom0001(t *testing.T) {
	url := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	storetest.UpgradeFrom0001(t, stdlib.OpenDB(*cfg), sqlstore.Postgres, func() store.Store { return open(t, url) })
}

// TestTwoNodesBotTurns: two stores on one database claim, abandon (as a
// dying node would) and finish bot turns at once; every turn must still run
// once per live lease, in order, and be finished exactly once.
func TestTwoNodesBotTurns(t *testing.T) {
	url := pgtest.URL(t)
	clock := &storetest.Clock{}
	storetest.ConcurrentBotTurns(t, []store.Store{openClock(t, url, clock.Now), openClock(t, url, clock.Now)}, clock)
}

// TestTwoNodesRoundRobin: two stores on one database place conversations
// at once; the cursor row lock must serialise them across connections
// pools exactly as within one.
func TestTwoNodesRoundRobin(t *testing.T) {
	url := pgtest.URL(t)
	storetest.ConcurrentRoundRobin(t, []store.Store{open(t, url), open(t, url)})
}
