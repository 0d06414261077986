package storetest

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"testing/fstest"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/sqlstore"
)

// UpgradeFrom0001 checks that an install made before the inbox stream
// existed upgrades cleanly: db, an empty database of the given flavor, is
// migrated with only the first migration (read from 0001_init.sql in the
// calling package's directory) and given a conversation; then open opens
// it as a current store, which must run the remaining migrations, keep the
// data and start the app's inbox stream at 1.
func UpgradeFrom0001(t *testing.T, db *sql.DB, flavor sqlstore.Flavor, open func() store.Store) {
	t.Helper()
	ctx := context.Background()
	initSQL, err := os.ReadFile("0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, db, flavor, fstest.MapFS{"0001_init.sql": {Data: initSQL}}); err != nil {
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

	s := open()
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
