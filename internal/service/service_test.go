package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
)

type fixture struct {
	svc   *service.Service
	admin service.Actor // the bootstrap API key of the default app
	owner service.Actor
	ctx   context.Context
}

const bootstrapKey = servicetest.APIKey

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := servicetest.New(t, func(o *service.Options) { o.UploadMaxBytes = 1 << 20 }).Service
	admin, err := svc.AuthenticateAPIKey(ctx, bootstrapKey)
	if err != nil {
		t.Fatal(err)
	}
	_, sess, owner, err := svc.Login(ctx, servicetest.OwnerEmail, servicetest.OwnerPassword)
	if err != nil {
		t.Fatal(err)
	}
	if sess.CSRFToken == "" || owner.Role != chat.RoleOwner {
		t.Fatalf("session %+v owner %+v", sess, owner)
	}
	return &fixture{svc: svc, admin: admin, owner: service.Actor{AppID: owner.AppID, AgentID: owner.ID, Role: owner.Role}, ctx: ctx}
}

func (f *fixture) agent(t *testing.T, email string, role chat.Role) service.Actor {
	t.Helper()
	a, err := f.svc.CreateAgent(f.ctx, f.admin, service.NewAgent{Email: email, Name: "A", Password: "password-123", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return service.Actor{AppID: a.AppID, AgentID: a.ID, Role: a.Role}
}

func wantCode(t *testing.T, err error, code chat.Code) {
	t.Helper()
	if chat.ErrorCode(err) != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestEnsureDefaultsIsIdempotent(t *testing.T) {
	f := newFixture(t)
	res, err := f.svc.EnsureDefaults(f.ctx, service.Bootstrap{AdminEmail: "owner@example.com", APIKey: bootstrapKey})
	if err != nil {
		t.Fatal(err)
	}
	if res.CreatedOwner || res.CreatedAPIKey || res.GeneratedPassword != "" || res.App.ID != service.DefaultAppID {
		t.Fatalf("second start = %+v", res)
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t)
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	admin := f.agent(t, "admin@example.com", chat.RoleAdmin)

	_, err := f.svc.CreateAgent(f.ctx, agent, service.NewAgent{Email: "x@example.com", Name: "X", Password: "password-123"})
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.CreateAgent(f.ctx, admin, service.NewAgent{Email: "o@example.com", Name: "O", Password: "password-123", Role: chat.RoleOwner})
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.CreateAgent(f.ctx, f.owner, service.NewAgent{Email: "o@example.com", Name: "O", Password: "password-123", Role: chat.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateAgent(f.ctx, f.owner, service.NewAgent{Email: "O@example.com", Name: "O", Password: "password-123"})
	wantCode(t, err, chat.CodeConflict)

	// Agents set their own presence, not each other's.
	if _, err := f.svc.SetPresence(f.ctx, agent, agent.AgentID, chat.PresenceOnline); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.SetPresence(f.ctx, agent, admin.AgentID, chat.PresenceOnline)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.SetPresence(f.ctx, admin, agent.AgentID, "busy")
	wantCode(t, err, chat.CodeInvalid)
	_, _, err = f.svc.CreateAPIKey(f.ctx, agent, "mine")
	wantCode(t, err, chat.CodeForbidden)
}

func TestStartConversationRefreshesIdentifiedContact(t *testing.T) {
	f := newFixture(t)
	c1, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "u1", Name: "Vera", Email: "Vera@Example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "u1", Language: "pt-BR"}})
	if err != nil {
		t.Fatal(err)
	}
	if c1.ContactID != c2.ContactID {
		t.Fatal("the same user id made two contacts")
	}
	ct, err := f.svc.GetContact(f.ctx, f.admin, c1.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Name != "Vera" || ct.Email != "vera@example.com" || ct.Language != "pt-BR" {
		t.Fatalf("contact = %+v", ct)
	}
	anon, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
	if err != nil || anon.ContactID == c1.ContactID {
		t.Fatalf("anonymous conversation %+v, %v", anon, err)
	}
	// Sites often identify users by email or phone number.
	for _, uid := range []string{"vera@example.com", "+447700900123", "crm|4711"} {
		if _, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: uid}}); err != nil {
			t.Errorf("user id %q refused: %v", uid, err)
		}
	}
	before, err := f.svc.ListConversations(f.ctx, f.admin, store.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]service.NewConversation{
		"user id with space":     {Contact: service.ContactInput{UserID: "a b"}},
		"new user, unknown team": {Contact: service.ContactInput{UserID: "fresh"}, TeamID: "noteam"},
		"bad language":           {Contact: service.ContactInput{Language: "english!"}},
		"bad assignee":           {Assignee: &chat.Assignee{Type: "robot", ID: "x"}},
		"unknown assignee":       {Assignee: &chat.Assignee{Type: chat.AssigneeAgent, ID: "nobody"}},
		"unknown team":           {TeamID: "noteam"},
		"unknown contact":        {ContactID: "nocontact"},
		"context array":          {Contact: service.ContactInput{ChatContext: json.RawMessage(`[1]`)}},
	} {
		if _, err := f.svc.StartConversation(f.ctx, f.admin, in); chat.ErrorCode(err) != chat.CodeInvalid {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
	after, err := f.svc.ListConversations(f.ctx, f.admin, store.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Conversations) != len(before.Conversations) {
		t.Fatal("a refused start created a conversation")
	}
	if _, err := f.svc.ContactByUserID(f.ctx, f.admin, "fresh"); chat.ErrorCode(err) != chat.CodeNotFound {
		t.Fatalf("a refused start left a contact behind: %v", err)
	}
}

func TestConcurrentStartsMakeOneContact(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "same"}})
			errs[i] = err
			if err == nil {
				ids[i] = c.ContactID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("start %d: contact %q, err %v; want %q", i, ids[i], errs[i], ids[0])
		}
	}
}

func TestSendMessageSenders(t *testing.T) {
	f := newFixture(t)
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	other := f.agent(t, "other@example.com", chat.RoleAgent)
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(a service.Actor, in service.SendInput) (*chat.Message, error) {
		m, _, err := f.svc.SendMessage(f.ctx, a, conv.ID, in)
		return m, err
	}
	m, err := send(agent, service.SendInput{Text: "hello"})
	if err != nil || m.Sender != (chat.Sender{Type: chat.SenderAgent, ID: agent.AgentID}) {
		t.Fatalf("agent send: %+v, %v", m, err)
	}
	_, err = send(agent, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderAgent, ID: other.AgentID}})
	wantCode(t, err, chat.CodeForbidden)
	_, err = send(agent, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderContact}})
	wantCode(t, err, chat.CodeForbidden)

	m, err = send(f.admin, service.SendInput{Text: "from the contact", Sender: &chat.Sender{Type: chat.SenderContact}})
	if err != nil || m.Sender.ID != conv.ContactID {
		t.Fatalf("contact send: %+v, %v", m, err)
	}
	_, err = send(f.admin, service.SendInput{Text: "x"})
	wantCode(t, err, chat.CodeInvalid)
	_, err = send(f.admin, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderContact, ID: "someone-else"}})
	wantCode(t, err, chat.CodeInvalid)
	_, err = send(f.admin, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderAgent, ID: "ghost"}})
	wantCode(t, err, chat.CodeInvalid)
	_, err = send(f.admin, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderSystem}})
	wantCode(t, err, chat.CodeInvalid)
	_, err = send(f.admin, service.SendInput{Text: "x", ContentType: chat.ContentSystem, Sender: &chat.Sender{Type: chat.SenderContact}})
	wantCode(t, err, chat.CodeInvalid)

	msgs, err := f.svc.ListMessages(f.ctx, f.admin, conv.ID, 0, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("%d messages, %v; refused sends must store nothing", len(msgs), err)
	}
}

