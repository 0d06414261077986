package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func testAppendAndList(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	inputs := []chat.NewMessage{
		w.contactSays("hello"),
		{Sender: chat.Sender{Type: chat.SenderBot, ID: w.bot.ID}, Text: "pick one", Metadata: chat.Metadata{"templateId": "6", "payload": `[{"title":"a"}]`}},
		{Sender: chat.Sender{Type: chat.SenderContact, ID: w.contact.ID}, Attachments: []chat.Attachment{{UploadID: w.upload.ID, Name: "lie.exe", Size: 1}}},
		{Sender: chat.Sender{Type: chat.SenderContact, ID: w.contact.ID}, Location: &chat.Location{Lat: 38.7, Lon: -9.1}},
		{Sender: chat.Sender{Type: chat.SenderSystem}, Text: "Assigned to Ann", ContentType: chat.ContentSystem},
	}
	var appended []chat.Message
	for i, in := range inputs {
		m, created, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, in)
		must(t, err)
		if !created || m.Seq != int64(i+1) || m.ID == "" || m.AppID != w.app.ID || m.ConversationID != w.conv.ID || m.CreatedAt.IsZero() {
			t.Fatalf("append %d = %+v created=%v", i, m, created)
		}
		appended = append(appended, *m)
	}
	if got := appended[2]; got.ContentType != chat.ContentAttachment || len(got.Attachments) != 1 ||
		got.Attachments[0] != (chat.Attachment{UploadID: w.upload.ID, Name: "a.png", MimeType: "image/png", Size: 42}) {
		t.Fatalf("attachment not resolved from the upload: %+v", got)
	}
	if got := appended[3]; got.ContentType != chat.ContentLocation || got.Location == nil || got.Location.Lat != 38.7 {
		t.Fatalf("location message = %+v", got)
	}

	all, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 0, 0)
	must(t, err)
	if !reflect.DeepEqual(all, appended) {
		t.Fatalf("ListMessages =\n%+v\nwant\n%+v", all, appended)
	}
	tail, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 2, 2)
	must(t, err)
	if len(tail) != 2 || tail[0].Seq != 3 || tail[1].Seq != 4 {
		t.Fatalf("ListMessages(after 2, limit 2) = %+v", tail)
	}
	none, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 5, 10)
	must(t, err)
	if none == nil || len(none) != 0 {
		t.Fatalf("ListMessages past the end = %#v, want empty", none)
	}

	conv, err := s.GetConversation(ctx, w.app.ID, w.conv.ID)
	must(t, err)
	if conv.LastSeq != 5 || conv.UpdatedAt.Before(appended[4].CreatedAt) {
		t.Fatalf("conversation after appends: lastSeq %d updatedAt %v", conv.LastSeq, conv.UpdatedAt)
	}
}

// AppendMessages stores a bot's several replies in order, with consecutive
// seqs, answers a repeat of their client keys with the originals (a turn
// run again after a crash), and refuses another app's conversation.
func testAppendMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	_, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("hello"))
	must(t, err)
	replies := func() []chat.NewMessage {
		var ms []chat.NewMessage
		for i, text := range []string{"one", "two", "three"} {
			ms = append(ms, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderBot, ID: w.bot.ID}, Text: text, ClientKey: fmt.Sprint("bt:x:", i)})
		}
		return ms
	}
	got, err := s.AppendMessages(ctx, w.app.ID, w.conv.ID, replies())
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d appended, want 3", len(got))
	}
	for i, a := range got {
		if !a.Created || a.Message.Seq != int64(i+2) || a.Message.Text != replies()[i].Text {
			t.Fatalf("reply %d = %+v created=%v", i, a.Message, a.Created)
		}
	}
	again, err := s.AppendMessages(ctx, w.app.ID, w.conv.ID, replies())
	must(t, err)
	for i, a := range again {
		if a.Created || a.Message.ID != got[i].Message.ID {
			t.Fatalf("repeat %d = %+v created=%v, want the original", i, a.Message, a.Created)
		}
	}
	all, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 0, 0)
	must(t, err)
	if len(all) != 4 || all[3].Text != "three" {
		t.Fatalf("stored %+v", all)
	}
	other := newWorld(t, s)
	if _, err := s.AppendMessages(ctx, other.app.ID, w.conv.ID, replies()); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("another app's conversation: %v, want not found", err)
	}
	bad := replies()
	bad[1].Text = ""
	if _, err := s.AppendMessages(ctx, w.app.ID, w.conv.ID, bad); !chat.IsCode(err, chat.CodeInvalid) {
		t.Fatalf("an empty message: %v, want invalid", err)
	}
	if all, _ := s.ListMessages(ctx, w.app.ID, w.conv.ID, 0, 0); len(all) != 4 {
		t.Fatalf("a refused batch stored messages: %d", len(all))
	}
}

