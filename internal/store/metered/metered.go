// Package metered wraps a store.Store so that every call is timed into a
// Prometheus histogram labelled by operation and outcome. Decorating the
// interface keeps the database code free of metrics, and the same wrapper
// serves SQLite and PostgreSQL.
package metered

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// Store is a store.Store that records the latency of every call.
type Store struct {
	s    store.Store
	hist *prometheus.HistogramVec
}

var _ store.Store = (*Store)(nil)

// Wrap returns s instrumented on reg, as switchboard_store_seconds{op,outcome}.
func Wrap(s store.Store, reg prometheus.Registerer) *Store {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchboard_store_seconds",
		Help: "Latency of store operations, by operation and outcome (ok, or the error code).",
		// From 100µs (a cached read) to 2.5s (a stalled database).
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
	}, []string{"op", "outcome"})
	reg.MustRegister(h)
	return &Store{s: s, hist: h}
}

func observe[T any](m *Store, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	outcome := "ok"
	if err != nil {
		outcome = string(chat.ErrorCode(err))
	}
	m.hist.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
	return v, err
}

func observeErr(m *Store, op string, f func() error) error {
	_, err := observe(m, op, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

func (m *Store) Ping(ctx context.Context) error {
	return observeErr(m, "Ping", func() error { return m.s.Ping(ctx) })
}
func (m *Store) Close() error { return m.s.Close() }

func (m *Store) CreateApp(ctx context.Context, a *chat.App) error {
	return observeErr(m, "CreateApp", func() error { return m.s.CreateApp(ctx, a) })
}
func (m *Store) GetApp(ctx context.Context, id string) (*chat.App, error) {
	return observe(m, "GetApp", func() (*chat.App, error) { return m.s.GetApp(ctx, id) })
}
func (m *Store) ListApps(ctx context.Context) ([]chat.App, error) {
	return observe(m, "ListApps", func() ([]chat.App, error) { return m.s.ListApps(ctx) })
}

func (m *Store) CreateAgent(ctx context.Context, a *chat.Agent) error {
	return observeErr(m, "CreateAgent", func() error { return m.s.CreateAgent(ctx, a) })
}
func (m *Store) GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error) {
	return observe(m, "GetAgent", func() (*chat.Agent, error) { return m.s.GetAgent(ctx, appID, id) })
}
func (m *Store) AgentByEmail(ctx context.Context, email string) (*chat.Agent, error) {
	return observe(m, "AgentByEmail", func() (*chat.Agent, error) { return m.s.AgentByEmail(ctx, email) })
}
func (m *Store) ListAgents(ctx context.Context, appID string) ([]chat.Agent, error) {
	return observe(m, "ListAgents", func() ([]chat.Agent, error) { return m.s.ListAgents(ctx, appID) })
}
func (m *Store) SetAgentPresence(ctx context.Context, appID, id string, p chat.Presence) (*chat.Agent, error) {
	return observe(m, "SetAgentPresence", func() (*chat.Agent, error) { return m.s.SetAgentPresence(ctx, appID, id, p) })
}
func (m *Store) SetAgentPassword(ctx context.Context, appID, id, hash string) error {
	return observeErr(m, "SetAgentPassword", func() error { return m.s.SetAgentPassword(ctx, appID, id, hash) })
}

func (m *Store) CreateTeam(ctx context.Context, t *chat.Team) error {
	return observeErr(m, "CreateTeam", func() error { return m.s.CreateTeam(ctx, t) })
}
func (m *Store) GetTeam(ctx context.Context, appID, id string) (*chat.Team, error) {
	return observe(m, "GetTeam", func() (*chat.Team, error) { return m.s.GetTeam(ctx, appID, id) })
}
func (m *Store) ListTeams(ctx context.Context, appID string) ([]chat.Team, error) {
	return observe(m, "ListTeams", func() ([]chat.Team, error) { return m.s.ListTeams(ctx, appID) })
}

func (m *Store) CreateBot(ctx context.Context, b *chat.Bot) error {
	return observeErr(m, "CreateBot", func() error { return m.s.CreateBot(ctx, b) })
}
func (m *Store) GetBot(ctx context.Context, appID, id string) (*chat.Bot, error) {
	return observe(m, "GetBot", func() (*chat.Bot, error) { return m.s.GetBot(ctx, appID, id) })
}
func (m *Store) ListBots(ctx context.Context, appID string) ([]chat.Bot, error) {
	return observe(m, "ListBots", func() ([]chat.Bot, error) { return m.s.ListBots(ctx, appID) })
}
func (m *Store) UpdateBot(ctx context.Context, appID, id string, fn func(*chat.Bot, *store.AppRules) error) (*chat.Bot, error) {
	return observe(m, "UpdateBot", func() (*chat.Bot, error) { return m.s.UpdateBot(ctx, appID, id, fn) })
}
func (m *Store) DeleteBot(ctx context.Context, appID, id string) error {
	return observeErr(m, "DeleteBot", func() error { return m.s.DeleteBot(ctx, appID, id) })
}
func (m *Store) SetBotStatus(ctx context.Context, appID, id string, status chat.BotStatus, detail string) error {
	return observeErr(m, "SetBotStatus", func() error { return m.s.SetBotStatus(ctx, appID, id, status, detail) })
}

func (m *Store) GetAppRules(ctx context.Context, appID string) (*store.AppRules, error) {
	return observe(m, "GetAppRules", func() (*store.AppRules, error) { return m.s.GetAppRules(ctx, appID) })
}
func (m *Store) UpdateAppRules(ctx context.Context, appID string, fn func(*store.AppRules) error) (*store.AppRules, error) {
	return observe(m, "UpdateAppRules", func() (*store.AppRules, error) { return m.s.UpdateAppRules(ctx, appID, fn) })
}
func (m *Store) GetTeamRules(ctx context.Context, appID, teamID string) (*store.TeamRules, error) {
	return observe(m, "GetTeamRules", func() (*store.TeamRules, error) { return m.s.GetTeamRules(ctx, appID, teamID) })
}
func (m *Store) PutTeamRules(ctx context.Context, appID, teamID string, r store.TeamRules) error {
	return observeErr(m, "PutTeamRules", func() error { return m.s.PutTeamRules(ctx, appID, teamID, r) })
}

func (m *Store) CreateContact(ctx context.Context, c *chat.Contact) error {
	return observeErr(m, "CreateContact", func() error { return m.s.CreateContact(ctx, c) })
}
func (m *Store) GetContact(ctx context.Context, appID, id string) (*chat.Contact, error) {
	return observe(m, "GetContact", func() (*chat.Contact, error) { return m.s.GetContact(ctx, appID, id) })
}
func (m *Store) ContactByUserID(ctx context.Context, appID, userID string) (*chat.Contact, error) {
	return observe(m, "ContactByUserID", func() (*chat.Contact, error) { return m.s.ContactByUserID(ctx, appID, userID) })
}
func (m *Store) UpdateContact(ctx context.Context, appID, id string, u store.ContactUpdate) (*chat.Contact, error) {
	return observe(m, "UpdateContact", func() (*chat.Contact, error) { return m.s.UpdateContact(ctx, appID, id, u) })
}

func (m *Store) CreateConversation(ctx context.Context, c *chat.Conversation) error {
	return observeErr(m, "CreateConversation", func() error { return m.s.CreateConversation(ctx, c) })
}
func (m *Store) GetConversation(ctx context.Context, appID, id string) (*chat.Conversation, error) {
	return observe(m, "GetConversation", func() (*chat.Conversation, error) { return m.s.GetConversation(ctx, appID, id) })
}
func (m *Store) ListConversations(ctx context.Context, appID string, f store.ConversationFilter) (store.ConversationPage, error) {
	return observe(m, "ListConversations", func() (store.ConversationPage, error) { return m.s.ListConversations(ctx, appID, f) })
}
func (m *Store) UpdateConversation(ctx context.Context, appID, id string, fn func(*chat.Conversation) error, facts ...*chat.AnalyticsEvent) (*chat.Conversation, error) {
	return observe(m, "UpdateConversation", func() (*chat.Conversation, error) { return m.s.UpdateConversation(ctx, appID, id, fn, facts...) })
}

func (m *Store) AssignRoundRobin(ctx context.Context, appID, teamID, conversationID string, decide func(store.RoundRobin, *chat.Conversation) (string, error), facts ...*chat.AnalyticsEvent) (*chat.Conversation, error) {
	return observe(m, "AssignRoundRobin", func() (*chat.Conversation, error) {
		return m.s.AssignRoundRobin(ctx, appID, teamID, conversationID, decide, facts...)
	})
}

type appended struct {
	msg     *chat.Message
	created bool
}

func (m *Store) AppendMessage(ctx context.Context, appID, conversationID string, nm chat.NewMessage) (*chat.Message, bool, error) {
	r, err := observe(m, "AppendMessage", func() (appended, error) {
		msg, created, err := m.s.AppendMessage(ctx, appID, conversationID, nm)
		return appended{msg, created}, err
	})
	return r.msg, r.created, err
}
func (m *Store) AppendMessages(ctx context.Context, appID, conversationID string, ms []chat.NewMessage) ([]store.Appended, error) {
	return observe(m, "AppendMessages", func() ([]store.Appended, error) {
		return m.s.AppendMessages(ctx, appID, conversationID, ms)
	})
}

func (m *Store) ListMessages(ctx context.Context, appID, conversationID string, afterSeq int64, limit int) ([]chat.Message, error) {
	return observe(m, "ListMessages", func() ([]chat.Message, error) {
		return m.s.ListMessages(ctx, appID, conversationID, afterSeq, limit)
	})
}

func (m *Store) LastSeqs(ctx context.Context, appID string, conversationIDs []string) (map[string]int64, error) {
	return observe(m, "LastSeqs", func() (map[string]int64, error) { return m.s.LastSeqs(ctx, appID, conversationIDs) })
}

func (m *Store) ListInboxEvents(ctx context.Context, appID string, afterSeq int64, limit int) ([]chat.InboxEvent, error) {
	return observe(m, "ListInboxEvents", func() ([]chat.InboxEvent, error) {
		return m.s.ListInboxEvents(ctx, appID, afterSeq, limit)
	})
}
func (m *Store) InboxSeq(ctx context.Context, appID string) (int64, error) {
	return observe(m, "InboxSeq", func() (int64, error) { return m.s.InboxSeq(ctx, appID) })
}

func (m *Store) SetNodeConnections(ctx context.Context, nodeID string, agents []store.AgentRef, expiresAt time.Time) error {
	return observeErr(m, "SetNodeConnections", func() error { return m.s.SetNodeConnections(ctx, nodeID, agents, expiresAt) })
}
func (m *Store) ConnectedAgents(ctx context.Context, appID string) ([]string, error) {
	return observe(m, "ConnectedAgents", func() ([]string, error) { return m.s.ConnectedAgents(ctx, appID) })
}

func (m *Store) CreateUpload(ctx context.Context, u *chat.Upload) error {
	return observeErr(m, "CreateUpload", func() error { return m.s.CreateUpload(ctx, u) })
}
func (m *Store) GetUpload(ctx context.Context, appID, id string) (*chat.Upload, error) {
	return observe(m, "GetUpload", func() (*chat.Upload, error) { return m.s.GetUpload(ctx, appID, id) })
}

func (m *Store) CreateAPIKey(ctx context.Context, k *chat.APIKey) error {
	return observeErr(m, "CreateAPIKey", func() error { return m.s.CreateAPIKey(ctx, k) })
}
func (m *Store) APIKeyByPrefix(ctx context.Context, prefix string) (*chat.APIKey, error) {
	return observe(m, "APIKeyByPrefix", func() (*chat.APIKey, error) { return m.s.APIKeyByPrefix(ctx, prefix) })
}
func (m *Store) ListAPIKeys(ctx context.Context, appID string) ([]chat.APIKey, error) {
	return observe(m, "ListAPIKeys", func() ([]chat.APIKey, error) { return m.s.ListAPIKeys(ctx, appID) })
}
func (m *Store) DeleteAPIKey(ctx context.Context, appID, id string) error {
	return observeErr(m, "DeleteAPIKey", func() error { return m.s.DeleteAPIKey(ctx, appID, id) })
}

func (m *Store) CreateSession(ctx context.Context, s *chat.Session) error {
	return observeErr(m, "CreateSession", func() error { return m.s.CreateSession(ctx, s) })
}
func (m *Store) SessionByTokenHash(ctx context.Context, hash []byte) (*chat.Session, error) {
	return observe(m, "SessionByTokenHash", func() (*chat.Session, error) { return m.s.SessionByTokenHash(ctx, hash) })
}
func (m *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return observeErr(m, "DeleteSession", func() error { return m.s.DeleteSession(ctx, hash) })
}

func (m *Store) RecordLoginFailure(ctx context.Context, subjects []string, at, forgetBefore time.Time) error {
	return observeErr(m, "RecordLoginFailure", func() error { return m.s.RecordLoginFailure(ctx, subjects, at, forgetBefore) })
}
func (m *Store) NthLoginFailure(ctx context.Context, subject string, n int, since time.Time) (time.Time, error) {
	return observe(m, "NthLoginFailure", func() (time.Time, error) { return m.s.NthLoginFailure(ctx, subject, n, since) })
}
func (m *Store) ClearLoginFailures(ctx context.Context, subject string) error {
	return observeErr(m, "ClearLoginFailures", func() error { return m.s.ClearLoginFailures(ctx, subject) })
}

func (m *Store) EnqueueBotTurn(ctx context.Context, t *chat.BotTurn) (bool, error) {
	return observe(m, "EnqueueBotTurn", func() (bool, error) { return m.s.EnqueueBotTurn(ctx, t) })
}
func (m *Store) ClaimBotTurns(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]chat.BotTurn, error) {
	return observe(m, "ClaimBotTurns", func() ([]chat.BotTurn, error) { return m.s.ClaimBotTurns(ctx, nodeID, lease, limit) })
}
func (m *Store) ExtendBotTurnLease(ctx context.Context, id, token string, lease time.Duration) error {
	return observeErr(m, "ExtendBotTurnLease", func() error { return m.s.ExtendBotTurnLease(ctx, id, token, lease) })
}
func (m *Store) FinishBotTurn(ctx context.Context, id, token string, state chat.BotTurnState, note string) error {
	return observeErr(m, "FinishBotTurn", func() error { return m.s.FinishBotTurn(ctx, id, token, state, note) })
}
func (m *Store) ReleaseBotTurn(ctx context.Context, id, token string) error {
	return observeErr(m, "ReleaseBotTurn", func() error { return m.s.ReleaseBotTurn(ctx, id, token) })
}
func (m *Store) PendingBotTurns(ctx context.Context, appID, conversationID string) ([]chat.BotTurn, error) {
	return observe(m, "PendingBotTurns", func() ([]chat.BotTurn, error) { return m.s.PendingBotTurns(ctx, appID, conversationID) })
}
func (m *Store) CancelBotTurns(ctx context.Context, appID, conversationID, note string) (int, error) {
	return observe(m, "CancelBotTurns", func() (int, error) { return m.s.CancelBotTurns(ctx, appID, conversationID, note) })
}