func TestClientKeyMakesSendIdempotent(t *testing.T) {
	f := newFixture(t)
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
	if err != nil {
		t.Fatal(err)
	}
	in := service.SendInput{Text: "once", ClientKey: "k1", Sender: &chat.Sender{Type: chat.SenderContact}}
	m1, created1, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, in)
	if err != nil || !created1 {
		t.Fatal(created1, err)
	}
	m2, created2, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, in)
	if err != nil || created2 || m2.ID != m1.ID || m2.Seq != m1.Seq {
		t.Fatalf("repeat: %+v created=%v err=%v", m2, created2, err)
	}
}

func TestChangeStatus(t *testing.T) {
	f := newFixture(t)
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.svc.ChangeStatus(f.ctx, f.admin, conv.ID, chat.StatusResolved); err != nil || c.Status != chat.StatusResolved {
		t.Fatal(c, err)
	}
	_, err = f.svc.ChangeStatus(f.ctx, f.admin, conv.ID, chat.StatusWaiting)
	wantCode(t, err, chat.CodeConflict)
	if c, _ := f.svc.GetConversation(f.ctx, f.admin, conv.ID); c.Status != chat.StatusResolved {
		t.Fatalf("a refused transition changed the status to %v", c.Status)
	}
	if c, err := f.svc.ChangeStatus(f.ctx, f.admin, conv.ID, chat.StatusOpen); err != nil || c.Status != chat.StatusOpen {
		t.Fatal(c, err)
	}
}

