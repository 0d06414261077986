package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/turn"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// applyTimeout bounds the writes that follow a finished bot turn. They run
// detached from the worker's context, so that a shutdown arriving after
// the bot answered still posts the answer instead of throwing it away; the
// bound keeps a wedged store from holding shutdown forever.
const applyTimeout = 15 * time.Second

// enqueueForMessage queues a bot turn for m when a bot must receive it
// (chat.BotRecipient). It runs on the node that appended m, right after the
// append, so that turns are queued in message order. It is also called for
// a clientKey repeat: EnqueueBotTurn is idempotent per message, so a repeat
// heals an enqueue that failed the first time and otherwise adds nothing.
func (s *Service) enqueueForMessage(ctx context.Context, m *chat.Message) error {
	if m.Sender.Type != chat.SenderContact {
		// A bot turn's replies are counted by applyOutcome once they are
		// published, so the contact is not kept waiting for the statistic.
		if !isBotTurnReply(m) {
			s.recordFirstResponse(ctx, m)
		}
		return nil
	}
	conv, err := s.store.GetConversation(ctx, m.AppID, m.ConversationID)
	if err != nil {
		return err
	}
	if conv.Status == chat.StatusResolved && !m.CreatedAt.Before(conv.UpdatedAt) {
		// The contact came back: the conversation reopens with the same
		// assignee, so a bot answers this very message and a person finds
		// it in their inbox again. Spam and duplicates stay closed. A
		// clientKey repeat of a message older than the conversation's last
		// change (the resolution, or anything after it) is not the contact
		// coming back, and reopens nothing.
		if conv, err = s.reopenForContact(ctx, conv); err != nil {
			return err
		}
	}
	botID, ok := chat.BotRecipient(conv, m)
	if !ok {
		return nil
	}
	t := &chat.BotTurn{AppID: m.AppID, ConversationID: m.ConversationID, BotID: botID, Kind: chat.BotTurnMessage, MessageSeq: m.Seq}
	if len(m.Attachments) > 0 || m.Location != nil {
		t.Kind, t.Event = chat.BotTurnEvent, bot.EventMedia
	}
	created, err := s.store.EnqueueBotTurn(ctx, t)
	if created {
		s.wakeBots()
	}
	return err
}

