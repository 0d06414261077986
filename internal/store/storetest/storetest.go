// Package storetest is the one behaviour suite every store.Store must pass.
// A behaviour that differs between SQLite and PostgreSQL is a bug, so both
// run exactly these tests.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// Run runs the suite. open must return a fresh, empty store that reads time
// from clock; it may register its own Close as a cleanup (Close must
// tolerate being called twice).
func Run(t *testing.T, open func(t *testing.T, clock store.Clock) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Apps", testApps},
		{"Agents", testAgents},
		{"Teams", testTeams},
		{"Bots", testBots},
		{"BotUpdate", testBotUpdate},
		{"BotDelete", testBotDelete},
		{"BotStatus", testBotStatus},
		{"AppRules", testAppRules},
		{"TeamRules", testTeamRules},
		{"HandleAllOnePerApp", testHandleAllOnePerApp},
		{"Contacts", testContacts},
		{"Uploads", testUploads},
		{"APIKeys", testAPIKeys},
		{"Sessions", testSessions},
		{"CreateConversation", testCreateConversation},
		{"UpdateConversation", testUpdateConversation},
		{"UpdateConversationConcurrent", testUpdateConversationConcurrent},
		{"ListConversations", testListConversations},
		{"Pagination", testPagination},
		{"AppendAndList", testAppendAndList},
		{"AppendMessages", testAppendMessages},
		{"AppendRejects", testAppendRejects},
		{"SeqGapFree", testSeqGapFree},
		{"ClientKey", testClientKey},
		{"ClientKeyConcurrent", testClientKeyConcurrent},
		{"BadItemsInBatch", testBadItemsInBatch},
		{"TenantIsolation", testTenantIsolation},
		{"CloseThenAppend", testCloseThenAppend},
		{"InboxEvents", testInboxEvents},
		{"InboxSeqConcurrent", testInboxSeqConcurrent},
		{"InboxTenantIsolation", testInboxTenantIsolation},
		{"LastSeqs", testLastSeqs},
		{"NodeConnections", testNodeConnections},
		{"RoundRobin", testRoundRobin},
		{"RoundRobinTenantIsolation", testRoundRobinTenantIsolation},
		{"RoundRobinConcurrent", func(t *testing.T, s store.Store) { ConcurrentRoundRobin(t, []store.Store{s}) }},
		{"ContactRead", testContactRead},
	}
	// These tests move time forward themselves (to expire leases), each on
	// its own store and clock.
	clockTests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock)
	}{
		{"BotTurnEnqueue", testBotTurnEnqueue},
		{"BotTurnOrder", testBotTurnOrder},
		{"BotTurnLease", testBotTurnLease},
		{"BotTurnRelease", testBotTurnRelease},
		{"BotTurnCancel", testBotTurnCancel},
		{"BotTurnTenantIsolation", testBotTurnTenantIsolation},
		{"BotTurnsConcurrent", func(t *testing.T, s store.Store, c *Clock) {
			ConcurrentBotTurns(t, []store.Store{s}, c)
		}},
		{"ContactEmailLease", testContactEmailLease},
		{"EmailTenantIsolation", testEmailTenantIsolation},
		{"AgentDigest", testAgentDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t, time.Now))
		})
	}
	for _, tc := range clockTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Clock{}
			tc.fn(t, open(t, c.Now), c)
		})
	}
}

// Clock is real time plus an offset that only the test moves, so a test
// expires a lease by saying so instead of sleeping past it. Starting at real
// time keeps everything else (session expiry, ids) behaving as usual.
type Clock struct{ offset atomic.Int64 }

func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// world is one app with one of everything.
type world struct {
	app     chat.App
	agent   chat.Agent
	agent2  chat.Agent
	bot     chat.Bot
	team    chat.Team
	contact chat.Contact
	conv    chat.Conversation
	upload  chat.Upload
}

var seq int64
var seqMu sync.Mutex