func TestUpdateContactMergesContext(t *testing.T) {
	f := newFixture(t)
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{ChatContext: json.RawMessage(`{"plan":"pro","page":"/a"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.UpdateContact(f.ctx, f.admin, conv.ContactID, service.ContactPatch{ChatContext: json.RawMessage(`{"page":null,"cart":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(c.ChatContext, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["plan"] != "pro" || got["cart"] != float64(3) {
		t.Fatalf("merged context = %s", c.ChatContext)
	}
	bad := "not an email"
	_, err = f.svc.UpdateContact(f.ctx, f.admin, conv.ContactID, service.ContactPatch{Email: &bad})
	wantCode(t, err, chat.CodeInvalid)
}

func TestLogin(t *testing.T) {
	f := newFixture(t)
	_, _, _, errUnknown := f.svc.Login(f.ctx, "nobody@example.com", "owner-password")
	_, _, _, errWrong := f.svc.Login(f.ctx, "owner@example.com", "wrong-password")
	wantCode(t, errUnknown, chat.CodeUnauthenticated)
	wantCode(t, errWrong, chat.CodeUnauthenticated)
	if errUnknown.Error() != errWrong.Error() {
		t.Fatal("unknown email and wrong password must look the same")
	}
	token, _, _, err := f.svc.Login(f.ctx, "OWNER@example.com", "owner-password")
	if err != nil {
		t.Fatal(err)
	}
	actor, _, err := f.svc.AuthenticateSession(f.ctx, token)
	if err != nil || actor.Role != chat.RoleOwner {
		t.Fatal(actor, err)
	}
	if err := f.svc.Logout(f.ctx, token); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.AuthenticateSession(f.ctx, token)
	wantCode(t, err, chat.CodeUnauthenticated)
}

func TestAPIKeys(t *testing.T) {
	f := newFixture(t)
	k, secret, err := f.svc.CreateAPIKey(f.ctx, f.owner, "crm")
	if err != nil {
		t.Fatal(err)
	}
	actor, err := f.svc.AuthenticateAPIKey(f.ctx, secret)
	if err != nil || actor.AppID != service.DefaultAppID || !actor.ViaAPIKey() {
		t.Fatal(actor, err)
	}
	for _, bad := range []string{"", "short", secret + "x", strings.ToUpper(secret), bootstrapKey + "!"} {
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, bad); chat.ErrorCode(err) != chat.CodeUnauthenticated {
			t.Errorf("key %q: err = %v", bad, err)
		}
	}
	if err := f.svc.DeleteAPIKey(f.ctx, f.owner, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AuthenticateAPIKey(f.ctx, secret)
	wantCode(t, err, chat.CodeUnauthenticated)
}

func TestAppsAreIsolated(t *testing.T) {
	f := newFixture(t)
	app, owner, err := f.svc.CreateApp(f.ctx, f.owner, service.NewApp{Name: "Other", Owner: service.NewAgent{Email: "boss@other.example", Name: "Boss", Password: "password-123"}})
	if err != nil {
		t.Fatal(err)
	}
	other := service.Actor{AppID: app.ID, AgentID: owner.ID, Role: owner.Role}
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.GetConversation(f.ctx, other, conv.ID)
	wantCode(t, err, chat.CodeNotFound)
	_, _, err = f.svc.SendMessage(f.ctx, other, conv.ID, service.SendInput{Text: "x"})
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.GetContact(f.ctx, other, conv.ContactID)
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.ChangeStatus(f.ctx, other, conv.ID, chat.StatusResolved)
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.StartConversation(f.ctx, other, service.NewConversation{ContactID: conv.ContactID})
	wantCode(t, err, chat.CodeInvalid)
	_, _, err = f.svc.CreateApp(f.ctx, f.admin, service.NewApp{Name: "Nope", Owner: service.NewAgent{Email: "n@example.com", Name: "N", Password: "password-123"}})
	wantCode(t, err, chat.CodeForbidden)
}

func TestUploads(t *testing.T) {
	f := newFixture(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	u, err := f.svc.CreateUpload(f.ctx, f.admin, "dot.png", "image/png", bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	if u.MimeType != "image/png" || u.Size != int64(len(png)) {
		t.Fatalf("upload = %+v", u)
	}
	link, err := url.Parse(f.svc.FileURL(u.AppID, u.ID))
	if err != nil {
		t.Fatal(err)
	}
	q := link.Query()
	got, rc, err := f.svc.OpenFile(f.ctx, u.AppID, u.ID, q.Get("expires"), q.Get("sig"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if got.ID != u.ID || !bytes.Equal(data, png) {
		t.Fatal("downloaded file differs")
	}
	if _, _, err := f.svc.OpenFile(f.ctx, u.AppID, u.ID, q.Get("expires"), "AAAA"+q.Get("sig")[4:]); err == nil {
		t.Fatal("a forged signature was accepted")
	}

	_, err = f.svc.CreateUpload(f.ctx, f.admin, "cat.png", "image/png", strings.NewReader("<html><script>alert(1)</script></html>"))
	wantCode(t, err, chat.CodeUnsupported)
	_, err = f.svc.CreateUpload(f.ctx, f.admin, "big.txt", "text/plain", strings.NewReader(strings.Repeat("a", 2<<20)))
	wantCode(t, err, chat.CodeTooLarge)

	// A message carries the upload; a foreign or unknown upload is refused.
	conv, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := f.svc.SendMessage(f.ctx, f.admin, conv.ID, service.SendInput{Attachments: []service.AttachmentRef{{UploadID: u.ID}}, Sender: &chat.Sender{Type: chat.SenderContact}})
	if err != nil || m.ContentType != chat.ContentAttachment || len(m.Attachments) != 1 || m.Attachments[0].Name != "dot.png" {
		t.Fatalf("attachment message %+v, %v", m, err)
	}
	_, _, err = f.svc.SendMessage(f.ctx, f.admin, conv.ID, service.SendInput{Attachments: []service.AttachmentRef{{UploadID: "missing"}}, Sender: &chat.Sender{Type: chat.SenderContact}})
	if c := chat.ErrorCode(err); c != chat.CodeNotFound && c != chat.CodeInvalid {
		t.Fatalf("unknown upload: err = %v", err)
	}
}

func TestContactActorReachesOnlyItsOwnConversations(t *testing.T) {
	f := newFixture(t)
	mine, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "me"}})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := f.svc.StartConversation(f.ctx, f.admin, service.NewConversation{Contact: service.ContactInput{UserID: "them"}})
	if err != nil {
		t.Fatal(err)
	}
	me := service.ContactActor(mine.AppID, mine.ContactID)

	m, _, err := f.svc.SendMessage(f.ctx, me, mine.ID, service.SendInput{Text: "hi"})
	if err != nil || m.Sender != (chat.Sender{Type: chat.SenderContact, ID: mine.ContactID}) {
		t.Fatalf("own send: %+v, %v", m, err)
	}
	if msgs, err := f.svc.ListMessages(f.ctx, me, mine.ID, 0, 0); err != nil || len(msgs) != 1 {
		t.Fatalf("own list: %d, %v", len(msgs), err)
	}
	_, _, err = f.svc.SendMessage(f.ctx, me, mine.ID, service.SendInput{Text: "x", Sender: &chat.Sender{Type: chat.SenderAgent, ID: "a1"}})
	wantCode(t, err, chat.CodeForbidden)

	// Another contact's conversation does not exist, as far as this one can tell.
	_, err = f.svc.GetConversation(f.ctx, me, theirs.ID)
	wantCode(t, err, chat.CodeNotFound)
	_, _, err = f.svc.SendMessage(f.ctx, me, theirs.ID, service.SendInput{Text: "x"})
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.ListMessages(f.ctx, me, theirs.ID, 0, 0)
	wantCode(t, err, chat.CodeNotFound)

	// Everything else is for staff.
	_, err = f.svc.ChangeStatus(f.ctx, me, mine.ID, chat.StatusResolved)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.ChangeAssignee(f.ctx, me, mine.ID, nil)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.ListConversations(f.ctx, me, store.ConversationFilter{})
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.GetContact(f.ctx, me, theirs.ContactID)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.ListAgents(f.ctx, me)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.StartConversation(f.ctx, me, service.NewConversation{})
	wantCode(t, err, chat.CodeForbidden)
	_, _, err = f.svc.CreateAPIKey(f.ctx, me, "k")
	wantCode(t, err, chat.CodeForbidden)
}