func (m *Store) GetBotState(ctx context.Context, appID, conversationID, botID string) (json.RawMessage, bool, error) {
	start := time.Now()
	state, ok, err := m.s.GetBotState(ctx, appID, conversationID, botID)
	outcome := "ok"
	if err != nil {
		outcome = string(chat.ErrorCode(err))
	}
	m.hist.WithLabelValues("GetBotState", outcome).Observe(time.Since(start).Seconds())
	return state, ok, err
}
func (m *Store) FinishBotTurnWithState(ctx context.Context, id, token string, state chat.BotTurnState, note string, botState json.RawMessage, intent string) error {
	return observeErr(m, "FinishBotTurnWithState", func() error {
		return m.s.FinishBotTurnWithState(ctx, id, token, state, note, botState, intent)
	})
}

// botIntent carries BotIntent's two results through observe.
type botIntent struct {
	intent string
	ok     bool
}

func (m *Store) BotIntent(ctx context.Context, appID, conversationID, botID string) (string, bool, error) {
	r, err := observe(m, "BotIntent", func() (botIntent, error) {
		intent, ok, err := m.s.BotIntent(ctx, appID, conversationID, botID)
		return botIntent{intent, ok}, err
	})
	return r.intent, r.ok, err
}
func (m *Store) DetachBots(ctx context.Context, appID, conversationID, keepBotID string) error {
	return observeErr(m, "DetachBots", func() error { return m.s.DetachBots(ctx, appID, conversationID, keepBotID) })
}
func (m *Store) RecordAnalytics(ctx context.Context, e *chat.AnalyticsEvent) (bool, error) {
	return observe(m, "RecordAnalytics", func() (bool, error) { return m.s.RecordAnalytics(ctx, e) })
}
func (m *Store) RecordFirstResponse(ctx context.Context, msg *chat.Message) error {
	return observeErr(m, "RecordFirstResponse", func() error { return m.s.RecordFirstResponse(ctx, msg) })
}
func (m *Store) AnalyticsSummary(ctx context.Context, appID string, from, to time.Time) (*store.AnalyticsSummary, error) {
	return observe(m, "AnalyticsSummary", func() (*store.AnalyticsSummary, error) { return m.s.AnalyticsSummary(ctx, appID, from, to) })
}
func (m *Store) IdleConversations(ctx context.Context, appID string, teamIDs []string, before time.Time, limit int) ([]chat.Conversation, error) {
	return observe(m, "IdleConversations", func() ([]chat.Conversation, error) {
		return m.s.IdleConversations(ctx, appID, teamIDs, before, limit)
	})
}