// unique returns a per-process unique suffix, so emails and prefixes never
// collide between tests sharing a database.
func unique() string {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(seq, 36)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, err error, code chat.Code) {
	t.Helper()
	if !chat.IsCode(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
}

func newWorld(t testing.TB, s store.Store) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{}
	w.app = chat.App{Name: "app " + unique()}
	must(t, s.CreateApp(ctx, &w.app))
	w.agent = chat.Agent{AppID: w.app.ID, Email: "a" + unique() + "@example.com", Name: "Ann", Role: chat.RoleOwner, Presence: chat.PresenceOnline, PasswordHash: "h1"}
	must(t, s.CreateAgent(ctx, &w.agent))
	w.agent2 = chat.Agent{AppID: w.app.ID, Email: "b" + unique() + "@example.com", Name: "Bob", Role: chat.RoleAgent, Presence: chat.PresenceAway}
	must(t, s.CreateAgent(ctx, &w.agent2))
	w.bot = chat.Bot{AppID: w.app.ID, Type: chat.BotLex, Name: "Lexi", Enabled: true, Settings: json.RawMessage(`{"region":"eu-west-1"}`)}
	must(t, s.CreateBot(ctx, &w.bot))
	w.team = chat.Team{AppID: w.app.ID, Name: "Support", AgentIDs: []string{w.agent2.ID, w.agent.ID}}
	must(t, s.CreateTeam(ctx, &w.team))
	w.contact = chat.Contact{AppID: w.app.ID, UserID: "u" + unique(), Name: "Carol", Language: "pt-BR", ChatContext: json.RawMessage(`{"plan":"gold"}`)}
	must(t, s.CreateContact(ctx, &w.contact))
	w.conv = chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID, Assignee: &chat.Assignee{Type: chat.AssigneeBot, ID: w.bot.ID}, TeamID: w.team.ID, Metadata: chat.Metadata{"source": "widget"}}
	must(t, s.CreateConversation(ctx, &w.conv))
	w.upload = chat.Upload{AppID: w.app.ID, Name: "a.png", MimeType: "image/png", Size: 42, Key: "blobs/a"}
	must(t, s.CreateUpload(ctx, &w.upload))
	return w
}

func (w *world) newConv(t testing.TB, s store.Store) chat.Conversation {
	t.Helper()
	c := chat.Conversation{AppID: w.app.ID, ContactID: w.contact.ID}
	must(t, s.CreateConversation(context.Background(), &c))
	return c
}

func text(sender chat.Sender, s string) chat.NewMessage {
	return chat.NewMessage{Sender: sender, Text: s}
}

func (w *world) contactSays(s string) chat.NewMessage {
	return text(chat.Sender{Type: chat.SenderContact, ID: w.contact.ID}, s)
}

func testApps(t *testing.T, s store.Store) {
	ctx := context.Background()
	must(t, s.Ping(ctx))
	a := chat.App{Name: "Acme"}
	must(t, s.CreateApp(ctx, &a))
	if a.ID == "" || a.CreatedAt.IsZero() {
		t.Fatalf("CreateApp left id or time empty: %+v", a)
	}
	got, err := s.GetApp(ctx, a.ID)
	must(t, err)
	if *got != a {
		t.Fatalf("GetApp = %+v, want %+v", *got, a)
	}
	apps, err := s.ListApps(ctx)
	must(t, err)
	if !containsID(apps, a.ID, func(x chat.App) string { return x.ID }) {
		t.Fatalf("ListApps misses %s", a.ID)
	}
	_, err = s.GetApp(ctx, "nope")
	wantCode(t, err, chat.CodeNotFound)
	dup := chat.App{ID: a.ID, Name: "again"}
	wantCode(t, s.CreateApp(ctx, &dup), chat.CodeConflict)
}

func containsID[T any](xs []T, id string, key func(T) string) bool {
	for _, x := range xs {
		if key(x) == id {
			return true
		}
	}
	return false
}

