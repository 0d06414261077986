package service_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
)

func TestUserHashIsHMACSHA256OfTheUserID(t *testing.T) {
	// What an app's server computes, by the book.
	m := hmac.New(sha256.New, []byte("app-secret"))
	m.Write([]byte("user-42"))
	want := hex.EncodeToString(m.Sum(nil))
	if got := service.UserHash("app-secret", "user-42"); got != want {
		t.Fatalf("UserHash = %s, want %s", got, want)
	}
	if service.UserHash("app-secret", "user-43") == want || service.UserHash("other-secret", "user-42") == want {
		t.Fatal("the hash ignores its inputs")
	}
}

func TestPseudonymIsStablePerVisitor(t *testing.T) {
	a := service.Pseudonym("aaaaaaaaaaaaaaaaaaaaaa")
	if a == "" || a != service.Pseudonym("aaaaaaaaaaaaaaaaaaaaaa") {
		t.Fatalf("pseudonym %q is not stable", a)
	}
	seen := map[string]bool{}
	for _, id := range []string{"v1v1v1v1v1v1v1v1", "v2v2v2v2v2v2v2v2", "v3v3v3v3v3v3v3v3", "v4v4v4v4v4v4v4v4", "v5v5v5v5v5v5v5v5", "v6v6v6v6v6v6v6v6"} {
		seen[service.Pseudonym(id)] = true
	}
	if len(seen) < 4 {
		t.Errorf("six visitors share %d pseudonyms: %v", len(seen), seen)
	}
}

// An app's Access Token URL is chosen by its admin, so by default it may
// not make the node call its own loopback or private network: the session
// is refused as the URL's outage, nothing is created, and the URL is never
// asked. The operator's SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE lifts this.
func TestAccessTokenURLOnAPrivateAddressIsNotCalled(t *testing.T) {
	for _, allow := range []bool{false, true} {
		var asked atomic.Int32
		check := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			io.WriteString(w, "true")
		}))
		env := servicetest.New(t, func(o *service.Options) { o.AllowPrivateOutbound = allow })
		ctx := context.Background()
		admin := service.Actor{AppID: service.DefaultAppID, Role: chat.RoleOwner}
		if _, err := env.Service.PutWidgetSettings(ctx, admin, chat.WidgetSettings{AccessTokenURL: check.URL + "/check"}); err != nil {
			t.Fatal(err)
		}
		_, err := env.Service.StartWidgetSession(ctx, service.WidgetSessionInput{AppID: service.DefaultAppID, UserID: "alice", AccessToken: "tok"})
		check.Close()
		if allow {
			if err != nil || asked.Load() != 1 {
				t.Fatalf("allowed: err %v, asked %d times", err, asked.Load())
			}
			continue
		}
		if !chat.IsCode(err, chat.CodeUnavailable) || !strings.Contains(err.Error(), "private") || asked.Load() != 0 {
			t.Fatalf("refused: err %v, asked %d times", err, asked.Load())
		}
		if _, err := env.Store.ContactByUserID(ctx, service.DefaultAppID, "alice"); !chat.IsCode(err, chat.CodeNotFound) {
			t.Fatalf("a refused session left a contact behind: %v", err)
		}
	}
}

// Paging backwards from the latest message covers the conversation once,
// in order, and stops at seq 1; a foreign conversation is refused as on a
// forward page.
func TestListMessagesBeforePagesBackwards(t *testing.T) {
	ctx := context.Background()
	e := servicetest.New(t, nil)
	admin, err := e.Service.AuthenticateAPIKey(ctx, servicetest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	start := func(name string) *chat.Conversation {
		c, err := e.Service.StartConversation(ctx, admin, service.NewConversation{Contact: service.ContactInput{Name: name}, SkipRouting: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, other := start("V"), start("W")
	const total = 23
	for i := 1; i <= total; i++ {
		if _, _, err := e.Service.SendMessage(ctx, admin, c.ID, service.SendInput{Text: fmt.Sprint("m", i), Sender: &chat.Sender{Type: chat.SenderContact}}); err != nil {
			t.Fatal(err)
		}
	}
	contact := service.ContactActor(c.AppID, c.ContactID)
	var seen []int64
	before, pages := int64(total+1), 0
	for before > 1 && pages < 10 {
		page, err := e.Service.ListMessagesBefore(ctx, contact, c.ID, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || page[len(page)-1].Seq != before-1 {
			t.Fatalf("page before %d: %+v", before, page)
		}
		for i := len(page) - 1; i >= 0; i-- {
			seen = append(seen, page[i].Seq)
		}
		before = page[0].Seq
		pages++
	}
	if pages != 3 || len(seen) != total {
		t.Fatalf("%d pages, seqs %v", pages, seen)
	}
	for i, s := range seen {
		if s != int64(total-i) {
			t.Fatalf("seqs %v: a gap or a duplicate", seen)
		}
	}
	if page, err := e.Service.ListMessagesBefore(ctx, contact, c.ID, 1, 10); err != nil || len(page) != 0 {
		t.Fatalf("before seq 1: %+v, %v", page, err)
	}
	if _, err := e.Service.ListMessagesBefore(ctx, contact, other.ID, 5, 10); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("another contact's conversation: %v", err)
	}
	if _, err := e.Service.ListMessagesBefore(ctx, contact, other.ID, 1, 10); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("another contact's conversation before seq 1: %v", err)
	}
	if _, err := e.Service.ListMessagesBefore(ctx, contact, c.ID, 0, 10); !chat.IsCode(err, chat.CodeInvalid) {
		t.Fatalf("beforeSeq 0: %v", err)
	}
}