func testAppendRejects(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	tests := []struct {
		name string
		conv string
		m    chat.NewMessage
		code chat.Code
	}{
		{"unknown conversation", "nope", w.contactSays("hi"), chat.CodeNotFound},
		{"foreign conversation", other.conv.ID, w.contactSays("hi"), chat.CodeNotFound},
		{"empty message", w.conv.ID, w.contactSays(""), chat.CodeInvalid},
		{"no sender", w.conv.ID, chat.NewMessage{Text: "x"}, chat.CodeInvalid},
		{"unknown upload", w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: "c"}, Attachments: []chat.Attachment{{UploadID: "nope"}}}, chat.CodeNotFound},
		{"foreign upload", w.conv.ID, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: "c"}, Attachments: []chat.Attachment{{UploadID: other.upload.ID}}}, chat.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.AppendMessage(ctx, w.app.ID, tc.conv, tc.m)
			wantCode(t, err, tc.code)
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.AppendMessage(cancelled, w.app.ID, w.conv.ID, w.contactSays("gone")); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled context: %v", err)
	}
	msgs, err := s.ListMessages(ctx, w.app.ID, w.conv.ID, 0, 0)
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("rejected appends wrote %d messages", len(msgs))
	}
	m, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("first"))
	must(t, err)
	if m.Seq != 1 {
		t.Fatalf("seq after rejected appends = %d, want 1 (no seq burned)", m.Seq)
	}
}

// appendAll runs senders goroutines, each appending n messages round-robin
// over convs, and returns every error.
func appendAll(s store.Store, w *world, convs []string, senders, n int, key func(sender, i int) string) []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				m := w.contactSays(fmt.Sprintf("m %d/%d", g, i))
				if key != nil {
					m.ClientKey = key(g, i)
				}
				if _, _, err := s.AppendMessage(context.Background(), w.app.ID, convs[(g+i)%len(convs)], m); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errs
}

// checkGapFree asserts that conv holds exactly seqs 1..want.
func checkGapFree(t *testing.T, s store.Store, w *world, conv string, want int) {
	t.Helper()
	ctx := context.Background()
	var after int64
	for {
		page, err := s.ListMessages(ctx, w.app.ID, conv, after, store.MaxPageSize)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			if m.Seq != after+1 {
				t.Fatalf("conversation %s: seq %d follows %d", conv, m.Seq, after)
			}
			after = m.Seq
		}
	}
	if after != int64(want) {
		t.Fatalf("conversation %s: %d messages, want %d", conv, after, want)
	}
	c, err := s.GetConversation(ctx, w.app.ID, conv)
	must(t, err)
	if c.LastSeq != int64(want) {
		t.Fatalf("conversation %s: lastSeq %d, want %d", conv, c.LastSeq, want)
	}
}

func testSeqGapFree(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	const senders, each = 64, 8
	t.Run("one conversation", func(t *testing.T) {
		for _, err := range appendAll(s, w, []string{w.conv.ID}, senders, each, nil) {
			t.Fatal(err)
		}
		checkGapFree(t, s, w, w.conv.ID, senders*each)
	})
	t.Run("many conversations", func(t *testing.T) {
		var convs []string
		for range 16 {
			convs = append(convs, w.newConv(t, s).ID)
		}
		for _, err := range appendAll(s, w, convs, senders, each, nil) {
			t.Fatal(err)
		}
		for _, c := range convs {
			checkGapFree(t, s, w, c, senders*each/len(convs))
		}
	})
}

func testClientKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	in := w.contactSays("once")
	in.ClientKey = "k-1"
	first, created, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, in)
	must(t, err)
	if !created {
		t.Fatal("first append not created")
	}
	again := in
	again.Text = "a retry may differ; the original wins"
	second, created, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, again)
	must(t, err)
	if created || !reflect.DeepEqual(first, second) {
		t.Fatalf("repeat = %+v created=%v, want %+v", second, created, first)
	}
	// The same key in another conversation is another message.
	c2 := w.newConv(t, s)
	third, created, err := s.AppendMessage(ctx, w.app.ID, c2.ID, in)
	must(t, err)
	if !created || third.ID == first.ID || third.Seq != 1 {
		t.Fatalf("same key elsewhere = %+v created=%v", third, created)
	}
	next, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("next"))
	must(t, err)
	if next.Seq != 2 {
		t.Fatalf("seq after a repeat = %d, want 2 (repeats burn no seq)", next.Seq)
	}
}

func testClientKeyConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	const n = 48
	type result struct {
		m       *chat.Message
		created bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			in := w.contactSays(fmt.Sprintf("copy %d", i))
			in.ClientKey = "same"
			// Every fourth sender also sends a distinct message, so the
			// copies share batches with real work.
			if i%4 == 0 {
				if _, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("other")); err != nil {
					results[i].err = err
					return
				}
			}
			m, created, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, in)
			results[i] = result{m, created, err}
		}()
	}
	close(start)
	wg.Wait()
	createdCount := 0
	var id string
	var seq int64
	for _, r := range results {
		must(t, r.err)
		if r.created {
			createdCount++
		}
		if id == "" {
			id, seq = r.m.ID, r.m.Seq
		}
		if r.m.ID != id || r.m.Seq != seq {
			t.Fatalf("copies disagree: %s/%d vs %s/%d", r.m.ID, r.m.Seq, id, seq)
		}
	}
	if createdCount != 1 {
		t.Fatalf("%d copies created, want exactly 1", createdCount)
	}
	checkGapFree(t, s, w, w.conv.ID, 1+n/4)
}

func testBadItemsInBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	other := newWorld(t, s)
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			conv, m := w.conv.ID, w.contactSays(fmt.Sprintf("good %d", i))
			switch i % 4 {
			case 1:
				conv = other.conv.ID // foreign
			case 2:
				m = chat.NewMessage{Sender: chat.Sender{Type: chat.SenderContact, ID: "c"}, Attachments: []chat.Attachment{{UploadID: other.upload.ID}}}
			}
			_, _, errs[i] = s.AppendMessage(ctx, w.app.ID, conv, m)
		}()
	}
	close(start)
	wg.Wait()
	good := 0
	for i, err := range errs {
		switch i % 4 {
		case 1, 2:
			wantCode(t, err, chat.CodeNotFound)
		default:
			must(t, err)
			good++
		}
	}
	checkGapFree(t, s, w, w.conv.ID, good)
	checkGapFree(t, s, other, other.conv.ID, 0)
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newWorld(t, s)
	b := newWorld(t, s)
	key := chat.APIKey{AppID: a.app.ID, Name: "k", Prefix: "sk_" + unique(), Hash: []byte{1}}
	must(t, s.CreateAPIKey(ctx, &key))
	msg, _, err := s.AppendMessage(ctx, a.app.ID, a.conv.ID, a.contactSays("secret"))
	must(t, err)

	// Each call uses app B's id with one of app A's ids.
	calls := []struct {
		name string
		call func() error
	}{
		{"GetAgent", func() error { _, err := s.GetAgent(ctx, b.app.ID, a.agent.ID); return err }},
		{"SetAgentPresence", func() error {
			_, err := s.SetAgentPresence(ctx, b.app.ID, a.agent.ID, chat.PresenceOnline)
			return err
		}},
		{"SetAgentPassword", func() error { return s.SetAgentPassword(ctx, b.app.ID, a.agent.ID, "x") }},
		{"GetTeam", func() error { _, err := s.GetTeam(ctx, b.app.ID, a.team.ID); return err }},
		{"GetBot", func() error { _, err := s.GetBot(ctx, b.app.ID, a.bot.ID); return err }},
		{"GetContact", func() error { _, err := s.GetContact(ctx, b.app.ID, a.contact.ID); return err }},
		{"ContactByUserID", func() error { _, err := s.ContactByUserID(ctx, b.app.ID, a.contact.UserID); return err }},
		{"UpdateContact", func() error {
			n := "x"
			_, err := s.UpdateContact(ctx, b.app.ID, a.contact.ID, store.ContactUpdate{Name: &n})
			return err
		}},
		{"GetConversation", func() error { _, err := s.GetConversation(ctx, b.app.ID, a.conv.ID); return err }},
		{"UpdateConversation", func() error {
			_, err := s.UpdateConversation(ctx, b.app.ID, a.conv.ID, func(c *chat.Conversation) error {
				c.Status = chat.StatusSpam
				return nil
			})
			return err
		}},
		{"AppendMessage", func() error {
			_, _, err := s.AppendMessage(ctx, b.app.ID, a.conv.ID, b.contactSays("x"))
			return err
		}},
		{"ListMessages", func() error { _, err := s.ListMessages(ctx, b.app.ID, a.conv.ID, 0, 10); return err }},
		{"GetUpload", func() error { _, err := s.GetUpload(ctx, b.app.ID, a.upload.ID); return err }},
		{"DeleteAPIKey", func() error { return s.DeleteAPIKey(ctx, b.app.ID, key.ID) }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), chat.CodeNotFound) })
	}

	// Nothing of app A changed, and app B's lists never show A's rows.
	agent, err := s.GetAgent(ctx, a.app.ID, a.agent.ID)
	must(t, err)
	conv, err := s.GetConversation(ctx, a.app.ID, a.conv.ID)
	must(t, err)
	msgs, err := s.ListMessages(ctx, a.app.ID, a.conv.ID, 0, 10)
	must(t, err)
	if agent.PasswordHash != "h1" || agent.Presence != chat.PresenceOnline || conv.Status != chat.StatusOpen || len(msgs) != 1 || msgs[0].ID != msg.ID {
		t.Fatalf("app A changed through app B: %+v %+v %d", agent, conv, len(msgs))
	}
	_, err = s.APIKeyByPrefix(ctx, key.Prefix)
	must(t, err)

	lists := []struct {
		name string
		ids  func() ([]string, error)
	}{
		{"ListAgents", func() ([]string, error) {
			return ids(s.ListAgents(ctx, b.app.ID))(func(x chat.Agent) string { return x.ID })
		}},
		{"ListTeams", func() ([]string, error) {
			return ids(s.ListTeams(ctx, b.app.ID))(func(x chat.Team) string { return x.ID })
		}},
		{"ListBots", func() ([]string, error) {
			return ids(s.ListBots(ctx, b.app.ID))(func(x chat.Bot) string { return x.ID })
		}},
		{"ListAPIKeys", func() ([]string, error) {
			return ids(s.ListAPIKeys(ctx, b.app.ID))(func(x chat.APIKey) string { return x.ID })
		}},
		{"ListConversations", func() ([]string, error) {
			p, err := s.ListConversations(ctx, b.app.ID, store.ConversationFilter{Limit: store.MaxPageSize})
			return ids(p.Conversations, err)(func(x chat.Conversation) string { return x.ID })
		}},
		{"ListConversations by A's contact", func() ([]string, error) {
			p, err := s.ListConversations(ctx, b.app.ID, store.ConversationFilter{ContactID: a.contact.ID})
			return ids(p.Conversations, err)(func(x chat.Conversation) string { return x.ID })
		}},
	}
	foreign := map[string]bool{a.agent.ID: true, a.agent2.ID: true, a.team.ID: true, a.bot.ID: true, key.ID: true, a.conv.ID: true}
	for _, tc := range lists {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ids()
			must(t, err)
			for _, id := range got {
				if foreign[id] {
					t.Fatalf("app B's list shows app A's %s", id)
				}
			}
		})
	}
}

func ids[T any](xs []T, err error) func(func(T) string) ([]string, error) {
	return func(key func(T) string) ([]string, error) {
		if err != nil {
			return nil, err
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = key(x)
		}
		return out, nil
	}
}

func testCloseThenAppend(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	must(t, s.Close())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.AppendMessage(ctx, w.app.ID, w.conv.ID, w.contactSays("late"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("append after Close succeeded")
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("append after Close hung: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append after Close hung")
	}
	must(t, s.Close()) // a second Close is harmless
}
