package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/browsertest"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/email/smtptest"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// The real widget reports what the contact has seen: a reply shown in the
// open chat is never emailed, and one that arrives while the chat is
// closed is emailed once the delay has passed, alone.
func TestWidgetReadHoldsBackTheEmail(t *testing.T) {
	relay := smtptest.Start(t)
	srv, _ := startEmailNode(t, map[string]string{
		"SWITCHBOARD_SMTP_ADDR": relay.Addr,
		"SWITCHBOARD_SMTP_FROM": "Support <support@example.test>",
		// Long enough for the open widget's read report to land first on
		// a loaded machine; the closed widget's reply waits it out.
		"SWITCHBOARD_EMAIL_UNREAD_AFTER": "5s",
	})
	ctx := context.Background()
	b := browsertest.Start(t)
	b.Navigate("http://" + srv.ln.Addr().String() + "/demo")
	b.Wait("the launcher", `document.getElementById("switchboard-launcher")`, 0)
	id := browsertest.Eval[string](b, `new Promise((resolve, reject) => {
		Kommunicate.startConversation({}, (id, err) => err ? reject(new Error(err.message)) : resolve(id));
	})`)
	b.Eval0(`Kommunicate.updateUser({email: "reader@example.test", displayName: "Rita"})`)
	frame := `document.getElementById("switchboard-frame").contentDocument`
	b.Wait("the conversation view", frame+`.querySelector(".sb-composer textarea")`, 0)

	owner, err := srv.store.AgentByEmail(ctx, config.DefaultAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) *chat.Message {
		m, _, err := srv.store.AppendMessage(ctx, service.DefaultAppID, id, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderAgent, ID: owner.ID}, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	waitRead := func(seq int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := srv.store.ContactReadSeq(ctx, service.DefaultAppID, id)
			if err != nil {
				t.Fatal(err)
			}
			if got >= seq {
				t.Logf("server read position %d (waited for %d)", got, seq)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("read position %d, want %d", got, seq)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	seen := say("Shown while the chat is open")
	b.Wait("the reply in the widget", frame+`.body.textContent.includes("Shown while the chat is open")`, 0)
	waitRead(seen.Seq)

	b.Eval0(`Kommunicate.close()`)
	unread := say("Sent while the chat is closed")
	b.Wait("the unread badge", `document.getElementById("switchboard-unread").style.display === "block"`, 0)
	if n := len(relay.WaitFor(1, 30*time.Second)); n < 1 {
		t.Fatal("no email after 30s")
	}
	time.Sleep(time.Second) // more sweeps: nothing more may go out
	if read, err := srv.store.ContactReadSeq(ctx, service.DefaultAppID, id); err != nil || read >= unread.Seq {
		t.Fatalf("read position %d, %v: the closed widget reported the new reply read", read, err)
	}
	got := relay.Messages()
	if len(got) != 1 {
		t.Fatalf("%d emails, want 1", len(got))
	}
	body := got[0].Text()
	t.Logf("email to %v: %q\n%s", got[0].To, got[0].Subject(), body)
	if got[0].To[0] != "reader@example.test" || !strings.Contains(body, "Sent while the chat is closed") || strings.Contains(body, "Shown while") {
		t.Fatalf("wrong email")
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// A read report the server never got is sent again the next time the
// contact reads the conversation, even when no new message came meanwhile:
// otherwise the server would email the contact a reply they had seen.
func TestWidgetRetriesALostReadReport(t *testing.T) {
	srv, _ := startEmailNode(t, nil)
	ctx := context.Background()
	b := browsertest.Start(t)
	b.Navigate("http://" + srv.ln.Addr().String() + "/demo")
	b.Wait("the launcher", `document.getElementById("switchboard-launcher")`, 0)
	id := browsertest.Eval[string](b, `new Promise((resolve, reject) => {
		Kommunicate.startConversation({}, (id, err) => err ? reject(new Error(err.message)) : resolve(id));
	})`)
	frame := `document.getElementById("switchboard-frame").contentDocument`
	b.Wait("the conversation view", frame+`.querySelector(".sb-composer textarea")`, 0)

	// The network drops the widget's read reports until told otherwise.
	b.Eval0(`(() => {
		const w = document.getElementById("switchboard-frame").contentWindow;
		const real = w.fetch.bind(w);
		w.sbDropped = 0;
		w.sbDropReads = true;
		w.fetch = (url, init) => {
			if (w.sbDropReads && String(url).endsWith("/read")) { w.sbDropped++; return Promise.reject(new TypeError("network down")); }
			return real(url, init);
		};
	})()`)
	owner, err := srv.store.AgentByEmail(ctx, config.DefaultAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := srv.store.AppendMessage(ctx, service.DefaultAppID, id, chat.NewMessage{Sender: chat.Sender{Type: chat.SenderAgent, ID: owner.ID}, Text: "Read while the network is down"})
	if err != nil {
		t.Fatal(err)
	}
	b.Wait("the reply in the widget", frame+`.body.textContent.includes("Read while the network is down")`, 0)
	b.Wait("the lost read report", `document.getElementById("switchboard-frame").contentWindow.sbDropped > 0`, 0)

	// The network is back; the contact looks at the conversation again.
	b.Eval0(`document.getElementById("switchboard-frame").contentWindow.sbDropReads = false`)
	b.Eval0(`Kommunicate.close()`)
	b.Eval0(`Kommunicate.open()`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := srv.store.ContactReadSeq(ctx, service.DefaultAppID, id)
		if err != nil {
			t.Fatal(err)
		}
		if got >= m.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server read position %d after the chat was read again, want %d", got, m.Seq)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
