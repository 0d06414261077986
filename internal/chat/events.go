package chat

import "time"

// InboxKind names a change to an app's list of conversations, as the
// dashboard's inbox stream and (later) outgoing webhooks report it.
type InboxKind string

const (
	InboxCreated       InboxKind = "conversation.created"
	InboxAssigned      InboxKind = "conversation.assigned"
	InboxStatusChanged InboxKind = "conversation.status_changed"
	InboxUpdated       InboxKind = "conversation.updated" // team or metadata
)

// InboxEvent is one change to a conversation, numbered per app. Seq is
// strictly increasing with no gaps within an app, which is what lets a
// dashboard resume its inbox exactly where it left off. The event carries
// the conversation as it was right after the change.
type InboxEvent struct {
	AppID        string       `json:"appId"`
	Seq          int64        `json:"seq"`
	Kind         InboxKind    `json:"kind"`
	Conversation Conversation `json:"conversation"`
	CreatedAt    time.Time    `json:"createdAt"`
}

// InboxKindFor decides which inbox event an update produced; ok is false
// when nothing the inbox shows has changed. An assignment outranks a status
// change, because "who owns it" is what agents watch for.
func InboxKindFor(before, after *Conversation) (kind InboxKind, ok bool) {
	switch {
	case !sameAssignee(before.Assignee, after.Assignee):
		return InboxAssigned, true
	case before.Status != after.Status:
		return InboxStatusChanged, true
	case before.TeamID != after.TeamID || !sameMetadata(before.Metadata, after.Metadata):
		return InboxUpdated, true
	}
	return "", false
}

func sameAssignee(a, b *Assignee) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameMetadata(a, b Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