func testAgents(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetAgent(ctx, w.app.ID, w.agent.ID)
	must(t, err)
	if *got != w.agent {
		t.Fatalf("GetAgent = %+v, want %+v", *got, w.agent)
	}
	got, err = s.AgentByEmail(ctx, w.agent.Email)
	must(t, err)
	if got.ID != w.agent.ID || got.PasswordHash != "h1" {
		t.Fatalf("AgentByEmail = %+v", got)
	}
	_, err = s.AgentByEmail(ctx, "nobody@example.com")
	wantCode(t, err, chat.CodeNotFound)

	list, err := s.ListAgents(ctx, w.app.ID)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListAgents = %d agents, want 2", len(list))
	}

	p, err := s.SetAgentPresence(ctx, w.app.ID, w.agent.ID, chat.PresenceAway)
	must(t, err)
	if p.Presence != chat.PresenceAway {
		t.Fatalf("presence = %s", p.Presence)
	}
	_, err = s.SetAgentPresence(ctx, w.app.ID, w.agent.ID, "asleep")
	wantCode(t, err, chat.CodeInvalid)
	must(t, s.SetAgentPassword(ctx, w.app.ID, w.agent.ID, "h2"))
	got, err = s.GetAgent(ctx, w.app.ID, w.agent.ID)
	must(t, err)
	if got.PasswordHash != "h2" || got.Presence != chat.PresenceAway {
		t.Fatalf("after updates: %+v", got)
	}

	// Emails are unique across the installation, not per app.
	other := newWorld(t, s)
	dup := chat.Agent{AppID: other.app.ID, Email: w.agent.Email, Name: "Dup", Role: chat.RoleAgent}
	wantCode(t, s.CreateAgent(ctx, &dup), chat.CodeConflict)

	noApp := chat.Agent{AppID: "missing", Email: "x" + unique() + "@example.com", Role: chat.RoleAgent}
	wantCode(t, s.CreateAgent(ctx, &noApp), chat.CodeNotFound)
}

func testTeams(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetTeam(ctx, w.app.ID, w.team.ID)
	must(t, err)
	if fmt.Sprint(got.AgentIDs) != fmt.Sprint(w.team.AgentIDs) || got.Name != "Support" || !got.CreatedAt.Equal(w.team.CreatedAt) {
		t.Fatalf("GetTeam = %+v, want %+v", got, w.team)
	}
	empty := chat.Team{AppID: w.app.ID, Name: "Empty"}
	must(t, s.CreateTeam(ctx, &empty))
	teams, err := s.ListTeams(ctx, w.app.ID)
	must(t, err)
	if len(teams) != 2 {
		t.Fatalf("ListTeams = %d teams, want 2", len(teams))
	}
	for _, tm := range teams {
		if tm.ID == empty.ID && (tm.AgentIDs == nil || len(tm.AgentIDs) != 0) {
			t.Fatalf("empty team members = %#v, want empty non-nil", tm.AgentIDs)
		}
	}

	other := newWorld(t, s)
	foreign := chat.Team{AppID: w.app.ID, Name: "Mixed", AgentIDs: []string{w.agent.ID, other.agent.ID}}
	err = s.CreateTeam(ctx, &foreign)
	wantCode(t, err, chat.CodeInvalid)
	_, err = s.GetTeam(ctx, w.app.ID, foreign.ID)
	wantCode(t, err, chat.CodeNotFound) // the failed create wrote nothing
}

func testBots(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetBot(ctx, w.app.ID, w.bot.ID)
	must(t, err)
	if got.Name != "Lexi" || got.Type != chat.BotLex || !got.Enabled || string(got.Settings) != `{"region":"eu-west-1"}` || !got.CreatedAt.Equal(w.bot.CreatedAt) {
		t.Fatalf("GetBot = %+v", got)
	}
	hook := chat.Bot{AppID: w.app.ID, Type: chat.BotWebhook, Name: "Hook"}
	must(t, s.CreateBot(ctx, &hook))
	bots, err := s.ListBots(ctx, w.app.ID)
	must(t, err)
	if len(bots) != 2 {
		t.Fatalf("ListBots = %d, want 2", len(bots))
	}
}

