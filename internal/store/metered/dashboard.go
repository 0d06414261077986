package metered

import (
	"context"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

func (m *Store) CreateInvite(ctx context.Context, inv *store.Invite) error {
	return observeErr(m, "CreateInvite", func() error { return m.s.CreateInvite(ctx, inv) })
}
func (m *Store) InviteByTokenHash(ctx context.Context, hash []byte) (*store.Invite, error) {
	return observe(m, "InviteByTokenHash", func() (*store.Invite, error) { return m.s.InviteByTokenHash(ctx, hash) })
}
func (m *Store) ListInvites(ctx context.Context, appID string) ([]store.Invite, error) {
	return observe(m, "ListInvites", func() ([]store.Invite, error) { return m.s.ListInvites(ctx, appID) })
}
func (m *Store) DeleteInvite(ctx context.Context, appID, id string) error {
	return observeErr(m, "DeleteInvite", func() error { return m.s.DeleteInvite(ctx, appID, id) })
}
func (m *Store) AcceptInvite(ctx context.Context, hash []byte, a *chat.Agent) error {
	return observeErr(m, "AcceptInvite", func() error { return m.s.AcceptInvite(ctx, hash, a) })
}

// lastHandoff carries LastHandoff's two results through observe.
type lastHandoff struct {
	e  *chat.AnalyticsEvent
	ok bool
}

func (m *Store) LastHandoff(ctx context.Context, appID, conversationID string) (*chat.AnalyticsEvent, bool, error) {
	r, err := observe(m, "LastHandoff", func() (lastHandoff, error) {
		e, ok, err := m.s.LastHandoff(ctx, appID, conversationID)
		return lastHandoff{e, ok}, err
	})
	return r.e, r.ok, err
}

func (m *Store) ListInbox(ctx context.Context, appID string, q store.InboxQuery) (store.InboxPage, error) {
	return observe(m, "ListInbox", func() (store.InboxPage, error) { return m.s.ListInbox(ctx, appID, q) })
}

func (m *Store) AddNote(ctx context.Context, n *store.Note) error {
	return observeErr(m, "AddNote", func() error { return m.s.AddNote(ctx, n) })
}
func (m *Store) ListNotes(ctx context.Context, appID, conversationID string) ([]store.Note, error) {
	return observe(m, "ListNotes", func() ([]store.Note, error) { return m.s.ListNotes(ctx, appID, conversationID) })
}
