// Package store defines how Switchboard persists its domain. The interface
// lives here, beside its one shared test suite (storetest); sqlite/ and
// postgres/ implement it on a common database/sql core (sqlstore/).
//
// Every method that touches app data takes the app id and scopes its query by
// it: an id from another app is reported as not found, never served.
package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/webhook"
)

// Store is the whole persistence surface. Methods return *chat.Error values
// for expected failures (CodeNotFound, CodeConflict, CodeInvalid) and wrapped
// errors for everything else.
type Store interface {
	// Ping reports whether the database answers and migrations are applied.
	Ping(ctx context.Context) error
	Close() error

	CreateApp(ctx context.Context, app *chat.App) error
	GetApp(ctx context.Context, id string) (*chat.App, error)
	ListApps(ctx context.Context) ([]chat.App, error)

	// CreateAgent fails with CodeConflict when the email is taken (emails are
	// unique across the installation, because sign-in is by email alone).
	CreateAgent(ctx context.Context, a *chat.Agent) error
	GetAgent(ctx context.Context, appID, id string) (*chat.Agent, error)
	// AgentByEmail is unscoped: it serves sign-in, before the app is known.
	AgentByEmail(ctx context.Context, email string) (*chat.Agent, error)
	ListAgents(ctx context.Context, appID string) ([]chat.Agent, error)
	SetAgentPresence(ctx context.Context, appID, id string, p chat.Presence) (*chat.Agent, error)
	SetAgentPassword(ctx context.Context, appID, id, hash string) error

	// CreateTeam fails with CodeInvalid when a member is not an agent of the app.
	CreateTeam(ctx context.Context, t *chat.Team) error
	GetTeam(ctx context.Context, appID, id string) (*chat.Team, error)
	ListTeams(ctx context.Context, appID string) ([]chat.Team, error)

	CreateBot(ctx context.Context, b *chat.Bot) error
	GetBot(ctx context.Context, appID, id string) (*chat.Bot, error)
	ListBots(ctx context.Context, appID string) ([]chat.Bot, error)
	// UpdateBot reads the bot and its app's rules, lets fn change the bot's
	// name, avatar, enabled and auto-handoff flags and settings and the
	// rules, and writes both in one transaction. The rules travel with the
	// bot because "this bot handles all new conversations" lives in the
	// rules (chat.Rules.HandleAllBotID): moving the mark from one bot to
	// another is then a single write. When fn fails nothing is written.
	UpdateBot(ctx context.Context, appID, id string, fn func(*chat.Bot, *AppRules) error) (*chat.Bot, error)
	// DeleteBot fails with CodeConflict while a conversation that is not
	// closed has the bot as its assignee. In the same transaction it takes
	// the bot out of the app's and the teams' rules, so no rule ever names
	// a bot that is gone.
	DeleteBot(ctx context.Context, appID, id string) error
	// SetBotStatus records a bot's health (detail cut like a turn note,
	// chat.TrimNote) without touching anything else, so a
	// failing turn can report it while an admin edits the bot.
	SetBotStatus(ctx context.Context, appID, id string, status chat.BotStatus, detail string) error

	// GetAppRules returns the app's rules, chat.DefaultRules with no
	// business hours when none are stored. An unknown app is CodeNotFound.
	GetAppRules(ctx context.Context, appID string) (*AppRules, error)
	// UpdateAppRules is read-modify-write of the app's rules, serialised
	// against every other change to them (from any node).
	UpdateAppRules(ctx context.Context, appID string, fn func(*AppRules) error) (*AppRules, error)
	// GetTeamRules returns a team's override, empty (inherit everything)
	// when none is stored. An unknown team, or another app's, is CodeNotFound.
	GetTeamRules(ctx context.Context, appID, teamID string) (*TeamRules, error)
	// PutTeamRules replaces a team's override.
	PutTeamRules(ctx context.Context, appID, teamID string, r TeamRules) error

	CreateContact(ctx context.Context, c *chat.Contact) error
	GetContact(ctx context.Context, appID, id string) (*chat.Contact, error)
	// ContactByUserID finds an identified contact by the customer's own user id.
	ContactByUserID(ctx context.Context, appID, userID string) (*chat.Contact, error)
	UpdateContact(ctx context.Context, appID, id string, u ContactUpdate) (*chat.Contact, error)

	// CreateConversation also appends a chat.InboxCreated inbox event.
	CreateConversation(ctx context.Context, c *chat.Conversation) error
	GetConversation(ctx context.Context, appID, id string) (*chat.Conversation, error)
	ListConversations(ctx context.Context, appID string, f ConversationFilter) (ConversationPage, error)
	// UpdateConversation reads the conversation, lets fn change its status,
	// assignee, team or metadata, and writes it back atomically: concurrent
	// updates of one conversation (from any node) are serialised. When fn
	// returns an error nothing is written and that error is returned. When
	// the change is one the inbox shows (chat.InboxKindFor), an inbox event
	// is appended in the same transaction.
	//
	// facts are analytics facts the change causes (a handoff), which fn
	// fills in as it decides: each one with a Key is stored after the
	// change in the same transaction, as RecordAnalytics would store it
	// (its key makes a repeat a no-op), with its webhook event. So a crash
	// can never keep the change and lose the event. A fact left without a
	// Key records nothing.
	UpdateConversation(ctx context.Context, appID, id string, fn func(*chat.Conversation) error, facts ...*chat.AnalyticsEvent) (*chat.Conversation, error)
	// AssignRoundRobin places a conversation with the round-robin cursor of
	// the app (teamID "") or team locked: in one transaction it locks the
	// cursor, reads it and the app's open-chat counts, lets decide change
	// the conversation as UpdateConversation's fn would (same rules, same
	// inbox event) and return the cursor to store, then writes both. Every
	// placement in one app or team, from any node, is serialised on the
	// cursor, so two never read the same cursor or the same counts: that is
	// what makes round robin fair across nodes. decide runs under the locks
	// and must be quick and pure (no store calls); when it fails nothing is
	// written and its error is returned. facts are as UpdateConversation's.
	//
	// Lock order: the cursor row, then the conversation row, then the app
	// row (inbox seq). No other transaction takes the cursor row, and all of
	// them take conversation rows before the app row, so no cycle can form.
	AssignRoundRobin(ctx context.Context, appID, teamID, conversationID string, decide func(RoundRobin, *chat.Conversation) (cursor string, err error), facts ...*chat.AnalyticsEvent) (*chat.Conversation, error)

	// AppendMessage stores m as the conversation's next message. It returns
	// only once the message is durable. Seqs are allocated per conversation,
	// strictly increasing with no gaps, even across processes. When m has a
	// ClientKey already used in this conversation, the original message is
	// returned with created == false and nothing is written.
	AppendMessage(ctx context.Context, appID, conversationID string, m chat.NewMessage) (msg *chat.Message, created bool, err error)
	// AppendMessages appends ms in order as AppendMessage does, durable
	// together: one commit to wait for rather than one per message (a bot's
	// answer of several messages). On an error it returns the messages
	// stored before it.
	AppendMessages(ctx context.Context, appID, conversationID string, ms []chat.NewMessage) ([]Appended, error)
	// ListMessages returns messages with seq > afterSeq in seq order, at most limit.
	ListMessages(ctx context.Context, appID, conversationID string, afterSeq int64, limit int) ([]chat.Message, error)
	// LastSeqs returns the last message seq of each of the app's conversations
	// named; ids of other apps or unknown ids are absent from the map.
	LastSeqs(ctx context.Context, appID string, conversationIDs []string) (map[string]int64, error)

	// ListInboxEvents returns the app's inbox events with seq > afterSeq, in
	// seq order, at most limit (same page limits as lists). CreateConversation
	// and UpdateConversation append these in the same transaction as the
	// change, so the stream and the conversations never disagree.
	ListInboxEvents(ctx context.Context, appID string, afterSeq int64, limit int) ([]chat.InboxEvent, error)
	// InboxSeq returns the seq of the app's newest inbox event (0 when none).
	// An unknown app is CodeNotFound.
	InboxSeq(ctx context.Context, appID string) (int64, error)

	// SetNodeConnections records that node nodeID holds live connections of
	// exactly these agents until expiresAt, replacing what it recorded before
	// (an empty list clears it). Nodes refresh it periodically; a node that
	// dies simply lets its rows expire.
	SetNodeConnections(ctx context.Context, nodeID string, agents []AgentRef, expiresAt time.Time) error
	// ConnectedAgents returns the ids of the app's agents with an unexpired
	// connection on any node, sorted.
	ConnectedAgents(ctx context.Context, appID string) ([]string, error)

	// The bot-turn queue. Turns are durable: a turn enqueued is answered or
	// handed off even if the node working on it dies (SPEC §9). Per
	// conversation, at most one turn is in flight and turns run in order
	// (the message's seq; an event not tied to a message sits after the
	// messages stored when it was enqueued).
	//
	// A claim is a lease: the claimer's node id, a fresh token, and an
	// expiry. Only the token's holder may extend, finish or release the
	// turn. When a lease expires (its node died, or stalled past it), the
	// next claim takes the turn over with a new token, so the old holder's
	// finish is refused with CodeConflict and the turn is finished once.
	//
	// Replies and the finish are separate writes. A worker posts the turn's
	// replies with chat.BotReplyKey(turn.ID, i) as client keys, then
	// finishes: a takeover after a crash between the two re-posts the same
	// keys, which AppendMessage answers with the originals, so replies
	// appear once. A worker whose finish is refused stops at once and posts
	// nothing more.

	// EnqueueBotTurn stores t as pending and fills in its id, state and
	// times. A turn answering a message (MessageSeq > 0) is unique per
	// conversation and message: enqueuing it again returns the stored turn
	// in t with created == false. The conversation and bot must be the
	// app's, and the message must exist.
	EnqueueBotTurn(ctx context.Context, t *chat.BotTurn) (created bool, err error)
	// ClaimBotTurns leases up to limit turns to nodeID for lease: the oldest
	// open turn of each conversation that has no live lease, whether pending
	// or running under an expired lease (then it counts one more attempt).
	// It is not scoped by app: one worker pool serves every app. Safe to
	// call from any number of goroutines and nodes at once: a turn never
	// has two live leases.
	ClaimBotTurns(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]chat.BotTurn, error)
	// ExtendBotTurnLease moves the lease's expiry to now+lease. A token that
	// is no longer the turn's is CodeConflict: the lease was lost.
	ExtendBotTurnLease(ctx context.Context, id, token string, lease time.Duration) error
	// FinishBotTurn ends a running turn with a final state and an
	// admin-safe note (cut to chat.MaxBotTurnNote). Only the lease holder
	// may: a stale token, or a turn cancelled meanwhile, is CodeConflict and
	// changes nothing. Repeating a successful finish (same token and state)
	// succeeds, so a finish whose answer was lost can be retried.
	FinishBotTurn(ctx context.Context, id, token string, state chat.BotTurnState, note string) error
	// ReleaseBotTurn gives a running turn back to the queue without counting
	// the attempt, for a node shutting down gracefully. Stale token:
	// CodeConflict.
	ReleaseBotTurn(ctx context.Context, id, token string) error
	// PendingBotTurns lists a conversation's open turns (pending and
	// running), in the order they will run.
	PendingBotTurns(ctx context.Context, appID, conversationID string) ([]chat.BotTurn, error)
	// CancelBotTurns marks a conversation's open turns handed_off with note
	// and returns how many: after a handoff the bot gets nothing more. A
	// running turn's holder then finds its lease lost.
	CancelBotTurns(ctx context.Context, appID, conversationID, note string) (int, error)

	// Connector state: what a bot's connector keeps between the turns of
	// one conversation (Lex's session attributes, a fallback count). A bot
	// with a row takes part in the conversation, even with no state; its
	// row goes when it is detached (RemoveBotOnHandoff) or when the
	// conversation is handed back to another bot.

	// GetBotState returns the bot's state in the conversation; ok is false
	// when the bot has no row there (it never finished a turn in it, or it
	// was detached), and state is nil when it has a row but no state.
	GetBotState(ctx context.Context, appID, conversationID, botID string) (state json.RawMessage, ok bool, err error)
	// FinishBotTurnWithState is FinishBotTurn that, in the same
	// transaction, records the turn's bot as taking part and stores its
	// state (nil keeps the stored state) and the intent the bot understood
	// ("" when none). So a turn's outcome and the state the next turn
	// starts from are written together or not at all.
	FinishBotTurnWithState(ctx context.Context, id, token string, state chat.BotTurnState, note string, botState json.RawMessage, intent string) error
	// BotIntent returns the intent the bot reported in its last finished
	// turn of the conversation ("" when it reported none); ok is false when
	// the bot has no row there, as for GetBotState.
	BotIntent(ctx context.Context, appID, conversationID, botID string) (intent string, ok bool, err error)
	// DetachBots deletes the rows (and state) of the conversation's bots
	// other than keepBotID ("" detaches every bot).
	DetachBots(ctx context.Context, appID, conversationID, keepBotID string) error

	// Analytics events, recorded when they happen (chat.AnalyticsEvent).

	// RecordAnalytics stores e and fills in its time, unless the app has an
	// event with e.Key already: then nothing is written, e is set to the
	// stored event and created is false. The conversation must be the app's.
	RecordAnalytics(ctx context.Context, e *chat.AnalyticsEvent) (created bool, err error)
	// RecordFirstResponse records the first-response events m answers, if
	// they are due: m is an agent's or bot's message, and the conversation
	// has a contact message before it and no such event yet. Idempotent.
	RecordFirstResponse(ctx context.Context, m *chat.Message) error
	// AnalyticsSummary counts the app's events and new conversations with
	// from <= time < to.
	AnalyticsSummary(ctx context.Context, appID string, from, to time.Time) (*AnalyticsSummary, error)

	// IdleConversations returns up to limit of the app's conversations that
	// are not closed, belong to one of teamIDs ("" for no team), and have
	// had no activity (message or change) since before; oldest first.
	IdleConversations(ctx context.Context, appID string, teamIDs []string, before time.Time, limit int) ([]chat.Conversation, error)

	CreateUpload(ctx context.Context, u *chat.Upload) error
	GetUpload(ctx context.Context, appID, id string) (*chat.Upload, error)

	WebhookStore
	DashboardStore
	EmailStore
	CannedReplyStore
	LoginFailureStore

	CreateAPIKey(ctx context.Context, k *chat.APIKey) error
	// APIKeyByPrefix is unscoped: it serves authentication.
	APIKeyByPrefix(ctx context.Context, prefix string) (*chat.APIKey, error)
	ListAPIKeys(ctx context.Context, appID string) ([]chat.APIKey, error)
	DeleteAPIKey(ctx context.Context, appID, id string) error

	CreateSession(ctx context.Context, s *chat.Session) error
	// SessionByTokenHash returns only unexpired sessions.
	SessionByTokenHash(ctx context.Context, hash []byte) (*chat.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
}

