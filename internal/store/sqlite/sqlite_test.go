package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/sqlite"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
	"github.com/switchboard-chat/switchboard/internal/store/storetest"
)

func open(t *testing.T, path string) store.Store {
	t.Helper()
	return openOpts(t, path, sqlite.Options{})
}

func openOpts(t *testing.T, path string, opts sqlite.Options) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock store.Clock) store.Store {
		return openOpts(t, filepath.Join(t.TempDir(), "switchboard.db"), sqlite.Options{Clock: clock})
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
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.UpgradeFrom0001(t, db, sqlstore.SQLite, func() store.Store { return open(t, path) })
}
