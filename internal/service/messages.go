package service

import (
	"context"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/bus"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// AttachmentRef points at an upload made earlier with CreateUpload.
type AttachmentRef struct {
	UploadID string `json:"uploadId"`
}

// SendInput is a message as a client submits it.
type SendInput struct {
	Text        string           `json:"text"`
	ClientKey   string           `json:"clientKey"`
	ContentType chat.ContentType `json:"contentType"`
	Metadata    chat.Metadata    `json:"metadata"`
	Attachments []AttachmentRef  `json:"attachments"`
	Location    *chat.Location   `json:"location"`
	// Sender is who the message is from. A signed-in agent always sends as
	// themself; an API key names the contact, an agent or a bot of the app.
	Sender *chat.Sender `json:"sender"`
}

// SendMessage appends a message to a conversation and returns it once it is
// durable. A repeat with the same ClientKey returns the original message and
// created == false.
func (s *Service) SendMessage(ctx context.Context, actor Actor, conversationID string, in SendInput) (*chat.Message, bool, error) {
	conv, err := s.GetConversation(ctx, actor, conversationID)
	if err != nil {
		return nil, false, err
	}
	sender, err := s.resolveSender(ctx, actor, conv, in.Sender)
	if err != nil {
		return nil, false, err
	}
	m := chat.NewMessage{
		Sender:      sender,
		Text:        in.Text,
		ContentType: in.ContentType,
		Metadata:    in.Metadata,
		Location:    in.Location,
		ClientKey:   in.ClientKey,
	}
	if len(in.Attachments) > chat.MaxAttachments {
		return nil, false, chat.FieldError("attachments", "a message may carry at most %d attachments", chat.MaxAttachments)
	}
	for _, a := range in.Attachments {
		m.Attachments = append(m.Attachments, chat.Attachment{UploadID: a.UploadID})
	}
	if m.ContentType == chat.ContentSystem {
		return nil, false, chat.FieldError("contentType", "system notices are posted by Switchboard itself")
	}
	return s.appendMessage(ctx, actor.AppID, conv.ID, m)
}

// appendMessage is the one path every message takes into the store, whoever
// sends it.
func (s *Service) appendMessage(ctx context.Context, appID, conversationID string, m chat.NewMessage) (*chat.Message, bool, error) {
	if err := m.Normalize(); err != nil {
		return nil, false, err
	}
	msg, created, err := s.store.AppendMessage(ctx, appID, conversationID, m)
	if err != nil {
		return nil, false, err
	}
	if err := s.afterAppend(ctx, msg, created); err != nil {
		return nil, false, err
	}
	return msg, created, nil
}

// appendMessages stores ms in order in one commit, then does for each what
// appendMessage does after storing one. On an error it returns the
// messages stored and announced before it.
func (s *Service) appendMessages(ctx context.Context, appID, conversationID string, ms []chat.NewMessage) ([]store.Appended, error) {
	for i := range ms {
		if err := ms[i].Normalize(); err != nil {
			return nil, err
		}
	}
	stored, err := s.store.AppendMessages(ctx, appID, conversationID, ms)
	for i, a := range stored {
		if err := s.afterAppend(ctx, a.Message, a.Created); err != nil {
			return stored[:i], err
		}
	}
	return stored, err
}

// afterAppend queues the bot's turn for a stored message and announces it.
func (s *Service) afterAppend(ctx context.Context, msg *chat.Message, created bool) error {
	// Queued before the wake-up goes out, so that a worker woken by it
	// finds the turn; and on this node, right after the append, so that
	// turns are queued in message order.
	if err := s.enqueueForMessage(ctx, msg); err != nil {
		// The message is stored but the bot would never hear it: fail the
		// send, so the client retries with its clientKey and the retry
		// (a repeat) queues the turn.
		return fmt.Errorf("queueing the bot's turn: %w", err)
	}
	if created {
		s.log.DebugContext(ctx, "message stored", "app", msg.AppID, "conversation", msg.ConversationID, "seq", msg.Seq, "sender", string(msg.Sender.Type))
		// A repeat (created == false) announces nothing: it adds nothing.
		s.publish(ctx, bus.Event{Type: bus.TypeMessage, AppID: msg.AppID, ConversationID: msg.ConversationID, Seq: msg.Seq})
	}
	return nil
}

// resolveSender decides who a message is from, refusing impersonation.
// conv has already been checked to be reachable by the actor.
func (s *Service) resolveSender(ctx context.Context, actor Actor, conv *chat.Conversation, want *chat.Sender) (chat.Sender, error) {
	if actor.ContactID != "" {
		self := chat.Sender{Type: chat.SenderContact, ID: conv.ContactID}
		if want != nil && want.Type != chat.SenderContact || want != nil && want.ID != "" && want.ID != conv.ContactID {
			return chat.Sender{}, chat.Errorf(chat.CodeForbidden, "a contact can only send as itself")
		}
		return self, nil
	}
	if !actor.ViaAPIKey() {
		self := chat.Sender{Type: chat.SenderAgent, ID: actor.AgentID}
		if want != nil && *want != self {
			return chat.Sender{}, chat.Errorf(chat.CodeForbidden, "a signed-in agent can only send as themself")
		}
		return self, nil
	}
	if want == nil {
		return chat.Sender{}, chat.FieldError("sender", `sender is required with an API key: {"type":"contact"} or {"type":"agent","id":…}`)
	}
	switch want.Type {
	case chat.SenderContact:
		if want.ID != "" && want.ID != conv.ContactID {
			return chat.Sender{}, chat.FieldError("sender.id", "the sender must be this conversation's contact")
		}
		return chat.Sender{Type: chat.SenderContact, ID: conv.ContactID}, nil
	case chat.SenderAgent:
		if err := chat.ValidateID("sender.id", want.ID); err != nil {
			return chat.Sender{}, err
		}
		if _, err := s.store.GetAgent(ctx, actor.AppID, want.ID); err != nil {
			if chat.IsCode(err, chat.CodeNotFound) {
				return chat.Sender{}, chat.FieldError("sender.id", "no such agent in this app")
			}
			return chat.Sender{}, err
		}
		return *want, nil
	case chat.SenderBot:
		if err := chat.ValidateID("sender.id", want.ID); err != nil {
			return chat.Sender{}, err
		}
		if _, err := s.store.GetBot(ctx, actor.AppID, want.ID); err != nil {
			if chat.IsCode(err, chat.CodeNotFound) {
				return chat.Sender{}, chat.FieldError("sender.id", "no such bot in this app")
			}
			return chat.Sender{}, err
		}
		return *want, nil
	default:
		return chat.Sender{}, chat.FieldError("sender.type", "sender type must be contact, agent or bot")
	}
}

// ListMessages returns a conversation's messages after a seq, in order.
func (s *Service) ListMessages(ctx context.Context, actor Actor, conversationID string, afterSeq int64, limit int) ([]chat.Message, error) {
	if err := chat.ValidateID("id", conversationID); err != nil {
		return nil, chat.NotFound("conversation")
	}
	if afterSeq < 0 {
		return nil, chat.FieldError("afterSeq", "afterSeq must be 0 or more")
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	if _, err := s.GetConversation(ctx, actor, conversationID); err != nil {
		return nil, err
	}
	return s.store.ListMessages(ctx, actor.AppID, conversationID, afterSeq, limit)
}

// ListMessagesBefore returns the page of at most limit messages just
// before seq beforeSeq, in seq order: the latest page when beforeSeq is
// the conversation's lastSeq+1, and the one before a page starting at seq
// S when it is S. A conversation's seqs are 1, 2, 3… without gaps, so the
// page is the range (beforeSeq-1-limit, beforeSeq) and the after-seq
// query serves it.
func (s *Service) ListMessagesBefore(ctx context.Context, actor Actor, conversationID string, beforeSeq int64, limit int) ([]chat.Message, error) {
	if beforeSeq < 1 {
		return nil, chat.FieldError("beforeSeq", "beforeSeq must be 1 or more")
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	after := max(0, beforeSeq-1-int64(limit))
	n := int(beforeSeq - 1 - after)
	if n == 0 {
		// Before seq 1 there is nothing; the conversation is still
		// checked, so a foreign id is refused as on any page.
		if _, err := s.GetConversation(ctx, actor, conversationID); err != nil {
			return nil, err
		}
		return []chat.Message{}, nil
	}
	return s.ListMessages(ctx, actor, conversationID, after, n)
}

// pageLimit is a page size as the client asked for it: 0 means the
// default, and anything else must be within the store's bounds.
func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return store.DefaultPageSize, nil
	}
	if limit < 1 || limit > store.MaxPageSize {
		return 0, chat.FieldError("limit", "limit must be 1 to %d", store.MaxPageSize)
	}
	return limit, nil
}