// LoginFailureStore keeps failed sign-ins for the brute-force limit, in the
// database so that every node counts the same attempts. A subject is what
// the limit is kept for: an email's hash, or a client address.
type LoginFailureStore interface {
	// RecordLoginFailure notes one failure at at for each subject, and
	// forgets every failure from before forgetBefore.
	RecordLoginFailure(ctx context.Context, subjects []string, at, forgetBefore time.Time) error
	// NthLoginFailure returns the time of subject's n-th most recent
	// failure at or after since, or the zero time when there are fewer.
	NthLoginFailure(ctx context.Context, subject string, n int, since time.Time) (time.Time, error)
	// ClearLoginFailures forgets subject's failures.
	ClearLoginFailures(ctx context.Context, subject string) error
}

// WebhookStore keeps outgoing webhooks (SPEC §7): endpoints, and the
// outbox of their deliveries. The events themselves are written by the
// changes that cause them (AppendMessage, CreateConversation,
// UpdateConversation, AssignRoundRobin, RecordAnalytics for handoffs and
// CSAT), in the same transaction, with one delivery per enabled endpoint
// subscribed at that moment.
//
// Deliveries are leased like bot turns: a claim gives a fresh token, only
// its holder may finish or release the delivery, and an expired lease
// (a dead node) lets the next claim take it over. Per endpoint and
// conversation, one delivery is in flight at a time, in event order.
type WebhookStore interface {
	// CreateWebhook stores an endpoint whose credentials the caller has
	// sealed. An app has at most webhook.MaxEndpoints (CodeConflict).
	CreateWebhook(ctx context.Context, e *webhook.Endpoint) error
	GetWebhook(ctx context.Context, appID, id string) (*webhook.Endpoint, error)
	ListWebhooks(ctx context.Context, appID string) ([]webhook.Endpoint, error)
	// UpdateWebhook is read-modify-write of an endpoint, serialised against
	// the delivery workers' failure counting. When fn fails nothing is
	// written. Enabling a disabled endpoint clears its failure run.
	UpdateWebhook(ctx context.Context, appID, id string, fn func(*webhook.Endpoint) error) (*webhook.Endpoint, error)
	// DeleteWebhook removes the endpoint, its deliveries and its log.
	DeleteWebhook(ctx context.Context, appID, id string) error
	// ClaimWebhookDeliveries leases up to limit due deliveries, across
	// apps, each with its event and endpoint filled in.
	ClaimWebhookDeliveries(ctx context.Context, nodeID string, lease time.Duration, limit int) ([]webhook.Delivery, error)
	// FinishWebhookDelivery logs the attempt and moves the delivery on
	// (webhook.Outcome); disabled reports that this failure disabled the
	// endpoint. A stale token is CodeConflict and changes nothing.
	FinishWebhookDelivery(ctx context.Context, id, token string, o webhook.Outcome) (disabled bool, err error)
	// FinishWebhookDeliveries is FinishWebhookDelivery for many deliveries
	// in one transaction, so that a busy worker pays one commit for many
	// outcomes. A refused item gets its error in its result and the others
	// go ahead; an error returned means nothing was written.
	FinishWebhookDeliveries(ctx context.Context, fs []webhook.Finish) ([]webhook.FinishResult, error)
	// FinishAndClaimWebhookDeliveries is FinishWebhookDeliveries and then
	// ClaimWebhookDeliveries in one transaction: outcomes unblock their
	// conversations' next deliveries, which a busy worker takes at once.
	FinishAndClaimWebhookDeliveries(ctx context.Context, fs []webhook.Finish, nodeID string, lease time.Duration,
		limit int) ([]webhook.FinishResult, []webhook.Delivery, error)
	// ReleaseWebhookDelivery hands a running delivery back without counting
	// the attempt.
	ReleaseWebhookDelivery(ctx context.Context, id, token string) error
	// ListWebhookDeliveries and ListWebhookAttempts return the endpoint's
	// newest first (same page limits as lists; the log keeps
	// webhook.LogSize attempts).
	ListWebhookDeliveries(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Delivery, error)
	ListWebhookAttempts(ctx context.Context, appID, endpointID string, limit int) ([]webhook.Attempt, error)
	// RedeliverWebhook queues an event the endpoint was sent before once
	// more, under the same event id.
	RedeliverWebhook(ctx context.Context, appID, endpointID, eventID string) (*webhook.Delivery, error)
	// PurgeWebhooks is the retention sweep, across apps: it deletes up to
	// limit deliveries finished (delivered or given up) before before, then
	// up to limit events older than before that no delivery refers to any
	// more, then up to limit attempts beyond each endpoint's last
	// webhook.LogSize. Every node may run it at any time.
	PurgeWebhooks(ctx context.Context, before time.Time, limit int) (WebhookPurge, error)
}

