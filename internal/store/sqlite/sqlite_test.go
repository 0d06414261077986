package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func open(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "switchboard.db"))
	})
}

// TestRestart checks that data outlives the process's handle on the file,
// and that migrations are idempotent across starts.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s := open(t, path)
	app := chat.App{Name: "Acme"}
	if err := s.CreateApp(ctx, &app); err != nil {
		t.Fatal(err)
	}
	contact := chat.Contact{AppID: app.ID, Name: "Carol"}
	if err := s.CreateContact(ctx, &contact); err != nil {
		t.Fatal(err)
	}
	conv := chat.Conversation{AppID: app.ID, ContactID: contact.ID}
	if err := s.CreateConversation(ctx, &conv); err != nil {
		t.Fatal(err)
	}
	in := chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: contact.ID}, Text: "kept", ClientKey: "k"}
	first, _, err := s.AppendMessage(ctx, app.ID, conv.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.ListMessages(ctx, app.ID, conv.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].ID != first.ID {
		t.Fatalf("after restart: %+v", msgs)
	}
	again, created, err := s.AppendMessage(ctx, app.ID, conv.ID, in)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("client key after restart: %+v created=%v err=%v", again, created, err)
	}
	next, _, err := s.AppendMessage(ctx, app.ID, conv.ID, chat.NewMessage{Sender: in.Sender, Text: "next"})
	if err != nil || next.Seq != 2 {
		t.Fatalf("seq after restart: %+v err=%v", next, err)
	}
}

// TestUpgradeFrom0001 opens a database made by the first release (only
// 0001 applied, with data in it): 0002 must apply on top, and existing apps
// start their inbox stream at 1.
func TestUpgradeFrom0001(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	initSQL, err := os.ReadFile("0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, db, sqlstore.SQLite, fstest.MapFS{"0001_init.sql": {Data: initSQL}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO apps (id, name, created_at) VALUES ('app1', 'Old', 1)",
		"INSERT INTO contacts (id, app_id, user_id, name, email, language, chat_context, created_at, updated_at) VALUES ('ct1', 'app1', '', 'C', '', '', '{}', 1, 1)",
		"INSERT INTO conversations (id, app_id, contact_id, status, assignee_type, assignee_id, team_id, metadata, last_seq, created_at, updated_at) VALUES ('cv1', 'app1', 'ct1', 0, '', '', '', '{}', 4, 1, 1)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	if n, err := s.InboxSeq(ctx, "app1"); err != nil || n != 0 {
		t.Fatalf("InboxSeq after upgrade = %d, %v", n, err)
	}
	if _, err := s.UpdateConversation(ctx, "app1", "cv1", func(c *chat.Conversation) error { c.Status = chat.StatusResolved; return nil }); err != nil {
		t.Fatal(err)
	}
	events, err := s.ListInboxEvents(ctx, "app1", 0, 10)
	if err != nil || len(events) != 1 || events[0].Seq != 1 || events[0].Kind != chat.InboxStatusChanged || events[0].Conversation.LastSeq != 4 {
		t.Fatalf("after upgrade: %+v, %v", events, err)
	}
}
