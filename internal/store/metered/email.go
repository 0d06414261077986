package metered

import (
	"context"
	"time"

	"github.com/switchboard-chat/switchboard/internal/store"
)

func (m *Store) MarkContactRead(ctx context.Context, appID, conversationID string, seq int64) (int64, error) {
	return observe(m, "MarkContactRead", func() (int64, error) { return m.s.MarkContactRead(ctx, appID, conversationID, seq) })
}
func (m *Store) ContactReadSeq(ctx context.Context, appID, conversationID string) (int64, error) {
	return observe(m, "ContactReadSeq", func() (int64, error) { return m.s.ContactReadSeq(ctx, appID, conversationID) })
}
func (m *Store) DueContactEmails(ctx context.Context, w store.UnreadWindow, limit int) ([]store.ConversationRef, error) {
	return observe(m, "DueContactEmails", func() ([]store.ConversationRef, error) { return m.s.DueContactEmails(ctx, w, limit) })
}
func (m *Store) ClaimContactEmail(ctx context.Context, ref store.ConversationRef, w store.UnreadWindow, lease time.Duration) (*store.ContactEmailClaim, error) {
	return observe(m, "ClaimContactEmail", func() (*store.ContactEmailClaim, error) {
		return m.s.ClaimContactEmail(ctx, ref, w, lease)
	})
}
func (m *Store) FinishContactEmail(ctx context.Context, ref store.ConversationRef, token string, done bool, retryAt time.Time) error {
	return observeErr(m, "FinishContactEmail", func() error { return m.s.FinishContactEmail(ctx, ref, token, done, retryAt) })
}
func (m *Store) ObserveAgents(ctx context.Context, appID string, offline, online []string) error {
	return observeErr(m, "ObserveAgents", func() error { return m.s.ObserveAgents(ctx, appID, offline, online) })
}
func (m *Store) OfflineAgents(ctx context.Context, appID string, before time.Time) ([]string, error) {
	return observe(m, "OfflineAgents", func() ([]string, error) { return m.s.OfflineAgents(ctx, appID, before) })
}
func (m *Store) ClaimAgentDigest(ctx context.Context, appID, agentID string, before time.Time, lease time.Duration) (*store.AgentDigestClaim, error) {
	return observe(m, "ClaimAgentDigest", func() (*store.AgentDigestClaim, error) {
		return m.s.ClaimAgentDigest(ctx, appID, agentID, before, lease)
	})
}
func (m *Store) FinishAgentDigest(ctx context.Context, c *store.AgentDigestClaim, done bool, retryAt time.Time) error {
	return observeErr(m, "FinishAgentDigest", func() error { return m.s.FinishAgentDigest(ctx, c, done, retryAt) })
}