// WebhookPurge counts what one PurgeWebhooks call deleted.
type WebhookPurge struct {
	Deliveries, Events, Attempts int64
}

// AppRules are an app's stored conversation rules and business hours.
type AppRules struct {
	Rules chat.Rules `json:"rules"`
	Hours Hours      `json:"hours"`
	// Widget is the web widget's look and identity rules; kept in the same
	// document so that an app has one settings row and no migration.
	Widget chat.WidgetSettings `json:"widget"`
}

// TeamRules are a team's stored override of its app's rules.
type TeamRules struct {
	Override chat.RulesOverride `json:"override"`
	// Hours replace the app's hours when set; nil inherits them.
	Hours *Hours `json:"hours,omitempty"`
}

// Hours are business hours as stored: chat.BusinessHours with its zone by
// IANA name, because a *time.Location cannot be serialised and the zone
// database may change between writing and reading.
type Hours struct {
	Zone   string                            `json:"zone,omitempty"`
	Weekly map[time.Weekday][]chat.TimeRange `json:"weekly,omitempty"`
}

// RoundRobin is what AssignRoundRobin's decide sees, read under the lock.
type RoundRobin struct {
	// Cursor is the id of the agent the rotation picked last; "" at first.
	Cursor string
	// OpenChats counts, per agent of the app, the conversations assigned
	// to them that are not closed, the one being placed excluded. Agents
	// with none are absent.
	OpenChats map[string]int
}