func (m *Store) CreateWebhook(ctx context.Context, e *webhook.Endpoint) error {
	return observeErr(m, "CreateWebhook", func() error { return m.s.CreateWebhook(ctx, e) })
}
func (m *Store) GetWebhook(ctx context.Context, appID, id string) (*webhook.Endpoint, error) {
	return observe(m, "GetWebhook", func() (*webhook.Endpoint, error) { return m.s.GetWebhook(ctx, appID, id) })
}
func (m *Store) ListWebhooks(ctx context.Context, appID string) ([]webhook.Endpoint, error) {
	return observe(m, "ListWebhooks", func() ([]webhook.Endpoint, error) { return m.s.ListWebhooks(ctx, appID) })
}
func (m *Store) UpdateWebhook(ctx context.Context, appID, id string, fn func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	return observe(m, "UpdateWebhook", func() (*webhook.Endpoint, error) { return m.s.UpdateWebhook(ctx, appID, id, fn) })
}
func (m *Store) DeleteWebhook(ctx context.Context, appID, id string) error {
	return observeErr(m, "DeleteWebhook", func() error { return m.s.DeleteWebhook(ctx, appID, id) })
}
func (m *Store) ClaimWebhookDeliveries(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]webhook.Delivery, error) {
	return observe(m, "ClaimWebhookDeliveries", func() ([]webhook.Delivery, error) {
		return m.s.ClaimWebhookDeliveries(ctx, nodeID, lease, limit)
	})
}
func (m *Store) FinishWebhookDelivery(ctx context.Context, id, token string, o webhook.Outcome) (bool, error) {
	return observe(m, "FinishWebhookDelivery", func() (bool, error) { return m.s.FinishWebhookDelivery(ctx, id, token, o) })
}
func (m *Store) FinishWebhookDeliveries(ctx context.Context, fs []webhook.Finish) ([]webhook.FinishResult, error) {
	return observe(m, "FinishWebhookDeliveries", func() ([]webhook.FinishResult, error) { return m.s.FinishWebhookDeliveries(ctx, fs) })
}
func (m *Store) FinishAndClaimWebhookDeliveries(ctx context.Context, fs []webhook.Finish, nodeID string, lease time.Duration,
	limit int) ([]webhook.FinishResult, []webhook.Delivery, error) {
	var claimed []webhook.Delivery
	rs, err := observe(m, "FinishAndClaimWebhookDeliveries", func() ([]webhook.FinishResult, error) {
		rs, ds, err := m.s.FinishAndClaimWebhookDeliveries(ctx, fs, nodeID, lease, limit)
		claimed = ds
		return rs, err
	})
	return rs, claimed, err
}
func (m *Store) ReleaseWebhookDelivery(ctx context.Context, id, token string) error {
	return observeErr(m, "ReleaseWebhookDelivery", func() error { return m.s.ReleaseWebhookDelivery(ctx, id, token) })
}
func (m *Store) ListWebhookDeliveries(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Delivery, error) {
	return observe(m, "ListWebhookDeliveries", func() ([]webhook.Delivery, error) {
		return m.s.ListWebhookDeliveries(ctx, appID, endpointID, limit)
	})
}
func (m *Store) ListWebhookAttempts(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Attempt, error) {
	return observe(m, "ListWebhookAttempts", func() ([]webhook.Attempt, error) {
		return m.s.ListWebhookAttempts(ctx, appID, endpointID, limit)
	})
}
func (m *Store) RedeliverWebhook(ctx context.Context, appID, endpointID, eventID string) (*webhook.Delivery, error) {
	return observe(m, "RedeliverWebhook", func() (*webhook.Delivery, error) {
		return m.s.RedeliverWebhook(ctx, appID, endpointID, eventID)
	})
}
func (m *Store) PurgeWebhooks(ctx context.Context, before time.Time, limit int) (store.WebhookPurge, error) {
	return observe(m, "PurgeWebhooks", func() (store.WebhookPurge, error) { return m.s.PurgeWebhooks(ctx, before, limit) })
}
