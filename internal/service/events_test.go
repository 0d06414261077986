package service_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// recorder keeps the events the service publishes, each with what the store
// said at that moment, to prove that events follow the durable write.
type recorder struct {
	mu     sync.Mutex
	events []seen
}

type seen struct {
	e bus.Event
	// durable: for a message, the store already has its seq; for an inbox
	// event, the store's inbox seq has moved past where it was.
	durable bool
}

func record(t *testing.T, f *fixture) *recorder {
	t.Helper()
	r := &recorder{}
	st := f.svc.Store()
	var inboxMu sync.Mutex
	lastInbox, err := st.InboxSeq(f.ctx, f.admin.AppID)
	if err != nil {
		t.Fatal(err)
	}
	// The in-process bus calls this in the publisher's goroutine, so a store
	// read here sees exactly what the publisher had written. (Production
	// subscribers hand events off instead of reading here.)
	unsub := f.svc.Bus().Subscribe(func(e bus.Event) {
		ok := true
		switch e.Type {
		case bus.TypeMessage:
			seqs, err := st.LastSeqs(context.Background(), e.AppID, []string{e.ConversationID})
			ok = err == nil && seqs[e.ConversationID] >= e.Seq
		case bus.TypeInbox:
			n, err := st.InboxSeq(context.Background(), e.AppID)
			inboxMu.Lock()
			ok = err == nil && n > lastInbox
			lastInbox = n
			inboxMu.Unlock()
		}
		r.mu.Lock()
		r.events = append(r.events, seen{e, ok})
		r.mu.Unlock()
	})
	t.Cleanup(unsub)
	return r
}

// take returns the events since the last take.
func (r *recorder) take() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestServicePublishesAfterWrites(t *testing.T) {
	f := newFixture(t)
	agent := f.agent(t, "ann@example.com", chat.RoleAgent)
	r := record(t, f)
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
	if err != nil {
		t.Fatal(err)
	}
	app := f.admin.AppID
	toAgent := &chat.Assignee{Type: chat.AssigneeAgent, ID: agent.AgentID}
	contact := &chat.Sender{Type: chat.SenderContact}
	inbox := bus.Event{Type: bus.TypeInbox, AppID: app}
	// A change to one conversation names it, so that its contact hears too.
	changed := bus.Event{Type: bus.TypeInbox, AppID: app, ConversationID: conv.ID}

	steps := []struct {
		name string
		do   func() error
		want []bus.Event // Node aside
	}{
		{"start conversation", func() error {
			_, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
			return err
		}, []bus.Event{inbox}},
		{"send message", func() error {
			_, _, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, service.SendInput{Text: "hi", ClientKey: "k1", Sender: contact})
			return err
		}, []bus.Event{{Type: bus.TypeMessage, AppID: app, ConversationID: conv.ID, Seq: 1}}},
		{"repeated send announces nothing", func() error {
			_, _, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, service.SendInput{Text: "hi", ClientKey: "k1", Sender: contact})
			return err
		}, nil},
		{"second message", func() error {
			_, _, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, service.SendInput{Text: "again", Sender: contact})
			return err
		}, []bus.Event{{Type: bus.TypeMessage, AppID: app, ConversationID: conv.ID, Seq: 2}}},
		{"status change", func() error {
			_, err := f.svc.ChangeStatus(f.ctx, f.admin, conv.ID, chat.StatusResolved)
			return err
		}, []bus.Event{changed}},
		{"refused status change", func() error {
			_, err := f.svc.ChangeStatus(f.ctx, f.admin, conv.ID, chat.StatusWaiting)
			if !chat.IsCode(err, chat.CodeConflict) {
				t.Errorf("err = %v, want conflict", err)
			}
			return nil
		}, nil},
		{"assign", func() error {
			_, err := f.svc.ChangeAssignee(f.ctx, f.admin, conv.ID, toAgent)
			return err
		}, []bus.Event{changed}},
		{"assign to the same agent", func() error {
			_, err := f.svc.ChangeAssignee(f.ctx, f.admin, conv.ID, toAgent)
			return err
		}, nil},
		{"unassign", func() error {
			_, err := f.svc.ChangeAssignee(f.ctx, f.admin, conv.ID, nil)
			return err
		}, []bus.Event{changed}},
		{"kommunicate assign", func() error {
			_, _, err := f.svc.AssignConversation(f.ctx, f.admin, conv.ID, toAgent, service.AssignOptions{TakeOverFromBot: true})
			return err
		}, []bus.Event{changed}},
		{"kommunicate assign unchanged", func() error {
			_, _, err := f.svc.AssignConversation(f.ctx, f.admin, conv.ID, toAgent, service.AssignOptions{})
			return err
		}, nil},
		{"unknown conversation", func() error {
			_, err := f.svc.ChangeStatus(f.ctx, f.admin, chat.NewID(), chat.StatusResolved)
			if !chat.IsCode(err, chat.CodeNotFound) {
				t.Errorf("err = %v, want not found", err)
			}
			return nil
		}, nil},
		{"presence", func() error {
			_, err := f.svc.SetPresence(f.ctx, agent, agent.AgentID, chat.PresenceAway)
			return err
		}, []bus.Event{{Type: bus.TypePresence, AppID: app, Data: json.RawMessage(`{"agentId":"` + agent.AgentID + `","status":"away"}`)}}},
		{"refused presence", func() error {
			_, err := f.svc.SetPresence(f.ctx, agent, f.owner.AgentID, chat.PresenceAway)
			if !chat.IsCode(err, chat.CodeForbidden) {
				t.Errorf("err = %v, want forbidden", err)
			}
			return nil
		}, nil},
	}
	r.take() // the conversation the steps work on
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
			got := r.take()
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %+v, want %+v", len(got), got, tc.want)
			}
			for i, g := range got {
				w := tc.want[i]
				if g.e.Type != w.Type || g.e.AppID != w.AppID || g.e.ConversationID != w.ConversationID || g.e.Seq != w.Seq || string(g.e.Data) != string(w.Data) {
					t.Fatalf("event %+v, want %+v", g.e, w)
				}
				if !g.durable {
					t.Fatalf("event %+v was published before its write was visible in the store", g.e)
				}
			}
		})
	}
}

// The service publishes on the bus it is given, stamped with its node id.
func TestServiceUsesGivenBus(t *testing.T) {
	f := newFixture(t)
	b := bus.NewLocal()
	svc := service.New(service.Options{Store: f.svc.Store(), Keys: f.svc.Keys(), Bus: b, NodeID: "node-1"})
	if svc.Bus() != b {
		t.Fatal("Bus() is not the bus given")
	}
	got := make(chan bus.Event, 1)
	defer b.Subscribe(func(e bus.Event) { got <- e })()
	if _, err := svc.StartConversation(f.ctx, f.admin, service.NewConversation{}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.Type != bus.TypeInbox || e.Node != "node-1" {
			t.Fatalf("event = %+v", e)
		}
	default: // the in-process bus delivers before Publish returns
		t.Fatal("no event")
	}
	// A bus that fails does not fail the write: the store is the truth.
	b.Close()
	if _, err := svc.StartConversation(f.ctx, f.admin, service.NewConversation{}); err != nil {
		t.Fatalf("write failed because publishing did: %v", err)
	}
}