// AnalyticsSummary is what the dashboard's analytics show for a window.
type AnalyticsSummary struct {
	// From and To are the window: from <= time < to.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Conversations counts conversations created in the window.
	Conversations int64 `json:"conversations"`
	BotResolved   int64 `json:"botResolved"`
	HandedOff     int64 `json:"handedOff"`
	// HandoffsByReason counts handoffs by trigger (chat.HandoffReason).
	HandoffsByReason map[string]int64 `json:"handoffsByReason"`
	// TopHandoffIntents are the bots' last intents before handoffs, most
	// frequent first (at most MaxTopIntents); handoffs without an intent
	// are not listed.
	TopHandoffIntents []IntentCount `json:"topHandoffIntents"`
	// FirstResponse is keyed by chat.FirstResponseAny and FirstResponseHuman.
	FirstResponse map[string]ResponseTimes `json:"firstResponse"`
	// Resolution is the time from a conversation's creation to its first
	// resolution, for conversations first resolved in the window.
	Resolution ResponseTimes `json:"resolution"`
	CSATCount  int64         `json:"csatCount"`
	// CSATAverage is 0 when CSATCount is 0.
	CSATAverage float64 `json:"csatAverage"`
}

// MaxTopIntents bounds AnalyticsSummary.TopHandoffIntents.
const MaxTopIntents = 10