// reopenForContact reopens a resolved conversation a contact wrote in.
// The check is repeated under the store's lock, so a conversation reopened
// or marked spam meanwhile is left as it is.
func (s *Service) reopenForContact(ctx context.Context, conv *chat.Conversation) (*chat.Conversation, error) {
	c, err := s.updateConversation(ctx, conv.AppID, conv.ID, func(c *chat.Conversation) error {
		if c.Status == chat.StatusResolved {
			c.Status = chat.StatusOpen
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reopening the conversation: %w", err)
	}
	if c.Status == chat.StatusOpen && conv.Status != chat.StatusOpen {
		s.log.InfoContext(ctx, "conversation reopened by the contact", "app", c.AppID, "conversation", c.ID)
	}
	return c, nil
}

// isBotTurnReply tells a bot turn's reply (keyed by chat.BotReplyKey) from
// a bot message posted through the API.
func isBotTurnReply(m *chat.Message) bool {
	return m.Sender.Type == chat.SenderBot && strings.HasPrefix(m.ClientKey, "bt:")
}

// enqueueEvent queues an event turn (a welcome, or a bot-to-bot handoff's
// event) for the conversation's bot.
func (s *Service) enqueueEvent(ctx context.Context, appID, convID, botID, event string) error {
	_, err := s.store.EnqueueBotTurn(ctx, &chat.BotTurn{AppID: appID, ConversationID: convID, BotID: botID, Kind: chat.BotTurnEvent, Event: event})
	if err == nil {
		// The worker also polls; this only keeps a welcome's latency low.
		s.wakeBots()
	}
	return err
}

// BotRun is one claimed turn for RunBotTurn.
type BotRun struct {
	Turn   chat.BotTurn
	Runner *turn.Runner
	// Lease is what the worker claimed with; RunBotTurn renews it once
	// more before writing, which also proves the lease is still held.
	Lease time.Duration
}

// RunBotTurn runs one claimed bot turn and carries out its outcome: the
// bot's replies, a handoff, or the polite fallback, then the turn's finish.
// The worker owns the goroutine and the lease; the rules live here.
//
// It returns nil when the turn ended (done, handed off, failed), was
// released for another node (ctx cancelled), or turned out to be someone
// else's (lease lost). An error means the turn is left to its lease, and
// a later claim will run it again; replies are keyed, so nothing is posted
// twice.
func (s *Service) RunBotTurn(ctx context.Context, r BotRun) error {
	t := r.Turn
	bt, why, err := s.loadBotTurn(ctx, t)
	if err != nil {
		return err
	}
	if why != "" {
		// The conversation moved on (handed off, closed, bot gone) since
		// the turn was queued: the bot must not hear it.
		return s.finishTurn(ctx, t, chat.BotTurnHandedOff, why)
	}
	// The state is read after the turn was claimed: the previous turn of
	// the conversation finished (and wrote its state) before this one
	// could be claimed, so this is the state it left.
	state, _, err := s.store.GetBotState(ctx, t.AppID, t.ConversationID, t.BotID)
	if err != nil {
		return err
	}
	o := r.Runner.Run(ctx, bt, state)
	if o.Cancelled {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
		defer cancel()
		if err := s.store.ReleaseBotTurn(rctx, t.ID, t.LeaseToken); err != nil && !chat.IsCode(err, chat.CodeConflict) {
			return fmt.Errorf("releasing bot turn %s: %w", t.ID, err)
		}
		return nil
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	defer cancel()
	// Renewing is the check that the turn is still ours: a handoff or
	// take-over cancelled it, or a stall let another node take it, and
	// then not one reply may be posted.
	if err := s.store.ExtendBotTurnLease(actx, t.ID, t.LeaseToken, r.Lease); err != nil {
		if chat.IsCode(err, chat.CodeConflict) {
			s.log.DebugContext(ctx, "bot turn lease lost; dropping its outcome", "turn", t.ID)
			return nil
		}
		return err
	}
	return s.applyOutcome(actx, t, bt.Bot, o)
}

// loadBotTurn gathers what the connector needs. A non-empty reason means
// the turn must not run at all.
func (s *Service) loadBotTurn(ctx context.Context, t chat.BotTurn) (bot.Turn, string, error) {
	conv, err := s.store.GetConversation(ctx, t.AppID, t.ConversationID)
	if err != nil {
		return bot.Turn{}, "", err
	}
	if conv.Assignee == nil || conv.Assignee.Type != chat.AssigneeBot || conv.Assignee.ID != t.BotID {
		return bot.Turn{}, "the conversation is no longer with this bot", nil
	}
	if conv.Status.Closed() {
		return bot.Turn{}, "the conversation is closed", nil
	}
	b, err := s.BotSettings(ctx, t.AppID, t.BotID)
	if chat.IsCode(err, chat.CodeNotFound) {
		return bot.Turn{}, "the bot was deleted", nil
	}
	if err != nil {
		return bot.Turn{}, "", err
	}
	contact, err := s.store.GetContact(ctx, t.AppID, conv.ContactID)
	if err != nil {
		return bot.Turn{}, "", err
	}
	bt := bot.Turn{AppID: t.AppID, ConversationID: t.ConversationID, Bot: b, Contact: contact, Event: t.Event, Language: contact.Language}
	if t.MessageSeq > 0 {
		msgs, err := s.store.ListMessages(ctx, t.AppID, t.ConversationID, t.MessageSeq-1, 1)
		if err != nil {
			return bot.Turn{}, "", err
		}
		if len(msgs) == 0 || msgs[0].Seq != t.MessageSeq {
			return bot.Turn{}, "", fmt.Errorf("bot turn %s: message %d not found", t.ID, t.MessageSeq)
		}
		m := msgs[0]
		bt.Message = &m
		for _, a := range m.Attachments {
			if bt.FileURLs == nil {
				bt.FileURLs = map[string]string{}
			}
			// The bot's code fetches these from outside, so they must be
			// absolute; they expire, so a leaked log line ages out.
			bt.FileURLs[a.UploadID] = s.publicURL + s.FileURL(t.AppID, a.UploadID)
		}
	}
	return bt, "", nil
}

// applyOutcome posts a finished turn's results. Every write is safe to
// repeat, because a node that dies half way leaves the turn to another
// node that will run it, and apply it, again.
func (s *Service) applyOutcome(ctx context.Context, t chat.BotTurn, b *chat.Bot, o turn.Outcome) error {
	if err := s.postReplies(ctx, t, b, o.Replies); err != nil {
		return err
	}
	for _, w := range o.Warnings {
		s.log.WarnContext(ctx, "bot turn warning", "app", t.AppID, "bot", b.ID, "turn", t.ID, "warning", w)
	}
	trig, ok := o.Trigger()
	if !ok {
		if err := s.applyActions(ctx, t, b, o.Actions); err != nil {
			return err
		}
		return s.finishTurnState(ctx, t, chat.BotTurnDone, withWarnings("", o.Warnings), o)
	}
	if len(o.Actions) > 0 {
		// The conversation is leaving the bot (or the bot failed): it is
		// no longer the bot's to resolve or to ask a rating for.
		s.log.InfoContext(ctx, "bot actions ignored: the turn hands off", "app", t.AppID, "turn", t.ID, "actions", o.Actions)
	}
	trig.Intent = o.Intent
	note := string(trig.Kind)
	if o.Failed != nil {
		note += ": " + o.Failed.Message
		s.noteBotFailure(ctx, b, o.Failed.Kind, o.Failed.Message)
	}
	note = withWarnings(note, o.Warnings)
	d, err := s.handoff(ctx, t.AppID, t.ConversationID, trig, b, "bt:"+t.ID)
	if err != nil {
		return err
	}
	if d.Skipped {
		if d.ContactMessage != "" {
			// Auto-handoff is off: the contact still hears that the bot
			// could not help, never silence.
			m := chat.NewMessage{Sender: chat.Sender{Type: chat.SenderBot, ID: b.ID}, Text: d.ContactMessage,
				Metadata: chat.Metadata{chat.MetaSkipBot: "true"}, ClientKey: "bt:" + t.ID + ":fallback"}
			if _, _, err := s.appendMessage(ctx, t.AppID, t.ConversationID, m); err != nil {
				return err
			}
		}
		state := chat.BotTurnDone
		if o.Failed != nil {
			state = chat.BotTurnFailed
		}
		return s.finishTurnState(ctx, t, state, note+" (handoff skipped: "+string(d.Reason)+")", o)
	}
	// Finish before cancelling: cancelling marks every open turn of the
	// conversation, this one included, and would refuse this finish.
	if err := s.finishTurnState(ctx, t, chat.BotTurnHandedOff, note, o); err != nil {
		return err
	}
	return s.afterHandoff(ctx, t.AppID, t.ConversationID, d)
}

// postReplies stores the bot's replies together, one durable commit for
// all of them, and then announces each as a stored message is announced.
func (s *Service) postReplies(ctx context.Context, t chat.BotTurn, b *chat.Bot, replies []bot.Reply) error {
	if len(replies) == 0 {
		return nil
	}
	ms := make([]chat.NewMessage, len(replies))
	for i, r := range replies {
		ms[i] = chat.NewMessage{Sender: chat.Sender{Type: chat.SenderBot, ID: b.ID}, Text: r.Text, Metadata: r.Metadata, ClientKey: chat.BotReplyKey(t.ID, i)}
	}
	stored, err := s.appendMessages(ctx, t.AppID, t.ConversationID, ms)
	if err != nil {
		return fmt.Errorf("posting reply %d of bot turn %s: %w", len(stored), t.ID, err)
	}
	s.recordFirstResponse(ctx, stored[0].Message)
	return nil
}

// withWarnings adds a turn's warnings to its note. They say what the
// contact's message lost on the way to the bot (text cut to the bot's
// limit) or what of the bot's answer could not be shown as sent (a payload
// that is not JSON); kept on the turn, they reach the bot's owner rather
// than only the node's log.
func withWarnings(note string, warnings []string) string {
	if len(warnings) == 0 {
		return note
	}
	w := "warnings: " + strings.Join(warnings, "; ")
	if note == "" {
		return w
	}
	return note + "; " + w
}

// finishTurn ends a turn the bot never ran (the conversation moved on).
func (s *Service) finishTurn(ctx context.Context, t chat.BotTurn, state chat.BotTurnState, note string) error {
	return s.finished(ctx, t, state, note, s.store.FinishBotTurn(ctx, t.ID, t.LeaseToken, state, note))
}

// finishTurnState ends a turn the bot answered (or failed): the bot's
// state for the conversation's next turn, and the intent it understood (for
// the contact panel), are written with the finish, so a re-run after a
// crash starts from the state before it.
func (s *Service) finishTurnState(ctx context.Context, t chat.BotTurn, state chat.BotTurnState, note string, o turn.Outcome) error {
	err := s.store.FinishBotTurnWithState(ctx, t.ID, t.LeaseToken, state, note, o.State, o.Intent)
	if chat.IsCode(err, chat.CodeInvalid) && o.State != nil {
		// A connector's state the store refuses (too big) must not keep
		// the turn open for ever: the turn ends, and the next one starts
		// from the state before.
		s.log.WarnContext(ctx, "bot state not kept", "app", t.AppID, "bot", t.BotID, "turn", t.ID, "err", err)
		err = s.store.FinishBotTurnWithState(ctx, t.ID, t.LeaseToken, state, note, nil, o.Intent)
	}
	return s.finished(ctx, t, state, note, err)
}

// finished reads a finish's answer: a refused finish means another holder
// (or a handoff) owns the turn now, which is not an error for this node.
func (s *Service) finished(ctx context.Context, t chat.BotTurn, state chat.BotTurnState, note string, err error) error {
	if chat.IsCode(err, chat.CodeConflict) {
		s.log.DebugContext(ctx, "bot turn finished elsewhere", "turn", t.ID)
		return nil
	}
	if err == nil {
		s.log.DebugContext(ctx, "bot turn finished", "turn", t.ID, "state", string(state), "note", note)
	}
	return err
}

// BotWake fires when this node queued a bot turn. Wake-ups coalesce: one
// pending signal stands for any number of turns, and the worker claims
// everything that is ready.
func (s *Service) BotWake() <-chan struct{} { return s.botWake }

func (s *Service) wakeBots() {
	select {
	case s.botWake <- struct{}{}:
	default:
	}
}