func testContacts(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetContact(ctx, w.app.ID, w.contact.ID)
	must(t, err)
	if got.UserID != w.contact.UserID || string(got.ChatContext) != `{"plan":"gold"}` || !got.UpdatedAt.Equal(w.contact.UpdatedAt) {
		t.Fatalf("GetContact = %+v", got)
	}
	got, err = s.ContactByUserID(ctx, w.app.ID, w.contact.UserID)
	must(t, err)
	if got.ID != w.contact.ID {
		t.Fatalf("ContactByUserID = %s", got.ID)
	}
	_, err = s.ContactByUserID(ctx, w.app.ID, "")
	wantCode(t, err, chat.CodeNotFound)

	anon := chat.Contact{AppID: w.app.ID, Name: "Visitor 1"}
	must(t, s.CreateContact(ctx, &anon))
	anon2 := chat.Contact{AppID: w.app.ID, Name: "Visitor 2"}
	must(t, s.CreateContact(ctx, &anon2)) // empty user ids do not collide
	dup := chat.Contact{AppID: w.app.ID, UserID: w.contact.UserID}
	wantCode(t, s.CreateContact(ctx, &dup), chat.CodeConflict)

	name, email := "Caroline", "carol@example.com"
	up, err := s.UpdateContact(ctx, w.app.ID, w.contact.ID, store.ContactUpdate{Name: &name, Email: &email, ChatContext: json.RawMessage(`{"plan":"silver"}`)})
	must(t, err)
	if up.Name != name || up.Email != email || up.Language != "pt-BR" || string(up.ChatContext) != `{"plan":"silver"}` {
		t.Fatalf("UpdateContact = %+v", up)
	}
	got, err = s.GetContact(ctx, w.app.ID, w.contact.ID)
	must(t, err)
	if got.Name != name || got.Language != "pt-BR" || string(got.ChatContext) != `{"plan":"silver"}` {
		t.Fatalf("after update: %+v", got)
	}
}

func testUploads(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	got, err := s.GetUpload(ctx, w.app.ID, w.upload.ID)
	must(t, err)
	if *got != w.upload {
		t.Fatalf("GetUpload = %+v, want %+v", *got, w.upload)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	k := chat.APIKey{AppID: w.app.ID, Name: "ci", Prefix: "sk_" + unique(), Hash: []byte{1, 2, 3}}
	must(t, s.CreateAPIKey(ctx, &k))
	got, err := s.APIKeyByPrefix(ctx, k.Prefix)
	must(t, err)
	if got.ID != k.ID || string(got.Hash) != string(k.Hash) || got.LastUsedAt != nil {
		t.Fatalf("APIKeyByPrefix = %+v", got)
	}
	dup := chat.APIKey{AppID: w.app.ID, Name: "dup", Prefix: k.Prefix, Hash: []byte{4}}
	wantCode(t, s.CreateAPIKey(ctx, &dup), chat.CodeConflict)
	keys, err := s.ListAPIKeys(ctx, w.app.ID)
	must(t, err)
	if len(keys) != 1 {
		t.Fatalf("ListAPIKeys = %d, want 1", len(keys))
	}
	must(t, s.DeleteAPIKey(ctx, w.app.ID, k.ID))
	_, err = s.APIKeyByPrefix(ctx, k.Prefix)
	wantCode(t, err, chat.CodeNotFound)
	wantCode(t, s.DeleteAPIKey(ctx, w.app.ID, k.ID), chat.CodeNotFound)
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := newWorld(t, s)
	live := chat.Session{TokenHash: []byte("live" + unique()), AppID: w.app.ID, AgentID: w.agent.ID, CSRFToken: "c", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, s.CreateSession(ctx, &live))
	expired := chat.Session{TokenHash: []byte("old" + unique()), AppID: w.app.ID, AgentID: w.agent.ID, CSRFToken: "c", ExpiresAt: time.Now().Add(-time.Second)}
	must(t, s.CreateSession(ctx, &expired))

	got, err := s.SessionByTokenHash(ctx, live.TokenHash)
	must(t, err)
	if got.AgentID != w.agent.ID || got.AppID != w.app.ID || got.CSRFToken != "c" || !got.ExpiresAt.Equal(live.ExpiresAt) {
		t.Fatalf("SessionByTokenHash = %+v, want %+v", got, live)
	}
	_, err = s.SessionByTokenHash(ctx, expired.TokenHash)
	wantCode(t, err, chat.CodeNotFound)

	must(t, s.DeleteSession(ctx, live.TokenHash))
	_, err = s.SessionByTokenHash(ctx, live.TokenHash)
	wantCode(t, err, chat.CodeNotFound)
	must(t, s.DeleteSession(ctx, live.TokenHash)) // logout twice is fine

	foreign := chat.Session{TokenHash: []byte("f" + unique()), AppID: "other", AgentID: w.agent.ID, ExpiresAt: time.Now().Add(time.Hour)}
	wantCode(t, s.CreateSession(ctx, &foreign), chat.CodeNotFound)
}