// IntentCount is how many handoffs followed one intent.
type IntentCount struct {
	Intent string `json:"intent"`
	Count  int64  `json:"count"`
}

// ResponseTimes summarises durations of one kind: a kind of first
// response, or resolution.
type ResponseTimes struct {
	Count int64 `json:"count"`
	// MedianMillis is the lower median; 0 when Count is 0.
	MedianMillis int64 `json:"medianMillis"`
	// AverageMillis is the mean, rounded down; 0 when Count is 0.
	AverageMillis int64 `json:"averageMillis"`
}

// AgentRef names an agent of an app, as SetNodeConnections records them.
type AgentRef struct {
	AppID, AgentID string
}

// ContactUpdate changes the fields that are non-nil.
type ContactUpdate struct {
	Name        *string
	Email       *string
	Language    *string
	ChatContext json.RawMessage // nil leaves it; a JSON object replaces it
}

// ConversationFilter narrows ListConversations. Zero values mean "any".
type ConversationFilter struct {
	Status       *chat.Status
	AssigneeType chat.AssigneeType // "bot" or "agent"; with AssigneeID empty, any of that type
	AssigneeID   string
	Unassigned   bool // only conversations with no assignee
	TeamID       string
	ContactID    string
	Cursor       string // from a previous page's Next
	Limit        int    // 1..MaxPageSize; 0 means DefaultPageSize
}

// Page sizes for list endpoints.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ConversationPage is one page, newest first. Next is empty on the last page.
type ConversationPage struct {
	Conversations []chat.Conversation
	Next          string
}

// Clock lets tests control time; stores use it for created/updated stamps.
type Clock func() time.Time

// Appended is one message AppendMessages stored, or found already stored
// under its client key (Created false).
type Appended struct {
	Message *chat.Message
	Created bool
}
